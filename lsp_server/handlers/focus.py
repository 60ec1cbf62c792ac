"""enclave/didFocus: the editor shows a document with the cursor at a position.

LSP says nothing about the cursor until the first request, so a newly opened or focused file
would start cold. Enclave's clients send this (debounced) when the active editor or its
cursor settles; the session warms the prompt there in idle time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsp_server.context.documents import Position
from lsp_server.errors import DocumentError

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

FOCUS_NOTIFICATION = "enclave/didFocus"


def _field(obj: Any, name: str) -> Any:
    # Params of a method lsprotocol does not know arrive as dicts or attribute objects.
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def did_focus(ls: EnclaveServer, params: Any) -> None:
    uri = _field(_field(params, "textDocument"), "uri")
    pos = _field(params, "position")
    line, character = _field(pos, "line"), _field(pos, "character")
    if not isinstance(uri, str) or not isinstance(line, int) or not isinstance(character, int):
        raise DocumentError(
            f"{FOCUS_NOTIFICATION} needs {{textDocument: {{uri}}, position: {{line, character}}}}"
        )
    ls.session.focus(uri, Position(line, character))
