"""textDocument/codeAction and codeAction/resolve: the session's offers as LSP code actions.

Listing is cheap (no model call); the model runs when the editor resolves an action. An action
whose edit failed the checks comes back without an edit, its title and data saying why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.actions import MODEL_EDITS, ActionRequest, Delivery, Offer
from lsp_server.handlers.commands import EXPLAIN, REFACTOR, REWRITE
from lsp_server.handlers.lsp import (
    action_data,
    action_request,
    diagnostic_ref,
    range_in,
    range_to_json,
    workspace_edit,
)

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

KINDS = [types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]
OPTIONS = types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True)


def _command(title: str, request: ActionRequest) -> types.Command:
    if request.name in ("explain", "rewrite"):
        name = EXPLAIN if request.name == "explain" else REWRITE
        argument = {"uri": request.uri, "range": range_to_json(request.range)}
        return types.Command(title=title, command=name, arguments=[argument])
    return types.Command(title=title, command=REFACTOR, arguments=[action_data(request)])


def _code_action(offer: Offer, diagnostics: list[types.Diagnostic]) -> types.CodeAction:
    action = types.CodeAction(title=offer.title, kind=types.CodeActionKind(offer.kind.value))
    if offer.diagnostic is not None:
        action.diagnostics = [diagnostics[offer.diagnostic]]
    if offer.delivery is Delivery.RESOLVE and offer.request is not None:
        action.data = action_data(offer.request)
    elif offer.delivery is Delivery.COMMAND and offer.request is not None:
        action.command = _command(offer.title, offer.request)
    elif offer.delivery is Delivery.EDIT and offer.edit is not None:
        action.edit = workspace_edit(offer.edit)
        action.is_preferred = True
    elif offer.delivery is Delivery.DISABLED:
        action.disabled = types.CodeActionDisabled(reason=offer.disabled)
    return action


async def code_actions(
    ls: EnclaveServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command]:
    uri = params.text_document.uri
    doc = ls.session.documents.get(uri)
    rng = range_in(doc, params.range)
    diagnostics = list(params.context.diagnostics)
    refs = [diagnostic_ref(doc, d) for d in diagnostics]
    only = [str(k) for k in params.context.only] if params.context.only else None
    offers = await ls.session.actions.code_actions(uri, rng, only, refs)
    return [_code_action(offer, diagnostics) for offer in offers]


async def resolve(ls: EnclaveServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    if not isinstance(data, dict) or data.get("enclave") not in MODEL_EDITS:
        return action
    doc = ls.session.documents.get(str(data.get("uri", "")))
    request = action_request(doc, {**data, "uri": doc.uri}, "data.range")
    result = await ls.session.actions.resolve_action(request, action.title)
    if result.edit is None:
        action.title = f"{action.title} (failed: {result.error})"
        action.data = {**data, "error": result.error}
        action.edit = None
    else:
        action.edit = workspace_edit(result.edit)
        action.data = {**data, "target": result.target, "attempts": result.attempts}
    return action
