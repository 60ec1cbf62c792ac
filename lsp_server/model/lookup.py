"""Prompt-lookup drafts for speculative decoding (issue 22, item 4).

A rewrite copies most of its input. When the last tokens written also occur earlier (in the
prompt or the answer), the tokens that followed them there are a cheap guess of what comes
next: the model checks the whole guess in one decode call and keeps the longest prefix it
agrees with, plus its own next token. Greedy decoding stays greedy: a guessed token is kept
only when it is the model's own choice.
"""

from __future__ import annotations

from collections.abc import Iterable

# Longest and shortest n-gram looked up (longer first: a longer match guesses better), and the
# most tokens guessed at once.
MAX_NGRAM = 3
MIN_NGRAM = 2
DRAFT_TOKENS = 8


class PromptLookup:
    """The tokens so far, with the latest place each n-gram ended, for drafts in O(1)."""

    def __init__(self, tokens: Iterable[int] = ()) -> None:
        self.tokens: list[int] = []
        # n-gram -> the index just after its latest occurrence that had a follower
        self._after: dict[tuple[int, ...], int] = {}
        self.extend(tokens)

    def extend(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            self.tokens.append(token)
            end = len(self.tokens) - 1  # the n-grams ending before `token` have it as follower
            for n in range(MIN_NGRAM, MAX_NGRAM + 1):
                if end >= n:
                    self._after[tuple(self.tokens[end - n : end])] = end

    def draft(self, most: int = DRAFT_TOKENS) -> list[int]:
        """The tokens that followed the latest earlier occurrence of the longest n-gram that
        ends the sequence (at most `most`), or [] when none recurs."""
        for n in range(MAX_NGRAM, MIN_NGRAM - 1, -1):
            if len(self.tokens) < n:
                continue
            at = self._after.get(tuple(self.tokens[-n:]))
            if at is not None:
                return self.tokens[at : at + most]
        return []
