"""Scheduling of model jobs: latest-wins lanes per document, user work before background work.

A lane is a kind of work and a document (`Lane`). A newer job in a lane cancels the older one;
the older request is then answered with an empty result (GenerationCancelled), not an error.
Completions and actions have separate lanes, so a keystroke never cancels a refactor. A
`$/cancelRequest` from the client cancels the awaiting task, which cancels the job in the
worker too. Background jobs (prefetch, warm-up) start only when no user job is running and are
cancelled by the next user job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.model.protocol import GenerationResult, Job
from lsp_server.privacy.redact import pending_chars, redact_job

logger = logging.getLogger(__name__)

# Grace on top of the job's own deadline before the server stops waiting for the worker.
DEADLINE_GRACE_S = 5.0
# Redaction of more text than this (not memoised) runs in a thread, off the event loop: about
# a millisecond on ordinary code, a few on adversarial text (bench/redaction.py).
REDACT_INLINE_CHARS = 16_000

Runner = Callable[[Job], Awaitable[GenerationResult]]


class LaneKind(Enum):
    COMPLETION = "completion"  # the editor's completion requests: the newest one wins
    ACTION = "action"  # explain, refactor, rewrite, fix, review
    BACKGROUND = "background"  # prefetch and warm-up: only when idle, first to go


@dataclass(frozen=True)
class Lane:
    kind: LaneKind
    uri: str

    @property
    def background(self) -> bool:
        return self.kind is LaneKind.BACKGROUND


class Scheduler:
    def __init__(self, run: Runner) -> None:
        self._run = run
        self._lanes: dict[Lane, asyncio.Task[GenerationResult]] = {}
        self._background: set[asyncio.Task[GenerationResult]] = set()
        self._submitted: dict[Lane, int] = {}  # per user lane: jobs submitted so far

    @property
    def busy(self) -> bool:
        return any(not task.done() for task in self._lanes.values())

    async def submit(self, lane: Lane, job: Job) -> GenerationResult:
        background = lane.background
        if not background:
            self._submitted[lane] = number = self._submitted.get(lane, 0) + 1
        job = await self._redacted(job)  # the one path to any model: secrets never leave
        if not background and self._submitted.get(lane) != number:
            # A newer request for the lane came while this one was being redacted.
            raise GenerationCancelled("superseded by a newer request")
        if background:
            if self.busy:
                raise GenerationCancelled("the model is busy with a request")
            task = asyncio.ensure_future(self._run(job))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            for other in list(self._background):
                other.cancel()  # user work first
            previous = self._lanes.get(lane)
            if previous is not None and not previous.done():
                previous.cancel()
            task = asyncio.ensure_future(self._run(job))
            self._lanes[lane] = task
        try:
            return await asyncio.wait_for(asyncio.shield(task), job.deadline_s + DEADLINE_GRACE_S)
        except TimeoutError:
            task.cancel()
            raise ModelUnavailable("the model did not answer before the deadline") from None
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                task.cancel()  # the client cancelled this request
                raise
            raise GenerationCancelled("superseded by a newer request") from None
        finally:
            if self._lanes.get(lane) is task and task.done():
                del self._lanes[lane]

    @staticmethod
    async def _redacted(job: Job) -> Job:
        if pending_chars(job) <= REDACT_INLINE_CHARS:
            return redact_job(job)
        return await asyncio.to_thread(redact_job, job)

    def cancel_lane(self, lane: Lane) -> None:
        self._submitted[lane] = self._submitted.get(lane, 0) + 1  # and any being redacted
        task = self._lanes.pop(lane, None)
        if task is not None:
            task.cancel()

    def cancel_document(self, uri: str) -> None:
        """Cancel the user jobs about `uri` (its completion and its action)."""
        self.cancel_lane(Lane(LaneKind.COMPLETION, uri))
        self.cancel_lane(Lane(LaneKind.ACTION, uri))
