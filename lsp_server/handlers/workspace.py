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

from lsp_server.privacy.ignore import IGNORE_FILE
from lsp_server.privacy.paths import name_of, normalize, uri_path

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)

# Files the index reads (the languages with a query in context/queries).
WATCH_GLOB = "**/*.{py,pyi,ts,mts,cts,tsx,js,mjs,cjs,jsx,go,rs}"
IGNORE_GLOB = f"**/{IGNORE_FILE}"
PROGRESS_INTERVAL_S = 0.25


def _absolute(path: str | None) -> str | None:
    return normalize(path) if path and path.startswith("/") and "\0" not in path else None


def _folder(uri: str | None) -> str | None:
    """The local folder a file URI names (None: another scheme, not absolute)."""
    return _absolute(uri_path(uri)) if uri and uri.lower().startswith("file:") else None


def named_folders(params: types.InitializeParams) -> list[str]:
    """Every folder initialize names, however it names it (workspaceFolders, rootUri,
    rootPath): the ignore rules of each apply."""
    found = [_folder(f.uri) for f in params.workspace_folders or []]
    found += [_folder(params.root_uri), _absolute(params.root_path)]
    return list(dict.fromkeys(f for f in found if f is not None))


def folders_of(params: types.InitializeParams) -> list[str]:
    """The workspace folders to index: workspaceFolders, else rootUri, else rootPath."""
    paths = [p for f in params.workspace_folders or [] if (p := _folder(f.uri)) is not None]
    for fallback in (_folder(params.root_uri), _absolute(params.root_path)):
        if not paths and fallback is not None:
            paths = [fallback]
    return paths


def is_ignore_file(uri: str) -> bool:
    # Any case: on a case-insensitive file system `.ENCLAVEIGNORE` is the same file.
    return name_of(uri).casefold() == IGNORE_FILE


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
    """Ask the client to report file changes (source files, ignore files), when it supports
    dynamic registration (once: the globs cover folders added later)."""
    ws = ls.client_capabilities.workspace
    watched = ws.did_change_watched_files if ws is not None else None
    if watched is None or not watched.dynamic_registration or ls.session.context.watching:
        return
    ls.session.context.watching = True
    registration = types.Registration(
        id=f"enclave-watch-{uuid.uuid4()}",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[
                types.FileSystemWatcher(glob_pattern=WATCH_GLOB),
                types.FileSystemWatcher(glob_pattern=IGNORE_GLOB),
            ]
        ),
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception:
        logger.debug("the client refused file watchers")


def _ignore_file_changed(ls: EnclaveServer) -> None:
    ls.session.ignore_file_changed()
    start_indexing(ls)  # files no longer ignored come back; newly ignored ones are dropped


def did_save(ls: EnclaveServer, params: types.DidSaveTextDocumentParams) -> None:
    if is_ignore_file(params.text_document.uri):
        _ignore_file_changed(ls)
    ls.session.context.on_save(params.text_document.uri)


async def did_change_watched_files(
    ls: EnclaveServer, params: types.DidChangeWatchedFilesParams
) -> None:
    if any(is_ignore_file(c.uri) for c in params.changes):
        _ignore_file_changed(ls)
    await ls.session.context.on_watched(
        [(c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes]
    )


def did_change_workspace_folders(
    ls: EnclaveServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    added = [p for f in params.event.added if (p := _folder(f.uri)) is not None]
    removed = [p for f in params.event.removed if (p := _folder(f.uri)) is not None]
    logger.info("workspace folders: +%s -%s", added, removed)
    ls.session.change_workspace_folders(added, removed)
    start_indexing(ls)
