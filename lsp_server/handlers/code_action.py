"""textDocument/codeAction and codeAction/resolve: Enclave's explain, refactor and fix actions.

Listing is cheap (no model call); the model runs when the editor resolves an action. An action
whose edit failed the checks comes back without an edit, its title and data saying why."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.errors import EnclaveError, IgnoredDocument, OutOfSync
from lsp_server.features import refactor as refactor_feature
from lsp_server.features.edits import EditRejected, definition_at
from lsp_server.features.review import fix_edit
from lsp_server.handlers.commands import (
    EXPLAIN,
    REFACTOR,
    REWRITE,
    SOURCE,
    generator,
    model_family,
    show,
    workspace_edit,
)
from lsp_server.handlers.positions import range_in, range_to_json
from lsp_server.prompts.actions import spec

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)

EXPLAIN_KIND = types.CodeActionKind.Empty
KINDS = [types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]
OPTIONS = types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True)
MAX_TITLE_MESSAGE = 50


def _wanted(kind: str, only: list[str] | None) -> bool:
    if not only:
        return True
    return any(kind == o or kind.startswith(o + ".") or o == "" for o in only)


def resolves_edits(ls: EnclaveServer) -> bool:
    """Whether the client fills in a code action's edit through codeAction/resolve. Clients that
    cannot (Eglot 1.9, for one) get the model-backed actions as enclave.lsp.refactor commands."""
    doc = ls.client_capabilities.text_document
    support = doc.code_action.resolve_support if doc and doc.code_action else None
    return support is not None and "edit" in support.properties


def _lazy(ls: EnclaveServer, action: types.CodeAction, data: dict[str, Any]) -> types.CodeAction:
    """An action whose edit the model makes when it is chosen."""
    if resolves_edits(ls):
        action.data = data
    else:
        action.command = types.Command(title=action.title, command=REFACTOR, arguments=[data])
    return action


def code_actions(
    ls: EnclaveServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command]:
    uri = params.text_document.uri
    try:
        snap = ls.session.model_snapshot(uri)
    except (IgnoredDocument, OutOfSync):
        return []  # the status says why
    rng = range_in(snap, params.range)
    only = [str(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction | types.Command] = []
    start, end = snap.offset_at(rng.start), snap.offset_at(rng.end)
    has_target = start != end or definition_at(snap, start, end) is not None
    where = {"uri": uri, "version": snap.version, "range": range_to_json(rng)}
    if has_target and only is None:
        title = spec("explain").title
        actions.append(
            types.CodeAction(
                title=title,
                kind=EXPLAIN_KIND,
                command=types.Command(
                    title=title, command=EXPLAIN, arguments=[{"uri": uri, "range": where["range"]}]
                ),
            )
        )
    if has_target and _wanted(types.CodeActionKind.RefactorRewrite, only):
        for name in refactor_feature.REFACTORS:
            action = types.CodeAction(
                title=spec(name).title, kind=types.CodeActionKind.RefactorRewrite
            )
            actions.append(_lazy(ls, action, {"enclave": name, **where}))
        title = spec("rewrite").title
        actions.append(
            types.CodeAction(
                title=title,
                kind=types.CodeActionKind.RefactorRewrite,
                command=types.Command(
                    title=title, command=REWRITE, arguments=[{"uri": uri, "range": where["range"]}]
                ),
            )
        )
    if _wanted(types.CodeActionKind.QuickFix, only):
        for diag in params.context.diagnostics:
            fix = _quick_fix(ls, snap, diag)
            if fix is not None:
                actions.append(fix)
    return actions


def _quick_fix(
    ls: EnclaveServer, snap: DocumentSnapshot, diag: types.Diagnostic
) -> types.CodeAction | None:
    uri = snap.uri
    if diag.source == SOURCE:  # our own review finding: its fix is already known
        data = diag.data if isinstance(diag.data, dict) else {}
        finding = ls.session.reviews.find(uri, int(data.get("findingId", -1)))
        if finding is None or not finding.fix.strip():
            return None
        title = f"Enclave: apply the suggested fix ({finding.category})"
        try:
            edit = fix_edit(snap, finding)
        except (EditRejected, EnclaveError) as exc:
            return types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diag],
                disabled=types.CodeActionDisabled(reason=str(exc)),
            )
        return types.CodeAction(
            title=title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diag],
            is_preferred=True,
            edit=workspace_edit(snap, [edit]),
        )
    message = " ".join(diag.message.split())
    short = message if len(message) <= MAX_TITLE_MESSAGE else message[: MAX_TITLE_MESSAGE - 1] + "…"
    origin = f"{diag.source}: " if diag.source else ""
    action = types.CodeAction(
        title=f"{spec('fix').title}: {short}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diag],
    )
    data = {
        "enclave": "fix",
        "uri": uri,
        "version": snap.version,
        "range": range_to_json(range_in(snap, diag.range, "diagnostic.range")),
        "diagnostic": f"{origin}{message}",
    }
    return _lazy(ls, action, data)


def _fail(
    ls: EnclaveServer, action: types.CodeAction, data: dict[str, Any], why: str
) -> types.CodeAction:
    message = f"{action.title}: no change offered ({why})"
    show(ls, types.MessageType.Error, message)
    action.title = f"{action.title} (failed: {why})"
    action.data = {**data, "error": why}
    action.edit = None
    return action


async def resolve(ls: EnclaveServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    if not isinstance(data, dict) or not isinstance(data.get("enclave"), str):
        return action
    name = data["enclave"]
    if name not in (*refactor_feature.REFACTORS, "fix"):
        return action
    uri = str(data.get("uri", ""))
    try:
        snap = ls.session.model_snapshot(uri)
    except (IgnoredDocument, OutOfSync) as exc:
        return _fail(ls, action, data, str(exc))
    if snap.version != data.get("version"):
        return _fail(ls, action, data, "the document changed; ask again")
    rng = range_in(snap, data.get("range"), "data.range")
    try:
        outcome = await refactor_feature.refactor(
            snap,
            rng,
            name,
            model_family(ls),
            generator(ls, uri),
            diagnostic=str(data.get("diagnostic", "")),
        )
    except EnclaveError as exc:
        return _fail(ls, action, data, str(exc))
    if outcome.edit is None:
        return _fail(ls, action, data, outcome.error)
    if not ls.session.is_current(snap):
        return _fail(ls, action, data, "the document changed; ask again")
    action.edit = workspace_edit(snap, [outcome.edit])
    action.data = {**data, "target": outcome.target.label, "attempts": outcome.attempts}
    return action
