"""The application service of one server session. It owns the state (settings, documents, the
status shown to the user) and every component (model backend, scheduler, completer, ignore
rules, context service, review store, actions, workspace), wires them and their listeners in
its constructor, and holds each request's policy: the one gate (`model_view`), completion,
focus, document changes, settings. The actions' policy is in `actions.py`, the workspace's
(folders, indexing, files on disk, ignore rules) in `workspace.py`; the session owns both.

It talks to the editor only through the `ClientPort` it is given (no pygls here). Handlers
convert LSP to its calls and back; positions and ranges reach it clamped to the document."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lsp_server import log
from lsp_server.actions import Actions
from lsp_server.context.documents import (
    Document,
    DocumentSnapshot,
    DocumentStore,
    Position,
    TextChange,
)
from lsp_server.context.service import ContextService
from lsp_server.context.syntax import CompletionMode
from lsp_server.errors import (
    DocumentError,
    GenerationCancelled,
    IgnoredDocument,
    ModelError,
    OutOfSync,
)
from lsp_server.features.completion import Completer, CompletionOutcome
from lsp_server.features.review import ReviewStore
from lsp_server.model import provision, state_files
from lsp_server.model.backend import ModelBackend, ModelState
from lsp_server.model.http_backend import HttpBackend, HttpSpec
from lsp_server.model.protocol import CompletionJob, GenerationResult, Job, LoadSpec
from lsp_server.model.scheduler import Lane, LaneKind, Scheduler
from lsp_server.model.supervisor import WorkerSupervisor
from lsp_server.port import (
    ClientFeatures,
    ClientPort,
    Detached,
    MessageKind,
    ProgressBegin,
    WorkDone,
)
from lsp_server.privacy.ignore import IgnoreRules
from lsp_server.settings import (
    CompletionSettings,
    Settings,
    Source,
    parse_settings,
    refusal_message,
    refused_changes,
)
from lsp_server.stats import Stats
from lsp_server.workspace import Workspace

logger = logging.getLogger(__name__)

STATUS_METHOD = "enclave/status"


@dataclass(frozen=True)
class Status:
    """What `enclave/status` carries: the model's state and why the last answer was empty."""

    state: str  # loading | ready | error | stopped
    message: str
    model: str = ""
    lastEmptyReason: str = ""  # camelCase: protocol field name


