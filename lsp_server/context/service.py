"""The session's context service: the workspace index, the recent chunks and the similar-code
cache, kept up to date from document events and the file system, and `gather` for the
completer (see lsp_server/context/gather/)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from lsp_server.context.documents import DocumentSnapshot, DocumentStore, TextChange
from lsp_server.context.gather.pipeline import GatheredContext, gather
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.similar import OpenText, SimilarCode
from lsp_server.context.gather.tuning import DEFAULT_TUNING, ContextTuning
from lsp_server.context.index import Progress, WorkspaceIndex, is_secret
from lsp_server.context.paths import path_of
from lsp_server.settings import ContextSettings

logger = logging.getLogger(__name__)


class ContextService:
    """Holds the workspace index and the recent chunks, keeps them up to date from document
    events and the file system, and gathers context for the completer."""

    def __init__(
        self,
        documents: DocumentStore,
        enabled: Callable[[], bool],
        extra_ignored: Callable[[str], bool] | None = None,
        time_budget_ms: Callable[[], int] = lambda: ContextSettings().timeBudgetMs,
        tuning: ContextTuning = DEFAULT_TUNING,
    ) -> None:
        self.documents = documents
        self.tuning = tuning
        self.enabled = enabled
        self.time_budget_ms = time_budget_ms
        self.extra_ignored = extra_ignored
        self.index = WorkspaceIndex()
        self.recent = RecentChunks(tuning)
        self.similar = SimilarCode(tuning)
        self.roots: list[str] = []
        self.last_gather_ms = 0.0
        self._dirty: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.indexing: asyncio.Task[int] | None = None
        self.watching = False  # the client reports file changes (registered once)

    def set_roots(self, roots: Sequence[str]) -> None:
        self.roots = list(dict.fromkeys(roots))
        self.index.roots = [Path(r) for r in self.roots]

    def change_roots(self, added: Sequence[str], removed: Sequence[str]) -> None:
        """Workspace folders added or removed: the files of a removed folder leave the index
        and the recent chunks (unless another folder still holds them); the caller indexes
        again."""
        roots = [r for r in self.roots if r not in removed] + list(added)
        self.set_roots(roots)
        kept = [Path(r) for r in roots]
        for folder in removed:
            for path in [p for p in self.index.files if Path(p).is_relative_to(folder)]:
                if not any(Path(path).is_relative_to(r) for r in kept):
                    self.index.remove(path)
                    self.recent.forget(path)
                    self.similar.forget(path)

    def start_indexing(
        self, max_files: int, progress: Progress | None = None
    ) -> asyncio.Task[int] | None:
        if not self.roots or not self.enabled():
            return None
        if self.indexing is not None and not self.indexing.done():
            self.indexing.cancel()
        self.indexing = asyncio.ensure_future(
            self.index.build([Path(r) for r in self.roots], max_files, self.extra_ignored, progress)
        )
        return self.indexing

    def _ignored(self, path: str) -> bool:
        return is_secret(path) or (self.extra_ignored is not None and self.extra_ignored(path))

    # -- document events (on the loop; cheap) --

    def on_open(self, uri: str) -> None:
        # No chunk: an opened file's first lines are mostly imports, which share names with
        # any cursor and crowd out what matters; where the user looks comes with didFocus.
        if uri in self.documents and not self._ignored(path_of(uri)):
            self._mark_dirty(uri)

    def on_focus(self, uri: str, line: int) -> None:
        """The editor shows `uri` around `line` (enclave/didFocus): a recently viewed chunk."""
        path = path_of(uri)
        if uri in self.documents and not self._ignored(path):
            self.recent.add(path, self.documents.get(uri).text.split("\n"), line)

    def on_change(self, uri: str, changes: Sequence[TextChange]) -> None:
        path = path_of(uri)
        if self._ignored(path):
            return
        if not changes:  # closed: what is on disk is the truth again
            self._spawn(self.index.update_from_disk(path))
            return
        if uri not in self.documents:
            return
        doc = self.documents.get(uri)
        last = changes[-1]
        line = last.range.start.line if last.range is not None else 0
        self.recent.add(path, doc.text.split("\n"), line)
        self._mark_dirty(uri)

    def on_save(self, uri: str) -> None:
        self._dirty.add(uri)
        self._flush()

    async def on_watched(self, changes: Sequence[tuple[str, bool]]) -> None:
        """(uri, deleted) per changed file on disk; open documents are left to their events."""
        for uri, deleted in changes:
            path = path_of(uri)
            if deleted:
                self.index.remove(path)
                self.recent.forget(path)
                self.similar.forget(path)
            elif uri not in self.documents and not self._ignored(path):
                await self.index.update_from_disk(path)

    def _mark_dirty(self, uri: str) -> None:
        self._dirty.add(uri)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.tuning.reindex_delay_s, self._flush)

    def _flush(self) -> None:
        """Re-extract the dirty open documents from their existing trees (no re-parse)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dirty, self._dirty = self._dirty, set()
        for uri in sorted(dirty):
            if uri not in self.documents:
                continue
            doc = self.documents.get(uri)
            if doc.tree is not None and doc.language is not None:
                self.index.update_from_tree(path_of(uri), doc.tree, doc.text, doc.language)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self.keep(asyncio.ensure_future(work))

    def keep(self, task: asyncio.Future[None]) -> None:
        """Hold a background task until it is done."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats(self) -> dict[str, Any]:
        """Figures for enclave/getStatus."""
        return {
            "roots": self.roots,
            "building": self.index.building,
            "files": len(self.index.files),
            "buildMs": round(self.index.build_ms, 1),
            "recentChunks": len(self.recent.chunks()),
            "lastGatherMs": round(self.last_gather_ms, 2),
        }

    # -- gathering --

    def _open_text(self) -> OpenText:
        """The open documents' (version, text) by path, as they are now."""
        texts: dict[str, tuple[int, str]] = {}
        for uri in self.documents.uris():
            doc = self.documents.get(uri)
            texts[path_of(uri)] = (doc.version, doc.text)
        return texts.get

    async def gather(
        self, snap: DocumentSnapshot, offset: int, budget_tokens: int
    ) -> GatheredContext:
        """Context for a completion at `offset` of `snap`. The search runs in a thread (its
        cost grows with the workspace) with a time budget that a busy machine does not reach,
        so the context, and the answer, do not depend on the machine's load."""
        if not self.enabled() or budget_tokens <= 0:
            return GatheredContext()
        open_text = self._open_text()  # read on the event loop, which changes them
        try:
            result = await asyncio.to_thread(self._search, snap, offset, budget_tokens, open_text)
        except Exception:  # context is a bonus: never fail a completion for it
            logger.exception("gathering context failed")
            return GatheredContext()
        self.last_gather_ms = result.elapsed_ms
        return result

    def _search(
        self, snap: DocumentSnapshot, offset: int, budget_tokens: int, open_text: OpenText
    ) -> GatheredContext:
        # The event loop changes the index between two searches, never during one.
        with self.index.lock:
            return gather(
                snap,
                offset,
                self.index,
                self.recent,
                budget_tokens,
                self.time_budget_ms() / 1000,
                self.similar,
                open_text,
                self.tuning,
            )
