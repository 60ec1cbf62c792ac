"""Redaction in the scheduler: every job is redacted before it runs, a large one in a thread
so the event loop keeps serving, and a request superseded while it was being redacted never
reaches the model."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lsp_server.errors import GenerationCancelled
from lsp_server.model import scheduler as scheduler_module
from lsp_server.model.protocol import CompletionJob, GenerationResult, Job
from lsp_server.model.scheduler import REDACT_INLINE_CHARS, Lane, LaneKind, Scheduler

TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def lane(uri: str) -> Lane:
    return Lane(LaneKind.COMPLETION, uri)


def big_job(tag: str) -> CompletionJob:
    filler = f"# {tag}\n" + "value = compute(value)\n" * (REDACT_INLINE_CHARS // 10)
    return CompletionJob(prefix=filler + f'token = "{TOKEN}"\n', suffix="\n", middle=tag)


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[Job] = []

    async def __call__(self, job: Job) -> GenerationResult:
        self.jobs.append(job)
        return GenerationResult(text="ok")


async def test_a_large_job_is_redacted_in_a_thread_while_the_loop_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks = 0
    seen: list[tuple[int, int]] = []
    real = scheduler_module.redact_job

    def spy(job: Job) -> Job:
        before = ticks
        out = real(job)
        time.sleep(0.05)  # room for the loop to show it is free
        seen.append((before, ticks))
        return out

    async def ticker() -> None:
        nonlocal ticks
        while not seen:
            ticks += 1
            await asyncio.sleep(0.001)

    monkeypatch.setattr(scheduler_module, "redact_job", spy)
    run = Recorder()
    task = asyncio.ensure_future(ticker())
    result = await Scheduler(run).submit(lane("a"), big_job("large"))
    await task
    assert result.text == "ok"
    ((before, after),) = seen
    assert after > before  # the loop ran other work while the job was being redacted
    (sent,) = run.jobs
    assert isinstance(sent, CompletionJob) and TOKEN not in sent.prefix


async def test_a_small_job_is_redacted_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    real = scheduler_module.redact_job

    def spy(job: Job) -> Job:
        threads.append(threading.current_thread())
        return real(job)

    monkeypatch.setattr(scheduler_module, "redact_job", spy)
    run = Recorder()
    await Scheduler(run).submit(lane("a"), CompletionJob(prefix=f'token = "{TOKEN}"\n', suffix=""))
    await Scheduler(run).submit(lane("b"), big_job("x"))
    assert threads[0] is threading.main_thread()
    assert threads[1] is not threading.main_thread()
    assert all(TOKEN not in j.prefix for j in run.jobs if isinstance(j, CompletionJob))


async def test_a_request_superseded_during_its_redaction_never_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = scheduler_module.redact_job

    def slow(job: Job) -> Job:
        if isinstance(job, CompletionJob) and job.middle == "old":
            time.sleep(0.3)  # the older request's redaction finishes last
        return real(job)

    monkeypatch.setattr(scheduler_module, "redact_job", slow)
    run = Recorder()
    sched = Scheduler(run)
    old = asyncio.ensure_future(sched.submit(lane("doc"), big_job("old")))
    await asyncio.sleep(0.05)
    new = await sched.submit(lane("doc"), CompletionJob(prefix="x = ", suffix="", middle="new"))
    with pytest.raises(GenerationCancelled):
        await old
    assert new.text == "ok"
    assert [j.middle for j in run.jobs if isinstance(j, CompletionJob)] == ["new"]


async def test_cancelling_a_lane_drops_a_job_still_being_redacted() -> None:
    run = Recorder()
    sched = Scheduler(run)
    pending = asyncio.ensure_future(sched.submit(lane("doc"), big_job("late")))
    await asyncio.sleep(0)
    sched.cancel_lane(lane("doc"))
    with pytest.raises(GenerationCancelled):
        await pending
    assert run.jobs == []
