"""The status bookkeeping both backends share (ModelBackend): state changes reach the listener
once each, waiters settle when loading ends, results are recorded, job ids only grow."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from lsp_server.errors import ModelUnavailable
from lsp_server.model.backend import RECENT, ModelBackend, ModelState
from lsp_server.model.protocol import GenerationResult, GenerationStats, Job


class Backend(ModelBackend):
    def start(self, spec: Any) -> None:
        self._set_state(ModelState.LOADING, "loading")

    async def run(self, job: Job) -> GenerationResult:
        self._check_ready()
        result = GenerationResult("x", GenerationStats(job_id=self._next_job_id()))
        self._record(result)
        return result

    async def stop(self) -> None:
        self._set_state(ModelState.STOPPED, "stopped")


def make() -> tuple[Backend, list[tuple[ModelState, str]]]:
    seen: list[tuple[ModelState, str]] = []
    return Backend(lambda state, reason: seen.append((state, reason))), seen


def test_each_change_reaches_the_listener_once() -> None:
    backend, seen = make()
    backend.start(None)
    backend.start(None)  # the same state and reason: not news
    backend._set_state(ModelState.LOADING, "still loading")
    backend._set_state(ModelState.READY, "ready")
    assert seen == [
        (ModelState.LOADING, "loading"),
        (ModelState.LOADING, "still loading"),
        (ModelState.READY, "ready"),
    ]
    assert backend.ready and backend.pid is None


@pytest.mark.parametrize("end", [ModelState.READY, ModelState.ERROR, ModelState.STOPPED])
async def test_waiters_settle_when_loading_ends(end: ModelState) -> None:
    backend, _ = make()
    backend.start(None)
    waiter = asyncio.ensure_future(backend.wait_ready(30))
    await asyncio.sleep(0)
    backend._set_state(ModelState.LOADING, "another reason")
    await asyncio.sleep(0)
    assert not waiter.done()
    backend._set_state(end, "done")
    assert await asyncio.wait_for(waiter, 1) is (end is ModelState.READY)


async def test_a_stopped_backend_does_not_wait() -> None:
    backend, _ = make()
    assert await asyncio.wait_for(backend.wait_ready(30), 1) is False


async def test_a_wait_times_out_while_loading() -> None:
    backend, _ = make()
    backend.start(None)
    assert await backend.wait_ready(0.05) is False


async def test_not_ready_is_refused_with_the_reason() -> None:
    backend, _ = make()
    with pytest.raises(ModelUnavailable, match="model stopped"):
        await backend.run(None)  # type: ignore[arg-type]
    backend._set_state(ModelState.ERROR, "the server at x is down")
    with pytest.raises(ModelUnavailable, match="the server at x is down"):
        await backend.run(None)  # type: ignore[arg-type]


async def test_results_are_recorded_with_growing_ids() -> None:
    backend, _ = make()
    backend._set_state(ModelState.READY, "ready")
    for _ in range(RECENT + 5):
        await backend.run(None)  # type: ignore[arg-type]
    ids = [s.job_id for s in backend.recent]
    assert ids == list(range(6, RECENT + 6))  # the last RECENT, in order
    assert not backend.last_prompts  # only results that carry their prompt
    backend._record(GenerationResult("y", GenerationStats(job_id=99), prompt="p"))
    assert [r.prompt for r in backend.last_prompts] == ["p"]
