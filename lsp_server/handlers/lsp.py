"""LSP ⇄ domain for the handlers, in one place: positions and ranges, edits, diagnostics,
code action data, workspace folders, the client's capabilities, work-done progress, and the
session's port to the client (`LspClient`).

Positions and ranges from requests mean what LSP (Position) says: a character past the end of
its line means the end of that line; Enclave also reads a line past the document's end as the
document's end (as vscode-languageserver's TextDocument does), and a character inside a
surrogate pair as the pair's start. Only a malformed value (not an integer in 0..2^31-1, LSP's
uinteger) is an error (InvalidParams). Document edits (didChange) are the exception: there a
range that does not fit is a sync fault, so `edit_range` passes it on as it came."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lsprotocol import types

from lsp_server.actions import SOURCE, ActionRequest, DiagnosticRef
from lsp_server.context.documents import Position, Range
from lsp_server.errors import DocumentError, InvalidPosition
from lsp_server.features.review import Finding
from lsp_server.port import (
    ClientFeatures,
    DocumentEdit,
    EditApplied,
    MessageKind,
    ProgressBegin,
    WorkDone,
)
from lsp_server.privacy.paths import normalize, uri_path

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

logger = logging.getLogger(__name__)

MAX_UINTEGER = 2**31 - 1

# -- positions and ranges -------------------------------------------------------------------


class Clamps(Protocol):
    def clamp(self, pos: Position) -> Position: ...


def field_of(obj: Any, name: str) -> Any:
    # Params of methods lsprotocol does not know, and code action data, arrive as dicts.
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _uinteger(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINTEGER:
        raise InvalidPosition(f"{what} must be an integer in 0..{MAX_UINTEGER}, not {value!r:.40}")
    return value


def position_in(doc: Clamps, raw: Any, what: str = "position") -> Position:
    """The position `raw` (an LSP Position or its JSON) means in `doc`."""
    if raw is None:
        raise InvalidPosition(f"{what} is missing")
    line = _uinteger(field_of(raw, "line"), f"{what}.line")
    character = _uinteger(field_of(raw, "character"), f"{what}.character")
    return doc.clamp(Position(line, character))


def range_in(doc: Clamps, raw: Any, what: str = "range") -> Range:
    """The range `raw` (an LSP Range or its JSON) means in `doc`; a backwards one is turned
    around (a selection made upwards)."""
    if raw is None:
        raise InvalidPosition(f"{what} is missing")
    start = position_in(doc, field_of(raw, "start"), f"{what}.start")
    end = position_in(doc, field_of(raw, "end"), f"{what}.end")
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    return Range(start, end)


def edit_range(r: types.Range) -> Range:
    """A didChange range as it came (not clamped): one that does not fit is a sync fault."""
    return Range(Position(r.start.line, r.start.character), Position(r.end.line, r.end.character))


def to_lsp_position(pos: Position) -> types.Position:
    return types.Position(pos.line, pos.character)


def to_lsp_range(rng: Range) -> types.Range:
    return types.Range(to_lsp_position(rng.start), to_lsp_position(rng.end))


def range_to_json(rng: Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


# -- edits, diagnostics, code action data ---------------------------------------------------


def workspace_edit(edit: DocumentEdit) -> types.WorkspaceEdit:
    text_edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(to_lsp_range(rng), text) for rng, text in edit.edits
    ]
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri=edit.uri, version=edit.version),
                text_edits,
            )
        ]
    )


_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def diagnostic(finding: Finding) -> types.Diagnostic:
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
            "basis": finding.basis,
        },
    )


def diagnostic_ref(doc: Clamps, diag: types.Diagnostic) -> DiagnosticRef:
    """A diagnostic the editor sent along with a code action request."""
    finding = field_of(diag.data, "findingId") if diag.source == SOURCE else None
    return DiagnosticRef(
        range_in(doc, diag.range, "diagnostic.range"),
        diag.message,
        diag.source or "",
        finding if isinstance(finding, int) and not isinstance(finding, bool) else None,
    )


def action_request(doc: Clamps, data: dict[str, Any], what: str = "range") -> ActionRequest:
    """A model-made action from its code action data or the refactor command's argument
    (`data` has a known "enclave" action and the "uri" of `doc`)."""
    version = data.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise DocumentError(f"{what.split('.')[0]}.version must be an integer")
    return ActionRequest(
        str(data["enclave"]),
        str(data["uri"]),
        range_in(doc, data.get("range"), what),
        version,
        diagnostic=str(data.get("diagnostic", "")),
    )


def action_data(request: ActionRequest) -> dict[str, Any]:
    """A model-made action as code action data (echoed back on resolve) or as the argument
    of the refactor command."""
    data = {
        "enclave": request.name,
        "uri": request.uri,
        "version": request.version,
        "range": range_to_json(request.range),
    }
    if request.name == "fix":
        data["diagnostic"] = request.diagnostic
    return data


# -- the client -----------------------------------------------------------------------------


def client_features(caps: types.ClientCapabilities) -> ClientFeatures:
    """What the client supports, read once at initialize."""
    window, text, ws, general = caps.window, caps.text_document, caps.workspace, caps.general
    resolve = text.code_action.resolve_support if text and text.code_action else None
    watched = ws.did_change_watched_files if ws is not None else None
    encodings = general.position_encodings if general is not None else None
    return ClientFeatures(
        work_done_progress=bool(window and window.work_done_progress),
        show_document=bool(window and window.show_document and window.show_document.support),
        resolves_code_action_edits=resolve is not None and "edit" in resolve.properties,
        dynamic_watched_files=bool(watched and watched.dynamic_registration),
        position_encoding=str(encodings[0]) if encodings else "utf-16",
    )


@dataclass(frozen=True)
class Folders:
    named: list[str]  # every folder initialize names: the ignore rules of each apply
    indexed: list[str]  # workspaceFolders, else rootUri, else rootPath: the index reads these


def _absolute(path: str | None) -> str | None:
    return normalize(path) if path and path.startswith("/") and "\0" not in path else None


def folder_of(uri: str | None) -> str | None:
    """The local folder a file URI names (None: another scheme, not absolute)."""
    return _absolute(uri_path(uri)) if uri and uri.lower().startswith("file:") else None


def workspace_folders(params: types.InitializeParams) -> Folders:
    """The workspace's folders, however initialize names them (workspaceFolders, rootUri,
    rootPath)."""
    listed = [p for f in params.workspace_folders or [] if (p := folder_of(f.uri)) is not None]
    roots = [p for p in (folder_of(params.root_uri), _absolute(params.root_path)) if p]
    return Folders(list(dict.fromkeys(listed + roots)), listed or roots[:1])


@contextlib.asynccontextmanager
async def work_done(ls: LanguageServer, begin: ProgressBegin) -> AsyncIterator[WorkDone]:
    """Work-done progress while the body runs (model loading, indexing, actions). A client
    that refuses the token gets none, and the work goes on. A cancel in the editor of a
    cancellable progress cancels the task running the body."""
    progress = ls.work_done_progress
    token = f"enclave-{uuid.uuid4()}"
    try:
        await progress.create_async(token)
    except Exception:
        logger.debug("the client refused a progress token")
        yield WorkDone()
        return
    handle = WorkDone(
        lambda text, pct: progress.report(
            token, types.WorkDoneProgressReport(message=text, percentage=pct)
        )
    )
    value = types.WorkDoneProgressBegin(
        title=begin.title,
        message=begin.message or None,
        percentage=begin.percentage,
        cancellable=begin.cancellable or None,
    )
    progress.begin(token, value)
    task = asyncio.current_task()

    def on_cancel(future: Any) -> None:
        if future.cancelled() and task is not None and not task.done():
            handle.cancelled = True
            task.cancel()

    if begin.cancellable:
        progress.tokens[token].add_done_callback(on_cancel)
    failed = True
    try:
        yield handle
        failed = False
    finally:
        progress.tokens.pop(token, None)
        progress.end(token, types.WorkDoneProgressEnd(message=handle.final(failed)))


class LspClient:
    """The session's port to the editor (lsp_server/port.py), over the pygls server."""

    def __init__(self, ls: LanguageServer) -> None:
        self._ls = ls

    def notify(self, method: str, params: Any) -> None:
        self._ls.protocol.notify(method, params)

    def show_message(self, kind: MessageKind, message: str) -> None:
        kind_ = types.MessageType(kind.value)
        self._ls.window_show_message(types.ShowMessageParams(type=kind_, message=message))

    def publish_diagnostics(
        self, uri: str, findings: Sequence[Finding], version: int | None
    ) -> None:
        diagnostics = [diagnostic(f) for f in findings]
        self._ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri, diagnostics, version)
        )

    async def apply_edit(self, edit: DocumentEdit, label: str) -> EditApplied:
        params = types.ApplyWorkspaceEditParams(edit=workspace_edit(edit), label=label)
        answer = await self._ls.workspace_apply_edit_async(params)
        return EditApplied(answer.applied, answer.failure_reason or "")

    async def show_document(self, uri: str) -> None:
        params = types.ShowDocumentParams(uri=uri, take_focus=False)
        await self._ls.window_show_document_async(params)

    def progress(self, begin: ProgressBegin) -> contextlib.AbstractAsyncContextManager[WorkDone]:
        return work_done(self._ls, begin)

    async def watch_files(self, globs: Sequence[str]) -> None:
        registration = types.Registration(
            id=f"enclave-watch-{uuid.uuid4()}",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern=g) for g in globs]
            ),
        )
        await self._ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
