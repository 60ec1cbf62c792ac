"""How long a prompt-lookup draft should be, learned from the engine's own decode calls.

What a drafted token is worth depends on the machine: a decode call of 9 tokens cost about 2.5
single decodes on one machine and 8 on another (2 AVX2 cores, where llama.cpp's CPU matrix
product takes a slower path from 8 tokens per call: docs/actions.md). A fixed draft length is
right for one kind of machine only. The policy keeps what a call of each size has cost here (a
moving average of seconds) and how often the model kept the k-th drafted token when it had
kept the ones before it; a draft of d tokens then yields, per call, 1 + the expected number of
tokens kept, for cost(d + 1). It picks the d with the most tokens per unit of time, 0 (no
draft) included, so drafts turn off where they lose.
"""

from __future__ import annotations

# The longest draft considered: a call of 13 tokens. A size never measured is assumed to cost
# per extra token the least any measured size did (PRIOR_STEP of a single decode before any):
# optimistic, so a size that may pay is tried, then known.
MOST = 12
PRIOR_STEP = 0.4
# The k-th drafted token's chance of being kept before any is seen: PRIOR_KEPT of PRIOR_SEEN.
PRIOR_SEEN = 4.0
PRIOR_KEPT = 3.0
# Weight of a new measurement in a size's moving average of its cost.
ALPHA = 0.25
# Every EXPLORE calls the policy measures again a size beside its choice (a cost measured on a
# busy moment, or long ago, must not decide forever).
EXPLORE = 64


class DraftPolicy:
    """The draft length for the next decode call. Not thread-safe: one per engine."""

    def __init__(self, most: int = MOST, learn: bool = True) -> None:
        self.most = most
        self.learn = learn  # False: always the longest draft allowed (the benches' fixed caps)
        self.cost: dict[int, float] = {}  # call size (tokens) -> seconds, moving average
        self.seen = [PRIOR_SEEN] * most  # k-th drafted token reached (the ones before kept)
        self.kept = [PRIOR_KEPT] * most
        self.calls = 0

    def record(self, size: int, seconds: float, drafted: int, kept: int) -> None:
        """A decode call of `size` tokens (a draft of `drafted`, `kept` of it kept) took
        `seconds`."""
        self.calls += 1
        old = self.cost.get(size)
        self.cost[size] = seconds if old is None else old + ALPHA * (seconds - old)
        for k in range(min(kept + 1, drafted, self.most)):
            self.seen[k] += 1
            self.kept[k] += k < kept

    def relative_cost(self, size: int) -> float:
        """A call of `size` tokens against a single token's, measured or assumed."""
        single = self.cost[1]
        measured = self.cost.get(size)
        if measured is not None:
            return measured / single
        steps = [(c / single - 1) / (s - 1) for s, c in self.cost.items() if s > 1]
        return 1 + max(0.0, min(steps, default=PRIOR_STEP)) * (size - 1)

    def worth(self, drafted: int) -> float:
        """Expected tokens per single decode's time with a draft of `drafted` tokens."""
        expected, chance = 1.0, 1.0
        for k in range(drafted):
            chance *= self.kept[k] / self.seen[k]
            expected += chance
        return expected / self.relative_cost(drafted + 1)

    def length(self, limit: int) -> int:
        """The draft length for the next call, at most `limit` (the room left, the lookup's
        own adaptation)."""
        limit = max(0, min(limit, self.most))
        if not self.learn:
            return limit
        if 1 not in self.cost:
            return 0  # a single decode first: every other size is measured against it
        best = max(range(limit + 1), key=lambda d: (self.worth(d), -d))
        if self.calls % EXPLORE == EXPLORE - 1:
            # Alternately a single decode and one token more than the choice.
            return 0 if (self.calls // EXPLORE) % 2 else min(best + 1, limit)
        return best
