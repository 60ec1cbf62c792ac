"""Recent chunks: a ring buffer of the regions the user recently edited or looked at (through
`enclave/didFocus`), from which context files are picked (see pack.pick_chunks)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from lsp_server.context.gather.tuning import DEFAULT_TUNING, ContextTuning
from lsp_server.context.index import is_secret


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int  # first line, 0-based
    text: str

    @property
    def end(self) -> int:
        return self.start + self.text.count("\n") + 1

    def line_set(self) -> frozenset[str]:
        return frozenset(s for line in self.text.split("\n") if (s := line.strip()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class RecentChunks:
    """Ring buffer of chunks around recent edits and views; a new chunk replaces those of the
    same file it overlaps and any near-duplicate (line-set Jaccard above the threshold)."""

    def __init__(self, tuning: ContextTuning = DEFAULT_TUNING) -> None:
        self.tuning = tuning
        self._chunks: deque[Chunk] = deque()

    def add(self, path: str, text_lines: Sequence[str], around: int) -> None:
        if not text_lines or is_secret(path):
            return
        size = self.tuning.chunk_lines
        start = max(0, min(around - size // 2, len(text_lines) - size))
        body = "\n".join(text_lines[start : start + size]).rstrip("\n")
        if not body.strip():
            return
        new = Chunk(path, start, body)
        lines = new.line_set()
        kept = [
            c
            for c in self._chunks
            if not (c.path == path and c.start < new.end and new.start < c.end)
            and jaccard(c.line_set(), lines) <= self.tuning.duplicate_jaccard
        ]
        kept.append(new)
        self._chunks = deque(kept[-self.tuning.ring_size :])

    def forget(self, path: str) -> None:
        self._chunks = deque(c for c in self._chunks if c.path != path)

    def chunks(self) -> list[Chunk]:
        """Oldest first."""
        return list(self._chunks)
