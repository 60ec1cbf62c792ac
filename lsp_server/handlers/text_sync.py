"""textDocument/didOpen, didChange, didClose: keep the session's documents in step."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.context.documents import Position, Range, TextChange
from lsp_server.errors import DocumentError

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)


def to_range(r: types.Range) -> Range:
    return Range(Position(r.start.line, r.start.character), Position(r.end.line, r.end.character))


def did_open(ls: EnclaveServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = params.text_document
    ls.session.documents.open(doc.uri, doc.language_id, doc.version, doc.text)
    ls.session.context.on_open(doc.uri)


def did_change(ls: EnclaveServer, params: types.DidChangeTextDocumentParams) -> None:
    changes = [
        TextChange(
            to_range(c.range) if isinstance(c, types.TextDocumentContentChangePartial) else None,
            c.text,
        )
        for c in params.content_changes
    ]
    try:
        ls.session.change_document(params.text_document.uri, params.text_document.version, changes)
    except DocumentError as exc:
        # A notification has no answer; say it in the log and in the status, never silently.
        logger.warning("document change rejected: %s", exc)
        ls.session.report_empty(f"document out of sync: {exc}")


def did_close(ls: EnclaveServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.session.close_document(params.text_document.uri)
