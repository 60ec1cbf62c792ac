"""textDocument/didSave, workspace/didChangeWatchedFiles, workspace/didChangeWorkspaceFolders:
the session's workspace (lsp_server/workspace.py) keeps the index and the ignore rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.handlers.lsp import folder_of

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer


def did_save(ls: EnclaveServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.session.workspace.file_saved(params.text_document.uri)


async def did_change_watched_files(
    ls: EnclaveServer, params: types.DidChangeWatchedFilesParams
) -> None:
    changes = [(c.uri, c.type == types.FileChangeType.Deleted) for c in params.changes]
    await ls.session.workspace.files_changed(changes)


def did_change_workspace_folders(
    ls: EnclaveServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    added = [p for f in params.event.added if (p := folder_of(f.uri)) is not None]
    removed = [p for f in params.event.removed if (p := folder_of(f.uri)) is not None]
    ls.session.workspace.change_folders(added, removed)
