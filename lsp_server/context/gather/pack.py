"""Packing the share: the budget in characters, and what fits it of the similar-code snippet
(first) and of the recent chunks (last; the definitions in between: choose.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from lsp_server.context.gather.names import WORD
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.similar import Snippet
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import WorkspaceIndex

ContextFiles = list[tuple[str, str]]  # (path, content)


@dataclass
class Budget:
    """The share in characters (see ContextTuning.chars_per_token) and what is spent of it."""

    chars: int
    used: int = 0

    def fits(self, cost: int) -> bool:
        return self.used + cost <= self.chars

    def spend(self, cost: int) -> None:
        self.used += cost


def shown_path(path: str, index: WorkspaceIndex) -> str:
    """A file's name in the prompt: relative to its workspace folder, else its base name."""
    where = index.relative(path)
    return where[1] if where is not None else PurePosixPath(path).name


def fit_snippet(
    found: Snippet | None, index: WorkspaceIndex, budget: Budget, tuning: ContextTuning
) -> ContextFiles:
    """The similar code, its last lines cut to at most 1/`similar_share_part` of the share."""
    if found is None:
        return []
    name = shown_path(found.path, index)
    overhead = len(name) + tuning.entry_overhead_chars
    text, room = found.text, budget.chars // tuning.similar_share_part - overhead
    while len(text) > room and "\n" in text:
        text = text.rsplit("\n", 1)[0]
    if len(text) > room:
        return []
    budget.spend(len(text) + overhead)
    return [(name, text + "\n")]


def pick_chunks(
    recent: RecentChunks,
    current: str,
    near: dict[str, int],
    index: WorkspaceIndex,
    budget: Budget,
    deadline: float,
    tuning: ContextTuning,
) -> ContextFiles:
    """The recent chunks of other files that fit what is left of the share, newest first
    while budgeting, oldest first in the result. Only chunks that talk about what is near the
    cursor: an unrelated recent file is noise the model may copy (measured: docs/context.md)."""
    out: ContextFiles = []
    for chunk in reversed(recent.chunks()):
        if time.monotonic() > deadline:
            break
        if chunk.path == current:
            continue
        if len(near.keys() & set(WORD.findall(chunk.text))) < tuning.min_shared_names:
            continue
        cost = len(chunk.text) + tuning.entry_overhead_chars
        if not budget.fits(cost):
            continue
        out.append((shown_path(chunk.path, index), chunk.text + "\n"))
        budget.spend(cost)
    out.reverse()
    return out
