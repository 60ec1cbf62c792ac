"""workspace/executeCommand: enclave.lsp.explain, .rewrite, .refactor, .review; and the review
diagnostics, kept in step with edits. Adapters only: the work is in features/.

The server's commands live under "enclave.lsp." so that they never collide with a client's own
commands (VS Code registers every advertised command; the extension has its own "enclave.*")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.context.documents import DocumentSnapshot, Range, TextChange
from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.features import explain as explain_feature
from lsp_server.features import refactor as refactor_feature
from lsp_server.features import review as review_feature
from lsp_server.features.edits import Edit
from lsp_server.handlers.boundary import converting_errors
from lsp_server.handlers.positions import range_in, to_lsp_range
from lsp_server.model.protocol import GenerateJob, GenerationResult
from lsp_server.prompts.actions import spec

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)

EXPLAIN = "enclave.lsp.explain"
REWRITE = "enclave.lsp.rewrite"
REFACTOR = "enclave.lsp.refactor"
REVIEW = "enclave.lsp.review"
SOURCE = "enclave"

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


# -- conversions ----------------------------------------------------------------------------


def _snapshot(ls: EnclaveServer, uri: str) -> DocumentSnapshot:
    """A document the model may see: not ignored, in step with the editor."""
    return ls.session.model_snapshot(uri)


def workspace_edit(snap: DocumentSnapshot, edits: Sequence[Edit]) -> types.WorkspaceEdit:
    """Text edits of one document version: no file creation, rename or deletion."""
    text_edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(
            to_lsp_range(Range(snap.position_at(e.start), snap.position_at(e.end))), e.new_text
        )
        for e in edits
    ]
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri=snap.uri, version=snap.version),
                text_edits,
            )
        ]
    )


def _argument(arguments: Sequence[Any]) -> dict[str, Any]:
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcInvalidParams("expected one object argument")
    arg: dict[str, Any] = arguments[0]
    if not isinstance(arg.get("uri"), str):
        raise JsonRpcInvalidParams("the argument needs a 'uri'")
    return arg


def model_family(ls: EnclaveServer) -> str:
    info = ls.session.model.info
    return info.template if info is not None else ""


def generator(ls: EnclaveServer, uri: str) -> Callable[[GenerateJob], Awaitable[GenerationResult]]:
    """Actions run in their own lane per document, so completions never cancel them."""

    def generate(job: GenerateJob) -> Awaitable[GenerationResult]:
        return ls.session.submit(uri, f"action:{uri}", job)

    return generate


def show(ls: EnclaveServer, kind: types.MessageType, message: str) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=message))


@contextlib.asynccontextmanager
async def progress(ls: EnclaveServer, title: str) -> AsyncIterator[list[bool]]:
    """Cancellable work-done progress while the body runs, when the client supports it.
    Cancelling from the client cancels the running task; the list yielded holds True then."""
    cancelled = [False]
    window = ls.client_capabilities.window
    token = f"enclave-action-{uuid.uuid4()}"
    try:
        if window is None or not window.work_done_progress:
            raise LookupError
        await ls.work_done_progress.create_async(token)
    except Exception:  # no progress (unsupported or refused); the work goes on regardless
        yield cancelled
        return
    task = asyncio.current_task()
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True))

    def on_cancel(future: Any) -> None:
        if future.cancelled() and task is not None and not task.done():
            cancelled[0] = True
            task.cancel()

    ls.work_done_progress.tokens[token].add_done_callback(on_cancel)
    message = "done"
    try:
        yield cancelled
    except BaseException:
        message = "cancelled" if cancelled[0] else "failed"
        raise
    finally:
        ls.work_done_progress.tokens.pop(token, None)
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))


async def _with_progress(ls: EnclaveServer, title: str, work: Awaitable[Any]) -> Any:
    async with progress(ls, title) as cancelled:
        try:
            return await work
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if cancelled[0] and task is not None:
                task.uncancel()
                raise GenerationCancelled(f"{title}: cancelled") from None
            raise


# -- commands -------------------------------------------------------------------------------


async def explain(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    uri = arg["uri"]
    snap = _snapshot(ls, uri)
    rng = range_in(snap, arg.get("range"))
    result: explain_feature.Explanation = await _with_progress(
        ls,
        "Enclave: explaining",
        explain_feature.explain(snap, rng, model_family(ls), generator(ls, uri)),
    )
    path: str | None = None
    try:
        path = str(explain_feature.write_private(result.markdown, uri))
    except OSError as exc:
        logger.warning("could not write the explanation file: %s", exc)
    window = ls.client_capabilities.window
    show_doc = window.show_document if window is not None else None
    if path is not None and show_doc is not None and show_doc.support:
        from pathlib import Path

        target = Path(path).as_uri()
        with contextlib.suppress(Exception):  # the client may refuse; the result stands
            await ls.window_show_document_async(
                types.ShowDocumentParams(uri=target, take_focus=False)
            )
    return {"markdown": result.markdown, "path": path}


async def rewrite(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    instruction = arg.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        return {"applied": False, "message": f"{REWRITE} needs an 'instruction'"}
    return await _refactor_and_apply(ls, arg, "rewrite", instruction=instruction)


async def refactor(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    """A refactor or fix code action as a command, for clients that cannot resolve a code
    action's edit (codeAction/resolve): the server computes the edit and applies it."""
    arg = _argument(arguments)
    name = arg.get("enclave")
    if name not in (*refactor_feature.REFACTORS, "fix"):
        raise JsonRpcInvalidParams(f"{REFACTOR}: unknown action {name!r}")
    if arg.get("version") is not None and _snapshot(ls, arg["uri"]).version != arg["version"]:
        message = "Enclave: the document changed; ask for the action again"
        show(ls, types.MessageType.Error, message)
        return {"applied": False, "message": message}
    return await _refactor_and_apply(ls, arg, str(name), diagnostic=str(arg.get("diagnostic", "")))


