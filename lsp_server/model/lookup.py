"""Prompt-lookup drafts for speculative decoding (issue 22, item 4).

A rewrite copies most of its input. When the last tokens written also occur earlier (in the
prompt or the answer), the tokens that followed them there are a cheap guess of what comes
next: the model checks the whole guess in one decode call and keeps the longest prefix it
agrees with, plus its own next token. Greedy decoding stays greedy: a guessed token is kept
only when it is the model's own choice.

A rewrite also copies in order. The place the last draft came from, moved on by every token
copied since (the cursor), says where in its input the answer is: an occurrence just after
it is a better guess than the latest one (`self.x = ` occurs on many lines), and after a
word the answer changed (a renamed local), one token found again just after the cursor
resumes the copy.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from lsp_server.model.draft_policy import MOST

# Longest and shortest n-gram looked up anywhere (longer first: a longer match guesses
# better). How many tokens to guess at once is the engine's DraftPolicy's to say.
MAX_NGRAM = 3
MIN_NGRAM = 2
# The reach of the cursor: occurrences this far after it (a few before: the copy may step
# back) count as "where the answer is"; a single token is looked up only there.
AHEAD = 48
BEHIND = 4


def next_draft_length(most: int, drafted: int, kept: int, cap: int = MOST) -> int:
    """Guess more after a draft the model took whole, less after one it refused: checking a
    token it refuses costs time. (Within one answer; DraftPolicy learns across answers.)"""
    return min(cap, most * 2) if kept == drafted else max(1, kept)


class PromptLookup:
    """The tokens so far, with every place each n-gram ended, for drafts in O(log n)."""

    def __init__(self, tokens: Iterable[int] = ()) -> None:
        self.tokens: list[int] = []
        # n-gram -> the indexes just after its occurrences that had a follower, ascending
        self._after: dict[tuple[int, ...], list[int]] = {}
        self.cursor: int | None = None  # where the copy is: the last draft's place, moved on
        self.extend(tokens)

    def extend(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            if self.cursor is not None and self.cursor < len(self.tokens):
                # The answer goes on copying: so does the cursor; at a change it stays.
                self.cursor += self.tokens[self.cursor] == token
            self.tokens.append(token)
            end = len(self.tokens) - 1  # the n-grams ending before `token` have it as follower
            for n in range(1, MAX_NGRAM + 1):
                if end >= n:
                    self._after.setdefault(tuple(self.tokens[end - n : end]), []).append(end)

    def _near(self, places: list[int]) -> int | None:
        """The first of `places` within the cursor's reach, if any."""
        if self.cursor is None:
            return None
        i = bisect_left(places, self.cursor - BEHIND)
        return places[i] if i < len(places) and places[i] <= self.cursor + AHEAD else None

    def draft(self, most: int = MOST) -> list[int]:
        """The tokens that followed an earlier occurrence of the longest n-gram that ends the
        sequence (the one nearest after the cursor, else the latest; at most `most`), or []
        when none recurs."""
        for n in range(MAX_NGRAM, 0, -1):
            if len(self.tokens) < n:
                continue
            places = self._after.get(tuple(self.tokens[-n:]))
            if not places:
                continue
            at = self._near(places)
            if at is None:
                if n < MIN_NGRAM:
                    continue
                at = places[-1]
            self.cursor = at
            return self.tokens[at : at + most]
        return []
