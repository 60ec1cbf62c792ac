"""Latest-wins scheduling of completion jobs, one lane per document.

A newer job for the same document cancels the older one; the older request is then answered
with an empty result (GenerationCancelled), not an error. A `$/cancelRequest` from the client
cancels the awaiting task, which cancels the job in the worker too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.model.protocol import GenerationResult, Job

logger = logging.getLogger(__name__)

# Grace on top of the job's own deadline before the server stops waiting for the worker.
DEADLINE_GRACE_S = 5.0

Runner = Callable[[Job], Awaitable[GenerationResult]]


class Scheduler:
    def __init__(self, run: Runner) -> None:
        self._run = run
        self._lanes: dict[str, asyncio.Task[GenerationResult]] = {}

    async def submit(self, lane: str, job: Job) -> GenerationResult:
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

    def cancel_lane(self, lane: str) -> None:
        task = self._lanes.pop(lane, None)
        if task is not None:
            task.cancel()
