"""RE2 patterns over UTF-8 bytes: linear time whatever the pattern or the text (no
backtracking), Go syntax as gitleaks writes it, and the GIL released while RE2 matches.

A thin typed layer over the google-re2 binding (pinned in pyproject.toml) that calls RE2's
Match directly: the binding's Python match objects cost more than most matches, and a scan
of adversarial text can have tens of thousands of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import re2  # type: ignore[import-untyped]

Span = tuple[int, int]

_RE2: Any = re2._re2.RE2
_UNANCHORED = _RE2.Anchor.UNANCHORED
_START = _RE2.Anchor.ANCHOR_START
_BOTH = _RE2.Anchor.ANCHOR_BOTH
# Memory for one pattern's automata; gitleaks' largest rules need far less.
MAX_MEM = 64 << 20


def _options(case_sensitive: bool = True) -> Any:
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.case_sensitive = case_sensitive
    return options


class Pattern:
    """One compiled RE2 pattern. Offsets are byte offsets; `pos` is where matching starts
    (`\\A` and `^` still mean the start of `data`)."""

    __slots__ = ("_re", "groups", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._re = _RE2(pattern.encode(), _options())
        if not self._re.ok():
            raise ValueError(f"bad pattern {pattern!r}: {self._re.error()}")
        self.groups: int = self._re.NumberOfCapturingGroups()

    def _first(self, anchor: Any, data: bytes, pos: int) -> list[Span] | None:
        spans: list[Span] = self._re.Match(anchor, data, pos, len(data))
        return None if spans[0][0] < 0 else spans

    def search(self, data: bytes, pos: int = 0) -> list[Span] | None:
        """The spans of the groups (0: the whole match) of the first match, or None."""
        return self._first(_UNANCHORED, data, pos)

    def match(self, data: bytes, pos: int = 0) -> list[Span] | None:
        """As search, with the match starting at `pos`."""
        return self._first(_START, data, pos)

    def fullmatch(self, data: bytes) -> bool:
        return self._first(_BOTH, data, 0) is not None

    def finditer(self, data: bytes) -> Iterator[list[Span]]:
        """The group spans of each non-overlapping match, left to right."""
        pos = 0
        while pos <= len(data):
            spans = self._first(_UNANCHORED, data, pos)
            if spans is None:
                return
            yield spans
            start, end = spans[0]
            pos = end if end > start else end + 1  # past an empty match


def alternation(words: Iterable[str]) -> Pattern:
    """One pattern matching any of `words` (literals) anywhere."""
    return Pattern("|".join(re2.escape(w) for w in sorted(set(words))))


class KeywordSet:
    """Which of many literals occur in a text, case-insensitively, in one pass."""

    def __init__(self, words: Iterable[str]) -> None:
        self._set = re2.Set.SearchSet(_options(case_sensitive=False))
        for word in words:
            self._set.Add(re2.escape(word))
        self._set.Compile()

    def found(self, data: bytes) -> set[int]:
        """The indexes (in the order given) of the words found in `data`."""
        return set(self._set.Match(data) or ())
