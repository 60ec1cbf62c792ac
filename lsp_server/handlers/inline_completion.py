"""textDocument/inlineCompletion (LSP 3.18)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.context.documents import Position

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer


async def inline_completion(
    ls: EnclaveServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    pos = Position(params.position.line, params.position.character)
    outcome = await ls.session.complete(params.text_document.uri, pos)
    if not outcome.text:
        return types.InlineCompletionList(items=[])
    here = types.Range(params.position, params.position)
    return types.InlineCompletionList(
        items=[types.InlineCompletionItem(insert_text=outcome.text, range=here)]
    )