async def _refactor_and_apply(
    ls: EnclaveServer, arg: dict[str, Any], name: str, instruction: str = "", diagnostic: str = ""
) -> dict[str, Any]:
    uri = arg["uri"]
    snap = _snapshot(ls, uri)
    rng = range_in(snap, arg.get("range"))
    title = spec(name).title
    try:
        outcome: refactor_feature.RefactorOutcome = await _with_progress(
            ls,
            title,
            refactor_feature.refactor(
                snap,
                rng,
                name,
                model_family(ls),
                generator(ls, uri),
                instruction=instruction,
                diagnostic=diagnostic,
            ),
        )
    except (ModelUnavailable, GenerationCancelled) as exc:
        return {"applied": False, "message": str(exc)}
    if outcome.edit is not None and not ls.session.is_current(snap):
        return {"applied": False, "message": f"{title}: the document changed; ask again"}
    if outcome.edit is None:
        message = f"{title}: not applied: {outcome.error}"
        show(ls, types.MessageType.Error, message)
        return {"applied": False, "message": message}
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=workspace_edit(snap, [outcome.edit]), label=title)
    )
    if not answer.applied:
        return {"applied": False, "message": answer.failure_reason or "the editor refused it"}
    return {"applied": True, "message": f"{title}: {outcome.target.label}"}


def diagnostic(finding: review_feature.Finding) -> types.Diagnostic:
    return types.Diagnostic(
        range=to_lsp_range(finding.range),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.category,
        source=SOURCE,
        data={
            "findingId": finding.id,
            "hasFix": bool(finding.fix.strip()),
            "quote": finding.snippet,
        },
    )


def publish_findings(ls: EnclaveServer, uri: str) -> None:
    findings = ls.session.reviews.get(uri)
    version = ls.session.documents.get(uri).version if uri in ls.session.documents else None
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri, [diagnostic(f) for f in findings], version)
    )


async def review(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    uri = arg["uri"]
    snap = _snapshot(ls, uri)
    rng = range_in(snap, arg["range"]) if arg.get("range") is not None else None
    outcome: review_feature.ReviewOutcome = await _with_progress(
        ls,
        "Enclave: reviewing",
        review_feature.review(snap, rng, model_family(ls), generator(ls, uri)),
    )
    if not ls.session.is_current(snap):
        raise GenerationCancelled("the document changed during the review; run it again")
    ls.session.reviews.set(uri, outcome.findings, outcome.target.range if rng else None)
    publish_findings(ls, uri)
    return {"findings": len(outcome.findings), "dropped": outcome.dropped}


COMMANDS: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
    EXPLAIN: explain,
    REWRITE: rewrite,
    REFACTOR: refactor,
    REVIEW: review,
}


def _entry(
    handler: Callable[..., Awaitable[dict[str, Any]]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    # pygls reads the handler's annotations at run time (typing.get_type_hints) to convert
    # the arguments; these resolve, and `*arguments` passes the JSON values through as they are.
    async def run(ls: Any, *arguments: Any) -> dict[str, Any]:
        return await handler(ls, *arguments)

    run.__name__ = run.__qualname__ = handler.__name__
    return run


def install(server: EnclaveServer) -> None:
    """Register the commands (advertised in executeCommandProvider) and the listener that
    keeps review findings in step with edits."""
    for name, handler in COMMANDS.items():
        server.command(name)(converting_errors(_entry(handler)))

    def on_document_change(uri: str, changes: Sequence[TextChange]) -> None:
        docs = server.session.documents
        version = docs.get(uri).version if changes and uri in docs else None
        if server.session.reviews.on_change(uri, changes, version):
            publish_findings(server, uri)

    server.session.document_listeners.append(on_document_change)
