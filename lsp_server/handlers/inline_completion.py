"""textDocument/inlineCompletion (LSP 3.18)."""

from __future__ import annotations

import itertools
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
    # Invoked: the user asked (a key, the next-suggestion key): offer alternatives to cycle.
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    outcome = await ls.session.complete(uri, pos, invoked)
    if not outcome.text:
        return types.InlineCompletionList(items=[])
    here = types.Range(to_lsp_position(pos), to_lsp_position(pos))
    texts = (outcome.text, *outcome.alternatives)
    ids = (outcome.suggestion_id, *outcome.alternative_ids)
    # The client runs an item's command when the user accepts it (local statistics).
    items = [
        types.InlineCompletionItem(
            insert_text=text,
            range=here,
            command=accepted_command(ident, uri) if ident else None,
        )
        for text, ident in itertools.zip_longest(texts, ids[: len(texts)], fillvalue="")
    ]
    return types.InlineCompletionList(items=items)
