"""textDocument/completion for clients without inline completion: the same suggestion as one
item."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.handlers.commands import accepted_command
from lsp_server.handlers.lsp import position_in, to_lsp_position

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer


async def completion(ls: EnclaveServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    pos = position_in(ls.session.documents.get(uri), params.position)
    outcome = await ls.session.complete(uri, pos)
    if not outcome.text:
        return types.CompletionList(is_incomplete=True, items=[])
    first_line = outcome.text.strip().split("\n", 1)[0]
    item = types.CompletionItem(
        label=first_line[:60] or outcome.text[:60],
        kind=types.CompletionItemKind.Text,
        detail="Enclave",
        text_edit=types.TextEdit(
            types.Range(to_lsp_position(pos), to_lsp_position(pos)), outcome.text
        ),
        insert_text_format=types.InsertTextFormat.PlainText,
        filter_text=first_line,
        sort_text="0",
        # Run by the client after inserting the item (local statistics).
        command=accepted_command(outcome.suggestion_id, uri) if outcome.suggestion_id else None,
    )
    # Incomplete: the next keystroke must ask again, the suggestion depends on it.
    return types.CompletionList(is_incomplete=True, items=[item])
