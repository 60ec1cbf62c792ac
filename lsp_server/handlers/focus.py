"""enclave/didFocus: the editor shows a document with the cursor at a position.

LSP says nothing about the cursor until the first request, so a newly opened or focused file
would start cold. Enclave's clients send this (debounced) when the active editor or its
cursor settles; the session warms the prompt there in idle time."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsp_server.errors import DocumentError
from lsp_server.handlers.lsp import field_of, position_in

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)

FOCUS_NOTIFICATION = "enclave/didFocus"


def did_focus(ls: EnclaveServer, params: Any) -> None:
    uri = field_of(field_of(params, "textDocument"), "uri")
    pos = field_of(params, "position")
    if not isinstance(uri, str) or pos is None:
        raise DocumentError(
            f"{FOCUS_NOTIFICATION} needs {{textDocument: {{uri}}, position: {{line, character}}}}"
        )
    if uri not in ls.session.documents:
        logger.debug("focus on %s, which is not open", uri)
        return
    ls.session.focus(uri, position_in(ls.session.documents.get(uri), pos))
