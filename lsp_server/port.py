"""The session's view of the editor: what the client said it supports (resolved once, at
initialize) and the few things the session may ask of it. The session holds a `ClientPort`
and never imports pygls; `handlers/lsp.py` implements the port over the LSP connection."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from lsp_server.context.documents import DocumentSnapshot, Range
from lsp_server.features.edits import Edit
from lsp_server.features.review import Finding


@dataclass(frozen=True)
class ClientFeatures:
    """What the client supports, from its capabilities at initialize. Before that (never, as
    requests before initialize are refused) nothing is assumed."""

    work_done_progress: bool = False  # window.workDoneProgress
    show_document: bool = False  # window.showDocument
    resolves_code_action_edits: bool = False  # codeAction.resolveSupport has "edit"
    dynamic_watched_files: bool = False  # didChangeWatchedFiles.dynamicRegistration
    position_encoding: str = "utf-16"  # as negotiated: server.py pins UTF-16 before it is read


class MessageKind(Enum):
    # The values are LSP's MessageType.
    ERROR = 1
    WARNING = 2
    INFO = 3


@dataclass(frozen=True)
class DocumentEdit:
    """Text edits of one document version: no file creation, rename or deletion."""

    uri: str
    version: int
    edits: tuple[tuple[Range, str], ...]

    @classmethod
    def of(cls, snap: DocumentSnapshot, edits: Sequence[Edit]) -> DocumentEdit:
        at = snap.position_at
        ranges = tuple((Range(at(e.start), at(e.end)), e.new_text) for e in edits)
        return cls(snap.uri, snap.version, ranges)


@dataclass(frozen=True)
class EditApplied:
    applied: bool
    failure_reason: str = ""


@dataclass(frozen=True)
class ProgressBegin:
    title: str
    message: str = ""
    percentage: int | None = None
    # A cancel in the editor cancels the task running the body and sets WorkDone.cancelled.
    cancellable: bool = False


class WorkDone:
    """A work-done progress shown while the body of `ClientPort.progress` runs."""

    def __init__(self, report: Callable[[str, int | None], None] | None = None) -> None:
        self.cancelled = False  # the user cancelled it in the editor
        self.end_message: str | None = None  # None: "done", "failed" or "cancelled"
        self._report = report

    def report(self, message: str, percentage: int | None = None) -> None:
        if self._report is not None:
            self._report(message, percentage)

    def final(self, failed: bool) -> str:
        """What the end of the progress says."""
        if self.end_message is not None:
            return self.end_message
        if failed:
            return "cancelled" if self.cancelled else "failed"
        return "done"


class ClientPort(Protocol):
    """Requests to the client may fail (a client may refuse any of them): the session decides
    what a refusal means."""

    def notify(self, method: str, params: Any) -> None: ...

    def show_message(self, kind: MessageKind, message: str) -> None: ...

    def publish_diagnostics(
        self, uri: str, findings: Sequence[Finding], version: int | None
    ) -> None: ...

    async def apply_edit(self, edit: DocumentEdit, label: str) -> EditApplied: ...

    async def show_document(self, uri: str) -> None: ...

    def progress(self, begin: ProgressBegin) -> contextlib.AbstractAsyncContextManager[WorkDone]:
        """Progress while the body runs (none if the client refuses it)."""
        ...

    async def watch_files(self, globs: Sequence[str]) -> None: ...


class Detached:
    """No client (benchmarks, unit tests): notifications go nowhere, edits are not applied."""

    def notify(self, method: str, params: Any) -> None:
        pass

    def show_message(self, kind: MessageKind, message: str) -> None:
        pass

    def publish_diagnostics(
        self, uri: str, findings: Sequence[Finding], version: int | None
    ) -> None:
        pass

    async def apply_edit(self, edit: DocumentEdit, label: str) -> EditApplied:
        return EditApplied(False, "no editor is attached")

    async def show_document(self, uri: str) -> None:
        pass

    def progress(self, begin: ProgressBegin) -> contextlib.AbstractAsyncContextManager[WorkDone]:
        return contextlib.nullcontext(WorkDone())

    async def watch_files(self, globs: Sequence[str]) -> None:
        pass
