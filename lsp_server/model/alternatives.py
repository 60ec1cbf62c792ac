"""Alternatives to the greedy answer, from the same evaluated prompt (issue 21, item 5).

While the greedy answer is generated, each step records the tokens the model ranked next to
the one it chose. An alternative leaves the greedy path at one step, with one of those tokens,
and continues greedily from there: the model's own second choices where it hesitated, at the
cost of the tokens after the branch (the prompt is not evaluated again). Branches are ranked by
the log-probability of the whole path up to and including the branching token.
"""

from __future__ import annotations

import math
from collections.abc import Container, Sequence
from dataclasses import dataclass

# Tokens recorded per step besides the chosen one: more would rarely be among the best branches.
OTHERS_PER_STEP = 3


@dataclass(frozen=True)
class Step:
    """One generated token: its log-probability and the best other tokens' (token, log-prob)."""

    token: int
    logprob: float
    others: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Branch:
    step: int  # index of the greedy token replaced
    token: int
    logprob: float  # of the greedy tokens before `step` and of `token`


def branches(steps: Sequence[Step], n: int, banned: Container[int]) -> list[Branch]:
    """The `n` most likely ways to leave the greedy path, best first. A banned token (end of
    text, a stop token) makes no alternative: it would end the answer, not change it."""
    found: list[Branch] = []
    before = 0.0
    for i, step in enumerate(steps):
        found.extend(
            Branch(i, token, before + logprob)
            for token, logprob in step.others
            if token not in banned and token != step.token and math.isfinite(logprob)
        )
        before += step.logprob
    found.sort(key=lambda b: (-b.logprob, b.step, b.token))
    return found[: max(0, n)]


def top_tokens(logits: object, k: int) -> list[tuple[int, float]]:
    """The `k` most likely tokens of a step, best first, with their log-probabilities, from the
    vocabulary's logits (a numpy array; about 1 ms for 150k tokens)."""
    import numpy as np

    arr = np.asarray(logits, dtype=np.float64)
    peak = float(arr.max())
    log_sum = peak + float(np.log(np.exp(arr - peak).sum()))
    k = min(k, arr.shape[0])
    part = np.argpartition(arr, -k)[-k:]
    best = sorted((int(t) for t in part), key=lambda t: (-arr[t], t))
    return [(t, float(arr[t]) - log_sum) for t in best]
