"""Shared by the session's unit tests (tests/unit/test_session*.py): a scripted model backend,
a client port that records what the session asked of the editor, and a session built on both,
in-process (no worker, no LSP connection)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lsp_server.context.documents import Position, Range, TextChange
from lsp_server.features.review import Finding
from lsp_server.model.backend import ModelBackend, ModelState, StateListener
from lsp_server.model.protocol import (
    CompletionJob,
    GenerateJob,
    GenerationResult,
    GenerationStats,
    Job,
    ModelInfo,
)
from lsp_server.model.scheduler import Lane
from lsp_server.port import (
    ClientFeatures,
    DocumentEdit,
    EditApplied,
    MessageKind,
    ProgressBegin,
    WorkDone,
)
from lsp_server.session import Session

URI = "file:///tmp/enclave-session/calc.py"
TEXT = "def add(a, b):\n    total = a + b\n    return \n"
AT = Position(2, 11)  # after "return "

# A client like VS Code, and one that supports none of the optional features.
EVERYTHING = ClientFeatures(
    work_done_progress=True,
    show_document=True,
    resolves_code_action_edits=True,
    dynamic_watched_files=True,
)
NOTHING = ClientFeatures()

Answer = Callable[[Job], str]


def answers(completion: str = "a + b", action: str = "") -> Answer:
    """Answer completion jobs with `completion` and the actions' chat jobs with `action`."""
    return lambda job: completion if isinstance(job, CompletionJob) else action


class ScriptedBackend(ModelBackend):
    """A model that answers from a script, optionally held until released."""

    def __init__(self, on_state: StateListener, answer: Answer) -> None:
        super().__init__(on_state)
        self.answer = answer
        self.jobs: list[Job] = []
        self.hold: asyncio.Event | None = None  # set: jobs wait until it is set
        self.started = asyncio.Event()  # set when a job starts

    def start(self, spec: Any) -> None:
        self.info = ModelInfo("/models/scripted.gguf", "qwen2", "qwen2.5-coder", 4096, 1.0)
        self._set_state(ModelState.READY, "scripted model ready")

    async def run(self, job: Job) -> GenerationResult:
        self._check_ready()
        self.jobs.append(job)
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        kind = job.kind if isinstance(job, GenerateJob) else "completion"
        stats = GenerationStats(kind=kind, job_id=self._next_job_id(), stop_reason="stop")
        result = GenerationResult(self.answer(job), stats)
        self._record(result)
        return result

    async def stop(self) -> None:
        self._set_state(ModelState.STOPPED, "stopped")


@dataclass
class ProgressShown:
    begin: ProgressBegin
    reports: list[tuple[str, int | None]] = field(default_factory=list)
    end: str | None = None  # None while it runs

    @property
    def title(self) -> str:
        return self.begin.title


class RecordingPort:
    """The client port, recording every call. `cancel_progress`: the user cancels every
    cancellable progress once the work has begun."""

    def __init__(self, apply: bool = True) -> None:
        self.notified: list[tuple[str, Any]] = []
        self.messages: list[tuple[MessageKind, str]] = []
        self.published: list[tuple[str, list[Finding], int | None]] = []
        self.applied: list[tuple[DocumentEdit, str]] = []
        self.shown: list[str] = []
        self.progresses: list[ProgressShown] = []
        self.watched: list[list[str]] = []
        self.apply = apply
        self.cancel_progress = False

    def notify(self, method: str, params: Any) -> None:
        self.notified.append((method, params))

    def show_message(self, kind: MessageKind, message: str) -> None:
        self.messages.append((kind, message))

    def publish_diagnostics(
        self, uri: str, findings: Sequence[Finding], version: int | None
    ) -> None:
        self.published.append((uri, list(findings), version))

    async def apply_edit(self, edit: DocumentEdit, label: str) -> EditApplied:
        self.applied.append((edit, label))
        return EditApplied(self.apply, "" if self.apply else "refused by the test")

    async def show_document(self, uri: str) -> None:
        self.shown.append(uri)

    @contextlib.asynccontextmanager
    async def progress(self, begin: ProgressBegin) -> AsyncIterator[WorkDone]:
        shown = ProgressShown(begin)
        self.progresses.append(shown)
        handle = WorkDone(lambda text, pct: shown.reports.append((text, pct)))
        task = asyncio.current_task()
        if begin.cancellable and self.cancel_progress and task is not None:

            def user_cancels() -> None:
                handle.cancelled = True
                task.cancel()

            asyncio.get_running_loop().call_later(0.05, user_cancels)
        failed = True
        try:
            yield handle
            failed = False
        finally:
            shown.end = handle.final(failed)

    async def watch_files(self, globs: Sequence[str]) -> None:
        self.watched.append(list(globs))

    def statuses(self) -> list[dict[str, Any]]:
        return [params for method, params in self.notified if method == "enclave/status"]


@dataclass
class Harness:
    session: Session
    port: RecordingPort
    backend: ScriptedBackend
    lanes: list[Lane]  # the lane of every job submitted to the scheduler, in order

    def open(self, uri: str = URI, text: str = TEXT, version: int = 1) -> str:
        self.session.open_document(uri, "python", version, text)
        return uri

    async def settle(self) -> None:
        """Let background work (prefetch, warm-up, indexing) run to its end."""
        for _ in range(50):
            pending = [*self.session._background, *self.session.context._tasks]
            if not pending:
                await asyncio.sleep(0)
                return
            await asyncio.gather(*pending, return_exceptions=True)


def harness(features: ClientFeatures = EVERYTHING, answer: Answer | None = None) -> Harness:
    port = RecordingPort()
    session = Session(port)
    session.initialize(features, None, [], [])
    backend = ScriptedBackend(session._on_model_state, answer or answers())
    session.model = backend
    backend.start(None)
    lanes: list[Lane] = []
    submit = session.scheduler.submit

    async def recording(lane: Lane, job: Job) -> GenerationResult:
        lanes.append(lane)
        return await submit(lane, job)

    session.scheduler.submit = recording  # type: ignore[method-assign]
    return Harness(session, port, backend, lanes)


def whole(text: str) -> Range:
    lines = text.split("\n")
    return Range(Position(0, 0), Position(len(lines) - 1, len(lines[-1])))


def insert(line: int, character: int, text: str) -> TextChange:
    at = Position(line, character)
    return TextChange(Range(at, at), text)
