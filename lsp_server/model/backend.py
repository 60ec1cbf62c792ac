"""What the session needs from a model backend, local or remote.

`WorkerSupervisor` (the local worker process) and `HttpBackend` (an organisation's own
llama.cpp, vLLM or Ollama server) both implement it, so the session and the scheduler hold
either without knowing which.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from lsp_server.model.protocol import GenerationResult, GenerationStats, Job, ModelInfo
from lsp_server.model.supervisor import ModelState


class ModelBackend(Protocol):
    state: ModelState
    reason: str  # why it is in `state`; shown to the user
    info: ModelInfo | None
    recent: deque[GenerationStats]
    last_prompts: deque[GenerationResult]  # only with ENCLAVE_DEBUG_PROMPTS=1

    @property
    def pid(self) -> int | None: ...  # the worker's process id; None for HTTP backends

    @property
    def ready(self) -> bool: ...

    def start(self, spec: Any) -> None:
        """(Re)start with a new configuration; returns at once, the state says the rest."""

    async def run(self, job: Job) -> GenerationResult:
        """Run one job. Raises ModelUnavailable with a user-facing reason when it cannot, and
        GenerationCancelled / CancelledError when cancelled."""
        ...

    async def stop(self) -> None: ...
