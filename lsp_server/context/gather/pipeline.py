"""Repository context for a completion: definitions of the symbols used near the cursor and
imported by the file (resolved through the workspace index), code like the lines above the
cursor, and chunks of recently edited or viewed files, within a token budget and a time
budget.

The result is a deterministic tuple of (path, content) pairs, least relevant first, which the
prompt renders as other files of the repository before the current one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.gather.choose import choose
from lsp_server.context.gather.names import names_for
from lsp_server.context.gather.pack import Budget, ContextFiles, fit_snippet, pick_chunks
from lsp_server.context.gather.rank import rank_definitions
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.render import render_files
from lsp_server.context.gather.similar import OpenText, SimilarCode, similar_to_cursor
from lsp_server.context.gather.tuning import DEFAULT_TUNING, ContextTuning
from lsp_server.context.index import FileEntry, WorkspaceIndex, extract
from lsp_server.context.paths import path_of
from lsp_server.settings import ContextSettings

DEFAULT_TIME_BUDGET_S = ContextSettings().timeBudgetMs / 1000


@dataclass(frozen=True)
class GatheredContext:
    files: tuple[tuple[str, str], ...] = ()  # (path, content), least relevant first
    path: str = ""  # the current file's path relative to its workspace folder
    repo: str = ""  # the workspace folder's name
    elapsed_ms: float = 0.0


def gather(
    snap: DocumentSnapshot,
    offset: int,
    index: WorkspaceIndex,
    recent: RecentChunks,
    budget_tokens: int,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
    similar: SimilarCode | None = None,
    open_text: OpenText | None = None,
    tuning: ContextTuning = DEFAULT_TUNING,
) -> GatheredContext:
    """Context files for a completion at `offset`, within `budget_tokens` and `time_budget_s`
    (what was gathered by then is used); with `similar`, first the code most like the lines
    above the cursor (at most part of the budget, and a time budget as long again). `recent`
    and `similar` keep their own tuning: give them this one (ContextService does)."""
    t0 = time.monotonic()
    deadline = t0 + time_budget_s
    budget = Budget(budget_tokens * tuning.chars_per_token)
    current = path_of(snap.uri)
    repo, rel = index.relative(current) or ("", "")
    if budget.chars <= 0:
        return GatheredContext((), rel, repo)
    entry = current_entry(snap, index, current, rel)

    snippet: ContextFiles = []
    if similar is not None:
        also = [c.path for c in recent.chunks()]
        found = similar_to_cursor(
            snap, offset, current, entry, index, also, similar, deadline, open_text
        )
        snippet = fit_snippet(found, index, budget, tuning)
        deadline = time.monotonic() + time_budget_s  # the rest has a time budget of its own
    # The share is spent in this order: the snippet, the definitions, the recent chunks.
    names = names_for(snap, offset, entry, index, tuning)
    ranked = rank_definitions(names, entry, index, current, deadline, tuning)
    definitions = render_files(choose(ranked, index, budget, tuning))
    chunks = pick_chunks(recent, current, names.near, index, budget, deadline, tuning)

    elapsed = (time.monotonic() - t0) * 1000
    # Most relevant last, next to the current file.
    return GatheredContext(tuple(chunks + definitions + snippet), rel, repo, elapsed)


def current_entry(
    snap: DocumentSnapshot, index: WorkspaceIndex, current: str, rel: str
) -> FileEntry | None:
    """The current file as the index holds it, else extracted from the document's tree."""
    entry = index.entry(current)
    if entry is None and snap.tree is not None and snap.language is not None:
        entry = extract(snap.tree, snap.text.encode("utf-8"), snap.language, current, rel)
    return entry
