"""textDocument/inlineCompletion (LSP 3.18)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.handlers.commands import accepted_command
from lsp_server.handlers.lsp import position_in, to_lsp_position

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer


async def inline_completion(
    ls: EnclaveServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    uri = params.text_document.uri
    pos = position_in(ls.session.documents.get(uri), params.position)
    outcome = await ls.session.complete(uri, pos)
    if not outcome.text:
        return types.InlineCompletionList(items=[])
    here = types.Range(to_lsp_position(pos), to_lsp_position(pos))
    # The client runs the command when the user accepts the item (local statistics).
    command = accepted_command(outcome.suggestion_id, uri) if outcome.suggestion_id else None
    item = types.InlineCompletionItem(insert_text=outcome.text, range=here, command=command)
    return types.InlineCompletionList(items=[item])
