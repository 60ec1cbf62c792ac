"""All state of one server session: settings, open documents, the model, the status shown to
the user. Handlers read and change state only through here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import Any

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
from lsp_server.model import provision
from lsp_server.model.backend import ModelBackend, ModelState
from lsp_server.model.http_backend import HttpBackend, HttpSpec
from lsp_server.model.protocol import CompletionJob, GenerationResult, Job, LoadSpec
from lsp_server.model.scheduler import Scheduler
from lsp_server.model.supervisor import WorkerSupervisor
from lsp_server.privacy.ignore import IgnoreRules
from lsp_server.settings import CompletionSettings, Settings

logger = logging.getLogger(__name__)

STATUS_METHOD = "enclave/status"
# The ignore files on disk are re-stat'ed at most this often (before context is gathered), for
# clients that report neither file changes nor saves of them.
RULES_CHECK_S = 1.0


@dataclass(frozen=True)
class Status:
    """What `enclave/status` carries: the model's state and why the last answer was empty."""

    state: str  # loading | ready | error | stopped
    message: str
    model: str = ""
    lastEmptyReason: str = ""  # camelCase: protocol field name


Notify = Callable[[str, Any], None]


class Session:
    def __init__(self, notify: Notify) -> None:
        self.settings = Settings()
        self.documents = DocumentStore()
        self._notify = notify
        # The local worker, or an HTTP backend (backend.kind); start_model may swap it.
        self.model: ModelBackend = WorkerSupervisor(self._on_model_state)
        self.scheduler = Scheduler(self._run_job)
        self.completer = Completer(self._submit_completion)
        self.ignore = IgnoreRules()
        self.reviews = ReviewStore()  # review findings per document (handlers/commands.py)
        # The workspace index and recent-edit chunks (repository context for completions).
        self.context = ContextService(
            self.documents,
            lambda: self.settings.context.enabled,
            self.ignore.is_ignored,
            lambda: self.settings.context.timeBudgetMs,
        )
        self.context.index.excluded = self.ignore.is_ignored
        self.completer.gather = self.context.gather
        self._rules_seen = self.ignore.generation
        self._rules_checked = 0.0
        self._background: set[asyncio.Task[None]] = set()
        self._last_served = ""  # the document of the last completion request
        self._focus: tuple[str, Position] | None = None  # the editor's last enclave/didFocus
        self._last_status: Status | None = None
        self._last_empty = ""
        self._loaded_spec: LoadSpec | HttpSpec | None = None
        self.pending_init_options: Any = None
        # User-only settings a later change tried to set (each is logged once).
        self.refused_settings: set[str] = set()
        # Called after every accepted change (uri, changes) and close (uri, []) of a document,
        # e.g. to move or clear review findings. Listeners must be quick: they run on the loop.
        self.document_listeners: list[Callable[[str, Sequence[TextChange]], None]] = [
            self.context.on_change
        ]
        # Called on every model state change; the server uses it for work-done progress.
        self.on_model_state: Callable[[ModelState, str], None] = lambda s, r: None

    # -- model ------------------------------------------------------------------------------

    def start_model(self) -> None:
        """(Re)start the worker if the model settings changed. Never blocks on loading."""
        if self.settings.backend.kind != "local":
            self._start_http_backend()
            return
        cfg = self.settings.model
        try:
            path = provision.resolve(cfg.size, cfg.path)
        except ModelError as exc:
            logger.error("%s", exc)
            self._loaded_spec = None
            self.publish_status(Status("error", str(exc)))
            return
        spec = LoadSpec(
            str(path),
            cfg.contextLength,
            cfg.threads,
            cfg.maxMemoryMB,
            cfg.stateCacheMB,
            cfg.gpuLayers,
        )
        if spec == self._loaded_spec and self.model.state is not ModelState.STOPPED:
            return
        self._loaded_spec = spec
        if not isinstance(self.model, WorkerSupervisor):
            self._replace_model(WorkerSupervisor(self._on_model_state))
        self.model.start(spec)

    def _start_http_backend(self) -> None:
        """Use the organisation's model server (docs/backends.md) instead of the worker."""
        cfg = self.settings.backend
        spec = HttpSpec(
            kind=cfg.kind,
            url=cfg.url or "",
            model=cfg.model,
            allow_hosts=cfg.allowHosts,
            timeout_ms=cfg.timeoutMs,
            template=cfg.template,
            context_length=self.settings.model.contextLength,
        )
        if spec == self._loaded_spec and self.model.state is not ModelState.STOPPED:
            return
        self._loaded_spec = spec
        if not isinstance(self.model, HttpBackend):
            self._replace_model(HttpBackend(self._on_model_state))
        self.model.start(spec)

    def _replace_model(self, backend: ModelBackend) -> None:
        old, self.model = self.model, backend
        self._in_background(old.stop())  # its "stopped" is not published (see below)

    async def _run_job(self, job: Job) -> GenerationResult:
        return await self.model.run(job)

    async def complete(self, uri: str, position: Position) -> CompletionOutcome:
        """The inline completion at `position` (a position inside the document: handlers clamp
        what the client sent), or an empty one with the reason published."""
        doc = self.documents.get(uri)
        await self.check_ignore_rules()
        declined = self._declined(doc)
        if not self.settings.completion.enabled:
            outcome = CompletionOutcome("", "completions are turned off", CompletionMode.NONE)
        elif declined is not None:
            outcome = CompletionOutcome("", str(declined), CompletionMode.NONE)
        else:
            snap = doc.snapshot()
            self._last_served = uri
            settings = self.settings.completion
            outcome = await self.completer.complete(snap, position, settings)
            if outcome.text and not self.is_current(snap):
                declined = self._declined(doc) if uri in self.documents else None
                why = str(declined) if declined else "the document changed meanwhile"
                outcome = CompletionOutcome("", why, outcome.mode)
            elif outcome.text and settings.cache and settings.prefetch:
                offset = snap.offset_at(position)
                self._in_background(self.completer.prefetch(snap, offset, outcome.text, settings))
        if outcome.text:
            self.report_ok()
        else:
            self.report_empty(outcome.reason)
        return outcome

    async def _submit_completion(
        self, uri: str, job: CompletionJob, background: bool
    ) -> GenerationResult:
        lane = f"background:{uri}" if background else uri
        return await self.submit(uri, lane, job, background)

    async def submit(
        self, uri: str, lane: str, job: Job, background: bool = False
    ) -> GenerationResult:
        """Every model job about a document goes through here (completions, prefetch, warm-up,
        actions): none for a document that is closed or out of sync by the time it would
        start, since work queued in the background may start after the document broke."""
        doc = self.documents.get(uri) if uri in self.documents else None
        if doc is None or doc.desynced:
            why = "the document is not open" if doc is None else str(self._declined(doc))
            raise GenerationCancelled(why)
        return await self.scheduler.submit(lane, job, background)

    # -- documents --------------------------------------------------------------------------

    def _declined(self, doc: Document) -> DocumentError | None:
        """Why nothing may be asked of the model about `doc`, or None."""
        if self.ignore.is_ignored(doc.uri):
            return IgnoredDocument("Enclave is off for this file (ignore rules)")
        if doc.desynced:
            return OutOfSync(
                f"document out of sync with the editor ({doc.desync_reason}); "
                "reopen it or send its full text"
            )
        return None

    def model_snapshot(self, uri: str) -> DocumentSnapshot:
        """A snapshot of a document the model may be asked about: open, not ignored, in sync.
        Raises UnknownDocument, IgnoredDocument or OutOfSync, whose reason the status shows."""
        doc = self.documents.get(uri)
        declined = self._declined(doc)
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

    def open_document(self, uri: str, language_id: str, version: int, text: str) -> None:
        """didOpen. Of a document already open (LSP forbids it) the new text replaces the old,
        as a close and an open: the editor's text is the one to trust."""
        if uri in self.documents:
            logger.info("didOpen of a document already open: it is replaced")
            self.close_document(uri)
        self.documents.open(uri, language_id, version, text)
        self.context.on_open(uri)

    def reject_change(self, uri: str, reason: str) -> None:
        """A change to `uri` was lost (unreadable): the document is out of sync from now on."""
        if uri in self.documents:
            self.documents.get(uri).desync_reason = reason
            self._cancel_jobs(uri)
        self.report_empty(f"document out of sync: {reason}")

    def _cancel_jobs(self, uri: str) -> None:
        self.scheduler.cancel_lane(uri)
        self.scheduler.cancel_lane(f"action:{uri}")

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_model_state(self, state: ModelState, reason: str) -> None:
        if state is ModelState.STOPPED and self.model.state is not ModelState.STOPPED:
            return  # a replaced backend stopping
        self.publish_status(Status(state.value, reason))
        self.on_model_state(state, reason)
        if state is ModelState.READY and self._focus is not None:
            # The editor said where its cursor was while the model was loading.
            with contextlib.suppress(DocumentError):
                self.focus(*self._focus)

    def change_document(self, uri: str, version: int, changes: Sequence[TextChange]) -> None:
        """Apply an editor's change; raises DocumentError when it cannot be applied (the
        document is then out of sync and its running jobs are cancelled)."""
        try:
            doc = self.documents.change(uri, version, changes)
        except DocumentError:
            if uri in self.documents and self.documents.get(uri).desynced:
                self._cancel_jobs(uri)
            raise
        for listener in self.document_listeners:
            listener(uri, changes)
        self._warm_on_switch(uri, doc, changes)

    def _warm_on_switch(self, uri: str, doc: Document, changes: Sequence[TextChange]) -> None:
        """When editing moves to another document, evaluate its prompt at the edit while the
        model is idle, before the editor's debounced request arrives."""
        last = changes[-1] if changes else None
        if uri == self._last_served or last is None or last.range is None or self.scheduler.busy:
            return
        self._warm(doc, doc.offset_at(last.range.start) + len(last.text))

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

    def _warm(self, doc: Document, offset: int) -> None:
        settings = self.settings.completion
        if (
            not (settings.enabled and settings.cache)
            or doc.desynced
            or self.ignore.is_ignored(doc.uri)
            or not self.model.ready
        ):
            logger.debug("no warm-up for %s (off, ignored, out of sync or no model)", doc.uri)
            return
        self._last_served = doc.uri
        self._in_background(self._warm_within_rules(doc.snapshot(), offset, settings))

    async def _warm_within_rules(
        self, snap: DocumentSnapshot, offset: int, settings: CompletionSettings
    ) -> None:
        await self.check_ignore_rules()
        if not self.ignore.is_ignored(snap.uri):
            await self.completer.warm(snap, offset, settings)

    # -- ignore rules -----------------------------------------------------------------------

    async def check_ignore_rules(self, stat_files: bool = True) -> None:
        """Bring what the session holds in line with the ignore rules: with `stat_files`,
        re-stat the ignore files (off the loop, at most every RULES_CHECK_S); when the rules
        changed, drop the prompt anchors and the index entries, recent chunks and similar-code
        windows of files that are now ignored."""
        now = time.monotonic()
        if stat_files and now - self._rules_checked >= RULES_CHECK_S:
            self._rules_checked = now
            await asyncio.to_thread(self.ignore.refresh)
        if self.ignore.generation == self._rules_seen:
            return
        self._rules_seen = self.ignore.generation
        self.completer.anchors.clear()
        context = self.context
        held = list(context.index.files) + [c.path for c in context.recent.chunks()]
        ignored = self.ignore.is_ignored
        gone = await asyncio.to_thread(lambda: [p for p in held if ignored(p)])
        for path in gone:
            context.index.remove(path)
            context.recent.forget(path)
            context.similar.forget(path)
        if gone:
            logger.info("ignore rules changed: %d files dropped from the context", len(gone))

    def ignore_file_changed(self) -> None:
        """An ignore file changed on disk (a watched-file event or a save of it)."""
        self.ignore.invalidate()
        self._in_background(self.check_ignore_rules(stat_files=False))

    def change_workspace_folders(self, added: list[str], removed: list[str]) -> None:
        """A removed folder's .enclaveignore rules stay in force (forgetting them could only
        expose more); the prompt anchors go, as their context may come from a removed folder.
        The caller indexes the folders again."""
        for folder in added:
            self.ignore.add_root(folder)
        self.context.change_roots(added, removed)
        self.completer.anchors.clear()

    def close_document(self, uri: str) -> None:
        if self._focus and self._focus[0] == uri:
            self._focus = None
        self._cancel_jobs(uri)
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
            self._notify(STATUS_METHOD, asdict(status))

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
        await self.model.stop()
