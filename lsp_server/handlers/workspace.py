"""The workspace index: its folders from initialize (and workspace/didChangeWorkspaceFolders),
background indexing with work-done progress, and updates from textDocument/didSave and
workspace/didChangeWatchedFiles."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.context.paths import path_of

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)

# Files the index reads (the languages with a query in context/queries).
WATCH_GLOB = "**/*.{py,pyi,ts,mts,cts,tsx,js,mjs,cjs,jsx,go,rs}"
PROGRESS_INTERVAL_S = 0.25


def folders_of(params: types.InitializeParams) -> list[str]:
    """Workspace folder paths from initialize (workspaceFolders, else rootUri / rootPath)."""
    uris = [f.uri for f in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    paths = [path_of(u) for u in uris if u.startswith("file:")]
    if not paths and params.root_path:
        paths = [params.root_path]
    return paths


def start_indexing(ls: EnclaveServer) -> None:
    """Index the workspace in the background (never on the event loop)."""
    if ls.session.context.roots and ls.session.settings.context.enabled:
        task = asyncio.ensure_future(_index(ls))
        ls.session.context.keep(task)


async def _index(ls: EnclaveServer) -> None:
    context = ls.session.context
    token: str | None = None
    window = ls.client_capabilities.window
    if window is not None and window.work_done_progress:
        token = f"enclave-index-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
            ls.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title="Enclave: indexing", message="scanning the workspace", percentage=0
                ),
            )
        except Exception:  # the client may refuse; indexing goes on regardless
            token = None
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if token is None or (done < total and now - last[0] < PROGRESS_INTERVAL_S):
            return
        last[0] = now
        ls.work_done_progress.report(
            token,
            types.WorkDoneProgressReport(
                message=f"{done}/{total} files", percentage=100 * done // max(total, 1)
            ),
        )

    indexed = 0
    try:
        task = context.start_indexing(ls.session.settings.context.maxFiles, progress)
        if task is not None:
            indexed = await task
    except asyncio.CancelledError:
        logger.info("indexing cancelled")
    except Exception:
        logger.exception("indexing failed")
    finally:
        if token is not None:
            ls.work_done_progress.end(
                token, types.WorkDoneProgressEnd(message=f"indexed {indexed} files")
            )
    await _watch_files(ls)


async def _watch_files(ls: EnclaveServer) -> None:
    """Ask the client to report file changes, when it supports dynamic registration (once:
    the glob covers folders added later)."""
    ws = ls.client_capabilities.workspace
    watched = ws.did_change_watched_files if ws is not None else None
    if watched is None or not watched.dynamic_registration or ls.session.context.watching:
        return
    ls.session.context.watching = True
    registration = types.Registration(
        id=f"enclave-watch-{uuid.uuid4()}",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=WATCH_GLOB)]
        ),
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception:
        logger.debug("the client refused file watchers")


def did_save(ls: EnclaveServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.session.context.on_save(params.text_document.uri)


async def did_change_watched_files(
    ls: EnclaveServer, params: types.DidChangeWatchedFilesParams
) -> None:
    await ls.session.context.on_watched(
        [(c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes]
    )


def did_change_workspace_folders(
    ls: EnclaveServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    added = [path_of(f.uri) for f in params.event.added if f.uri.startswith("file:")]
    removed = [path_of(f.uri) for f in params.event.removed if f.uri.startswith("file:")]
    logger.info("workspace folders: +%s -%s", added, removed)
    ls.session.change_workspace_folders(added, removed)
    start_indexing(ls)