class Session:
    def __init__(self, client: ClientPort | None = None) -> None:
        self.client: ClientPort = client or Detached()
        self.features = ClientFeatures()  # set at initialize
        self.settings = Settings()
        self.documents = DocumentStore()
        # The local worker, or an HTTP backend (backend.kind); start_model may swap it.
        self.model: ModelBackend = WorkerSupervisor(self._on_model_state)
        self.scheduler = Scheduler(self._run_job)
        self.ignore = IgnoreRules()
        # The workspace index and recent-edit chunks (repository context for completions).
        self.context = ContextService(
            self.documents,
            lambda: self.settings.context.enabled,
            self.ignore.is_ignored,
            lambda: self.settings.context.timeBudgetMs,
        )
        self.context.index.excluded = self.ignore.is_ignored
        self.completer = Completer(self._submit_completion, self.context.gather)
        self.reviews = ReviewStore()  # review findings per document
        # Local statistics of completion (stats.enabled); file writes as background tasks.
        self.stats = Stats(background=lambda work: self.in_background(work))
        self.actions = Actions(self)
        self.workspace = Workspace(self)
        self._background: set[asyncio.Task[None]] = set()
        self._last_served = ""  # the document of the last completion request
        self._focus: tuple[str, Position] | None = None  # the editor's last enclave/didFocus
        self._last_status: Status | None = None
        self._last_empty = ""
        self._loaded_spec: LoadSpec | HttpSpec | None = None
        self._loading: tuple[asyncio.Event, list[str]] | None = None  # its progress, shown
        self._init_options: Any = None
        # User-only settings a later change tried to set (each is logged once).
        self.refused_settings: set[str] = set()
        # Called after every accepted change (uri, changes) and close (uri, []) of a document.
        # Listeners must be quick: they run on the loop.
        self.document_listeners: list[Callable[[str, Sequence[TextChange]], None]] = [
            self.context.on_change,
            self.actions.on_document_change,  # review findings move with edits
        ]

    # -- lifecycle and settings -------------------------------------------------------------

    def initialize(
        self,
        features: ClientFeatures,
        options: Any,
        ignore_roots: Sequence[str],
        index_roots: Sequence[str],
    ) -> None:
        """initialize: what the client supports, its options (applied once it is initialized),
        every folder it named (each one's ignore rules apply) and the folders to index."""
        self.features = features
        self._init_options = options
        for folder in ignore_roots:
            self.ignore.add_root(folder)
        self.context.set_roots(index_roots)

    def initialized(self) -> None:
        self.apply_settings(self._init_options, "init")
        self.start_model()
        self.workspace.start_indexing()

    def change_settings(self, raw: Any) -> None:
        """workspace/didChangeConfiguration."""
        self.apply_settings(raw, "change")
        self.start_model()

    def apply_settings(self, raw: Any, source: Source) -> None:
        settings, warnings = parse_settings(raw, self.settings, source)
        if source != "init":
            # Said once per key: clients send their whole configuration on every change.
            for key in refused_changes(raw, self.settings):
                if key not in self.refused_settings:
                    self.refused_settings.add(key)
                    warnings.append(refusal_message(key))
        self.settings = settings
        self.stats.enabled = settings.stats.enabled
        log_problem = log.configure(settings.log.level, settings.log.file)  # logged there
        for warning in warnings:
            logger.warning("%s", warning)
        for warning in [*warnings, *([log_problem] if log_problem else [])]:
            self.client.show_message(MessageKind.WARNING, warning)

    def progress(self, begin: ProgressBegin) -> contextlib.AbstractAsyncContextManager[WorkDone]:
        """Work-done progress while the body runs, if the client shows it."""
        if self.features.work_done_progress:
            return self.client.progress(begin)
        return contextlib.nullcontext(WorkDone())

    # -- model ------------------------------------------------------------------------------

    def start_model(self) -> None:
        """(Re)start the model if its settings changed: the local worker, or the organisation's
        model server (backend.kind, docs/backends.md). Never blocks on loading."""
        spec = self._model_spec()
        if spec is None or (
            spec == self._loaded_spec and self.model.state is not ModelState.STOPPED
        ):
            return
        self._loaded_spec = spec
        if isinstance(spec, HttpSpec) and not isinstance(self.model, HttpBackend):
            self._replace_model(HttpBackend(self._on_model_state))
        elif isinstance(spec, LoadSpec) and not isinstance(self.model, WorkerSupervisor):
            self._replace_model(WorkerSupervisor(self._on_model_state))
        self.model.start(spec)

    def _model_spec(self) -> LoadSpec | HttpSpec | None:
        """What to load, from the settings (None, and the status says why: no model file)."""
        backend, model = self.settings.backend, self.settings.model
        if backend.kind != "local":
            return HttpSpec(
                kind=backend.kind,
                url=backend.url or "",
                model=backend.model,
                allow_hosts=backend.allowHosts,
                timeout_ms=backend.timeoutMs,
                template=backend.template,
                context_length=model.contextLength,
            )
        try:
            path = provision.resolve(model.size, model.path)
        except ModelError as exc:
            logger.error("%s", exc)
            self._loaded_spec = None
            self.publish_status(Status("error", str(exc)))
            return None
        return LoadSpec(
            str(path),
            model.contextLength,
            model.threads,
            model.maxMemoryMB,
            model.stateCacheMB,
            model.gpuLayers,
            str(state_files.default_base()) if model.stateCacheOnDisk else "",
        )

    def _replace_model(self, backend: ModelBackend) -> None:
        old, self.model = self.model, backend
        self.in_background(old.stop())  # its "stopped" is not published (see below)

    @property
    def model_family(self) -> str:
        """The loaded model's template family (the action prompts' chat format)."""
        info = self.model.info
        return info.template if info is not None else ""

    async def _run_job(self, job: Job) -> GenerationResult:
        return await self.model.run(job)

    def _on_model_state(self, state: ModelState, reason: str) -> None:
        if state is ModelState.STOPPED and self.model.state is not ModelState.STOPPED:
            return  # a replaced backend stopping
        self.publish_status(Status(state.value, reason))
        self._show_loading(state, reason)
        if state is ModelState.READY and self._focus is not None:
            # The editor said where its cursor was while the model was loading.
            with contextlib.suppress(DocumentError):
                self.focus(*self._focus)

    def _show_loading(self, state: ModelState, reason: str) -> None:
        """Loading as work-done progress: begun with its reason, ended with the next state's."""
        if state is ModelState.LOADING:
            if self._loading is None and self.features.work_done_progress:
                self._loading = done, final = asyncio.Event(), [""]
                self.in_background(self._loading_progress(reason, done, final))
        elif self._loading is not None:
            done, final = self._loading
            final[0] = reason
            done.set()
            self._loading = None

    async def _loading_progress(self, reason: str, done: asyncio.Event, final: list[str]) -> None:
        async with self.progress(ProgressBegin("Enclave", reason)) as progress:
            await done.wait()
            progress.end_message = final[0]

    # -- the gate, and model jobs -----------------------------------------------------------

    def _declined(self, uri: str) -> DocumentError | None:
        """Why nothing may be asked of the model about the open document `uri`, or None."""
        if self.ignore.is_ignored(uri):
            return IgnoredDocument("Enclave is off for this file (ignore rules)")
        doc = self.documents.get(uri)
        if doc.desynced:
            return OutOfSync(
                f"document out of sync with the editor ({doc.desync_reason}); "
                "reopen it or send its full text"
            )
        return None

    def model_view(self, uri: str) -> DocumentSnapshot:
        """The gate every request about a document passes: a snapshot of a document the model
        may be asked about (open, not ignored, in sync). Raises UnknownDocument, or
        IgnoredDocument / OutOfSync, whose reason the status shows."""
        doc = self.documents.get(uri)
        declined = self._declined(uri)
        if declined is not None:
            self.report_empty(str(declined))
            raise declined
        return doc.snapshot()

    def is_current(self, snap: DocumentSnapshot) -> bool:
        """Whether an answer computed from `snap` still fits the editor's document: open, in
        sync, unchanged (a reopen with the same version counts as a change)."""
        if snap.uri not in self.documents:
            return False
        doc = self.documents.get(snap.uri)
        return doc.index is snap.index and doc.version == snap.version and not doc.desynced

    async def submit(self, lane: Lane, job: Job) -> GenerationResult:
        """Every model job about a document goes through here (completions, prefetch, warm-up,
        actions): none for a document that is closed, ignored or out of sync by the time it
        would start, since work queued in the background may start after the document broke."""
        if lane.uri not in self.documents:
            raise GenerationCancelled("the document is not open")
        declined = self._declined(lane.uri)
        if declined is not None:
            raise GenerationCancelled(str(declined))
        return await self.scheduler.submit(lane, job)

    async def _submit_completion(
        self, uri: str, job: CompletionJob, background: bool
    ) -> GenerationResult:
        kind = LaneKind.BACKGROUND if background else LaneKind.COMPLETION
        return await self.submit(Lane(kind, uri), job)

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- completion and focus ---------------------------------------------------------------

    async def complete(
        self, uri: str, position: Position, invoked: bool = False
    ) -> CompletionOutcome:
        """The inline completion at `position` (a position inside the document: handlers clamp
        what the client sent), or an empty one with the reason published; when `invoked` (the
        user asked), with alternatives. An answer carries the ids of its suggestions in the
        statistics (for `accepted`)."""
        started = time.monotonic()
        language = self.documents.get(uri).language  # a document never opened is invalid
        await self.workspace.check_ignore_rules()
        settings = self.settings.completion
        declined = self._declined(uri) if uri in self.documents else None
        if not settings.enabled:
            outcome = CompletionOutcome("", "completions are turned off", CompletionMode.NONE)
        elif uri not in self.documents:  # closed meanwhile
            outcome = CompletionOutcome("", "the document is not open", CompletionMode.NONE)
        elif declined is not None:
            outcome = CompletionOutcome("", str(declined), CompletionMode.NONE)
        else:
            snap = self.documents.snapshot(uri)
            self._last_served = uri
            outcome = await self.completer.complete(snap, position, settings, invoked)
            if outcome.text and not self.is_current(snap):
                declined = self._declined(uri) if uri in self.documents else None
                why = str(declined) if declined else "the document changed meanwhile"
                outcome = CompletionOutcome("", why, outcome.mode)
            elif outcome.text and settings.cache and settings.prefetch:
                offset = snap.offset_at(position)
                self.in_background(self.completer.prefetch(snap, offset, outcome.text, settings))
        name = language.name if language else "other"
        if outcome.text:
            self.report_ok()
            elapsed = time.monotonic() - started
            origin = "cache" if outcome.cached and outcome.source == "model" else outcome.source
            ident = self.stats.answered(name, uri, outcome.text, origin, elapsed)
            others = tuple(self.stats.alternative(ident, t) for t in outcome.alternatives)
            return dataclasses.replace(outcome, suggestion_id=ident, alternative_ids=others)
        self.report_empty(outcome.reason)
        self.stats.empty(name, outcome.reason)
        return outcome

    def accepted(self, suggestion_id: str, uri: str, chars: int | None) -> int:
        """The client accepted suggestion `suggestion_id` of `uri` (all of it, or its first
        `chars` characters). Raises UnknownSuggestion."""
        return self.stats.accepted(suggestion_id, uri, chars)

    def focus(self, uri: str, position: Position) -> None:
        """The editor shows `uri` with the cursor at `position` (enclave/didFocus): warm the
        prompt there unless the current anchor already covers it. Raises PositionOutOfRange
        for a negative position."""
        if uri not in self.documents:
            logger.debug("focus on %s, which is not open", uri)
            return
        doc = self.documents.get(uri)
        if doc.desynced:  # not even a recent-code chunk for other files' prompts
            logger.debug("no focus work for %s: %s", uri, doc.desync_reason)
            return
        position = doc.clamp(position)  # a focus kept from before edits may point past them
        self._focus = (uri, position)
        self.context.on_focus(uri, position.line)
        offset = self.completer.warm_offset(doc.snapshot(), doc.offset_at(position))
        if offset is None or self.completer.covers(uri, doc.text, offset):
            return
        self._warm(doc, offset)

    def _warm_on_switch(self, uri: str, doc: Document, changes: Sequence[TextChange]) -> None:
        """When editing moves to another document, evaluate its prompt at the edit while the
        model is idle, before the editor's debounced request arrives."""
        last = changes[-1] if changes else None
        if uri == self._last_served or last is None or last.range is None or self.scheduler.busy:
            return
        self._warm(doc, doc.offset_at(last.range.start) + len(last.text))

    def _warm(self, doc: Document, offset: int) -> None:
        settings = self.settings.completion
        if (
            not (settings.enabled and settings.cache)
            or self._declined(doc.uri) is not None
            or not self.model.ready
        ):
            logger.debug("no warm-up for %s (off, ignored, out of sync or no model)", doc.uri)
            return
        self._last_served = doc.uri
        self.in_background(self._warm_within_rules(doc.snapshot(), offset, settings))

    async def _warm_within_rules(
        self, snap: DocumentSnapshot, offset: int, settings: CompletionSettings
    ) -> None:
        await self.workspace.check_ignore_rules()
        if not self.ignore.is_ignored(snap.uri):
            await self.completer.warm(snap, offset, settings)

    # -- documents --------------------------------------------------------------------------

    def open_document(self, uri: str, language_id: str, version: int, text: str) -> None:
        """didOpen. Of a document already open (LSP forbids it) the new text replaces the old,
        as a close and an open: the editor's text is the one to trust."""
        if uri in self.documents:
            logger.info("didOpen of a document already open: it is replaced")
            self.close_document(uri)
        self.documents.open(uri, language_id, version, text)
        self.context.on_open(uri)

    def change_document(self, uri: str, version: int, changes: Sequence[TextChange]) -> None:
        """Apply an editor's change; raises DocumentError when it cannot be applied (the
        document is then out of sync and its running jobs are cancelled)."""
        try:
            doc = self.documents.change(uri, version, changes)
        except DocumentError:
            if uri in self.documents and self.documents.get(uri).desynced:
                self.scheduler.cancel_document(uri)
            raise
        for listener in self.document_listeners:
            listener(uri, changes)
        self._warm_on_switch(uri, doc, changes)

    def reject_change(self, uri: str, reason: str) -> None:
        """A change to `uri` was lost (unreadable): the document is out of sync from now on."""
        if uri in self.documents:
            self.documents.get(uri).desync_reason = reason
            self.scheduler.cancel_document(uri)
        self.report_empty(f"document out of sync: {reason}")

    def close_document(self, uri: str) -> None:
        if self._focus and self._focus[0] == uri:
            self._focus = None
        self.scheduler.cancel_document(uri)
        self.completer.forget(uri)
        if uri in self.documents:
            self.documents.close(uri)
        for listener in self.document_listeners:
            listener(uri, [])

    # -- status -----------------------------------------------------------------------------

    def status(self) -> Status:
        return self._last_status or Status(self.model.state.value, self.model.reason)

    def publish_status(self, status: Status) -> None:
        info = self.model.info
        status = Status(status.state, status.message, info.path if info else "", self._last_empty)
        if status != self._last_status:
            self._last_status = status
            self.client.notify(STATUS_METHOD, asdict(status))

    def report_empty(self, reason: str) -> None:
        """Say why a completion was empty (once per distinct reason in a row)."""
        self._last_empty = reason
        current = self.status()
        self.publish_status(Status(current.state, current.message))

    def report_ok(self) -> None:
        self._last_empty = ""
        current = self.status()
        self.publish_status(Status(current.state, current.message))

    async def shutdown(self) -> None:
        await self.stats.flush_async(force=True)
        await self.model.stop()
