"""The draft length learned from the engine's own decode calls (model/draft_policy.py): on any
machine (what a call of each size costs) and any answer (how much of a draft the model keeps),
it must write about as many tokens per second as the best fixed length would, and turn drafts
off where they lose."""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.model.draft_policy import EXPLORE, MOST, DraftPolicy

Cost = Callable[[int], float]


def machine(step: float, jump_at: int = 99, jump: float = 1.0) -> Cost:
    """Seconds for a decode call of `size` tokens: 1 for one token, `step` per extra token, and
    `jump` times that from `jump_at` tokens on (llama.cpp's CPU path from 8 tokens)."""
    return lambda size: (1 + step * (size - 1)) * (jump if size >= jump_at else 1.0)


def expected(cost: Cost, kept: float, drafted: int) -> float:
    """Tokens per second of a fixed draft length, each drafted token kept with `kept` once
    the ones before it were."""
    return sum(kept**k for k in range(drafted + 1)) / cost(drafted + 1)


def run(policy: DraftPolicy, cost: Cost, kept: float, calls: int, seed: int) -> float:
    """Tokens per second over `calls` decode calls chosen by `policy`."""
    rng = random.Random(seed)
    tokens, seconds = 0, 0.0
    for _ in range(calls):
        drafted = policy.length(MOST)
        taken = 0
        while taken < drafted and rng.random() < kept:
            taken += 1
        policy.record(drafted + 1, cost(drafted + 1), drafted, taken)
        tokens += taken + 1
        seconds += cost(drafted + 1)
    return tokens / seconds


def test_a_single_decode_is_measured_first() -> None:
    policy = DraftPolicy()
    assert policy.length(MOST) == 0
    policy.record(1, 0.05, 0, 0)
    assert policy.length(MOST) > 0  # the prior: drafts are worth trying
    assert policy.length(3) <= 3
    assert policy.length(0) == 0


def test_a_fixed_policy_drafts_the_longest_allowed() -> None:
    policy = DraftPolicy(6, learn=False)
    assert policy.length(MOST) == 6
    assert policy.length(4) == 4
    policy.record(7, 100.0, 6, 0)
    assert policy.length(MOST) == 6


def test_cheap_extra_tokens_and_copied_answers_draft_long() -> None:
    policy = DraftPolicy()
    run(policy, machine(0.1), 0.95, 400, seed=1)
    assert policy.length(MOST) >= 8


def test_drafts_turn_off_where_they_lose() -> None:
    # Each extra token costs a whole decode and half the drafted tokens are refused.
    policy = DraftPolicy()
    run(policy, machine(1.0), 0.5, 400, seed=2)
    assert policy.length(MOST) == 0
    # ... and are measured again now and then: a cost measured once does not decide forever.
    lengths = {policy.length(MOST) for _ in range(1)}
    for _ in range(EXPLORE * 2):
        lengths.add(policy.length(MOST))
        policy.record(1, 1.0, 0, 0)
    assert lengths == {0, 1}


def test_the_step_at_eight_tokens_is_avoided() -> None:
    # This machine (docs/actions.md): 0.6 of a decode per extra token, 8 tokens cost as 13.
    cost = machine(0.6, jump_at=8, jump=8.5 / 5.2)
    policy = DraftPolicy()
    run(policy, cost, 0.95, 600, seed=3)
    assert 1 <= policy.length(MOST) <= 6


@settings(max_examples=30, deadline=None)
@given(
    step=st.floats(0.05, 1.2),
    jump_at=st.integers(3, 14),
    jump=st.floats(1.0, 2.5),
    kept=st.floats(0.2, 0.98),
    seed=st.integers(0, 1000),
)
def test_as_fast_as_the_best_fixed_length(
    step: float, jump_at: int, jump: float, kept: float, seed: int
) -> None:
    cost = machine(step, jump_at, jump)
    best = max(expected(cost, kept, d) for d in range(MOST + 1))
    learned = run(DraftPolicy(), cost, kept, 1500, seed)
    # Learning and exploring cost a little; sampling noise the rest.
    assert learned >= 0.9 * best
