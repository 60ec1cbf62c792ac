"""What the session needs from a model backend, local or remote, and the status bookkeeping
every backend shares.

`WorkerSupervisor` (the local worker process) and `HttpBackend` (an organisation's own
llama.cpp, vLLM or Ollama server) both derive from `ModelBackend`, so the session and the
scheduler hold either without knowing which.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import enum
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

from lsp_server.errors import ModelUnavailable
from lsp_server.model.protocol import GenerationResult, GenerationStats, Job, ModelInfo

RECENT = 50  # results kept for enclave/getStatus


class ModelState(enum.Enum):
    STOPPED = "stopped"
    LOADING = "loading"
    READY = "ready"
    ERROR = "error"


StateListener = Callable[[ModelState, str], None]


class ModelBackend(abc.ABC):
    """A model backend: its state (with the reason, shown to the user), what it runs, the
    figures of its recent jobs. Subclasses start, stop and run; they change the state only
    through `_set_state` and record every result through `_record`."""

    def __init__(self, on_state: StateListener) -> None:
        self._on_state = on_state
        self.state = ModelState.STOPPED
        self.reason = ""  # why it is in `state`
        self.info: ModelInfo | None = None
        self.recent: deque[GenerationStats] = deque(maxlen=RECENT)
        self.last_prompts: deque[GenerationResult] = deque(maxlen=RECENT)  # ENCLAVE_DEBUG_PROMPTS
        self._job_ids = itertools.count(1)  # getStatus 'after' reads them in order
        self._settled: list[asyncio.Future[None]] = []

    @property
    def pid(self) -> int | None:
        """The worker's process id; None for HTTP backends."""
        return None

    @property
    def ready(self) -> bool:
        return self.state is ModelState.READY

    @abc.abstractmethod
    def start(self, spec: Any) -> None:
        """(Re)start with a new configuration; returns at once, the state says the rest."""

    @abc.abstractmethod
    async def run(self, job: Job) -> GenerationResult:
        """Run one job. Raises ModelUnavailable with a user-facing reason when it cannot, and
        GenerationCancelled / CancelledError when cancelled."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    async def wait_ready(self, timeout: float) -> bool:
        """For tools and tests: wait until loading (or connecting) ends, ready or not."""
        if self.state is not ModelState.LOADING:
            return self.ready
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._settled.append(fut)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fut, timeout)
        return self.ready

    def _check_ready(self) -> None:
        if self.state is not ModelState.READY:
            raise ModelUnavailable(self.reason or f"model {self.state.value}")

    def _next_job_id(self) -> int:
        return next(self._job_ids)

    def _set_state(self, state: ModelState, reason: str) -> None:
        if (state, reason) == (self.state, self.reason):
            return
        self.state, self.reason = state, reason
        if state is not ModelState.LOADING:
            for fut in self._settled:
                if not fut.done():
                    fut.set_result(None)
            self._settled.clear()
        self._on_state(state, reason)

    def _record(self, result: GenerationResult) -> None:
        self.recent.append(result.stats)
        if result.prompt:
            self.last_prompts.append(result)
