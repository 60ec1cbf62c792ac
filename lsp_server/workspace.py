"""The workspace side of the session (it owns one `Workspace`): folders added and removed,
indexing in the background with work-done progress, file watchers, files saved or changed on
disk, and keeping what the session holds in line with the ignore rules."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsp_server.port import ProgressBegin
from lsp_server.privacy.ignore import IGNORE_FILE
from lsp_server.privacy.paths import name_of

if TYPE_CHECKING:
    from lsp_server.session import Session

logger = logging.getLogger(__name__)

# Files the index reads (the languages with a query in context/queries).
WATCH_GLOB = "**/*.{py,pyi,ts,mts,cts,tsx,js,mjs,cjs,jsx,go,rs}"
IGNORE_GLOB = f"**/{IGNORE_FILE}"
PROGRESS_INTERVAL_S = 0.25
# The ignore files on disk are re-stat'ed at most this often (before context is gathered), for
# clients that report neither file changes nor saves of them.
RULES_CHECK_S = 1.0


def is_ignore_file(uri: str) -> bool:
    # Any case: on a case-insensitive file system `.ENCLAVEIGNORE` is the same file.
    return name_of(uri).casefold() == IGNORE_FILE


class Workspace:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._rules_seen = session.ignore.generation
        self._rules_checked = 0.0

    # -- folders and indexing ---------------------------------------------------------------

    def start_indexing(self) -> None:
        """Index the workspace in the background (never on the event loop), then ask the
        client to report file changes."""
        session = self._session
        if session.context.roots and session.settings.context.enabled:
            session.context.keep(asyncio.ensure_future(self._index()))

    async def _index(self) -> None:
        session = self._session
        indexed = 0
        begin = ProgressBegin("Enclave: indexing", "scanning the workspace", percentage=0)
        async with session.progress(begin) as progress:
            last = [0.0]

            def report(done: int, total: int) -> None:
                now = time.monotonic()
                if done < total and now - last[0] < PROGRESS_INTERVAL_S:
                    return
                last[0] = now
                progress.report(f"{done}/{total} files", 100 * done // max(total, 1))

            try:
                task = session.context.start_indexing(session.settings.context.maxFiles, report)
                if task is not None:
                    indexed = await task
            except asyncio.CancelledError:
                logger.info("indexing cancelled")
            except Exception:
                logger.exception("indexing failed")
            progress.end_message = f"indexed {indexed} files"
        await self._watch_files()

    async def _watch_files(self) -> None:
        """Ask the client to report file changes (source files, ignore files), when it supports
        dynamic registration (once: the globs cover folders added later)."""
        session = self._session
        if not session.features.dynamic_watched_files or session.context.watching:
            return
        session.context.watching = True
        try:
            await session.client.watch_files([WATCH_GLOB, IGNORE_GLOB])
        except Exception:
            logger.debug("the client refused file watchers")

    def change_folders(self, added: Sequence[str], removed: Sequence[str]) -> None:
        """A removed folder's .enclaveignore rules stay in force (forgetting them could only
        expose more); the prompt anchors go, as their context may come from a removed folder.
        The folders are indexed again."""
        session = self._session
        logger.info("workspace folders: +%s -%s", list(added), list(removed))
        for folder in added:
            session.ignore.add_root(folder)
        session.context.change_roots(added, removed)
        session.completer.anchors.clear()
        self.start_indexing()

    # -- files on disk ----------------------------------------------------------------------

    def file_saved(self, uri: str) -> None:
        if is_ignore_file(uri):
            self._ignore_file_changed()
        self._session.context.on_save(uri)

    async def files_changed(self, changes: Sequence[tuple[str, bool]]) -> None:
        """Files changed on disk (watched): (uri, deleted) each."""
        if any(is_ignore_file(uri) for uri, _ in changes):
            self._ignore_file_changed()
        await self._session.context.on_watched(changes)

    def _ignore_file_changed(self) -> None:
        self._session.ignore.invalidate()
        self._session.in_background(self.check_ignore_rules(stat_files=False))
        self.start_indexing()  # files no longer ignored come back; newly ignored ones go

    async def check_ignore_rules(self, stat_files: bool = True) -> None:
        """Bring what the session holds in line with the ignore rules: with `stat_files`,
        re-stat the ignore files (off the loop, at most every RULES_CHECK_S); when the rules
        changed, drop the prompt anchors and the index entries, recent chunks and similar-code
        windows of files that are now ignored."""
        session = self._session
        now = time.monotonic()
        if stat_files and now - self._rules_checked >= RULES_CHECK_S:
            self._rules_checked = now
            await asyncio.to_thread(session.ignore.refresh)
        if session.ignore.generation == self._rules_seen:
            return
        self._rules_seen = session.ignore.generation
        session.completer.anchors.clear()
        context = session.context
        held = list(context.index.files) + [c.path for c in context.recent.chunks()]
        ignored = session.ignore.is_ignored
        gone = await asyncio.to_thread(lambda: [p for p in held if ignored(p)])
        for path in gone:
            context.index.remove(path)
            context.recent.forget(path)
            context.similar.forget(path)
        if gone:
            logger.info("ignore rules changed: %d files dropped from the context", len(gone))
