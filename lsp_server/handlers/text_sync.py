"""textDocument/didOpen, didChange, didClose: keep the session's documents in step."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.context.documents import TextChange
from lsp_server.errors import DocumentError, OutOfSync
from lsp_server.handlers.lsp import edit_range

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)


def did_open(ls: EnclaveServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.session.open_document(doc.uri, doc.language_id, doc.version, doc.text)


def did_change(ls: EnclaveServer, params: types.DidChangeTextDocumentParams) -> None:
    changes = [
        TextChange(
            edit_range(c.range) if isinstance(c, types.TextDocumentContentChangePartial) else None,
            c.text,
        )
        for c in params.content_changes
    ]
    try:
        ls.session.change_document(params.text_document.uri, params.text_document.version, changes)
    except DocumentError as exc:
        # A notification has no answer; say it in the log and in the status, never silently.
        # (Changes to a document already out of sync are expected until the repair.)
        log = logger.debug if isinstance(exc, OutOfSync) else logger.warning
        log("document change rejected: %s", exc)
        ls.session.report_empty(f"document out of sync: {exc}")


def did_close(ls: EnclaveServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.session.close_document(params.text_document.uri)
