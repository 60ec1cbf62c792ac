"""The scheduler with a scripted runner: lanes are independent, the newest job in a lane wins,
background jobs run only when no user job does and give way to any, and cancelling (a lane, a
document, a client's request) stops the job in the runner too."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.model import scheduler as scheduler_module
from lsp_server.model.protocol import CompletionJob, GenerationResult, Job
from lsp_server.model.scheduler import Lane, LaneKind, Scheduler

A, B = "file:///a.py", "file:///b.py"


def job(tag: str, deadline_s: float = 30.0) -> CompletionJob:
    return CompletionJob(prefix="x = ", suffix="", middle=tag, deadline_s=deadline_s)


def tag(job: Job) -> str:
    assert isinstance(job, CompletionJob)
    return job.middle


class Runner:
    """Each job waits until the test releases it (or at once with `hold=False`); what started,
    finished and was cancelled is recorded, and which user jobs ran at the same time."""

    def __init__(self, hold: bool = True) -> None:
        self.hold = hold
        self.release: dict[str, asyncio.Event] = {}
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.running: set[str] = set()

    async def __call__(self, job: Job) -> GenerationResult:
        name = tag(job)
        self.started.append(name)
        self.running.add(name)
        try:
            if self.hold:
                await self.release.setdefault(name, asyncio.Event()).wait()
            self.finished.append(name)
            return GenerationResult(text=f"answer {name}")
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        finally:
            self.running.discard(name)

    def let(self, name: str) -> None:
        self.release.setdefault(name, asyncio.Event()).set()


async def started(runner: Runner, name: str) -> None:
    for _ in range(200):
        if name in runner.started:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{name} never started: {runner.started}")


def submit(sched: Scheduler, kind: LaneKind, uri: str, name: str) -> asyncio.Task[GenerationResult]:
    return asyncio.ensure_future(sched.submit(Lane(kind, uri), job(name)))


async def test_the_newest_job_in_a_lane_wins() -> None:
    runner = Runner()
    sched = Scheduler(runner)
    old = submit(sched, LaneKind.COMPLETION, A, "old")
    await started(runner, "old")
    new = submit(sched, LaneKind.COMPLETION, A, "new")
    with pytest.raises(GenerationCancelled, match="superseded"):
        await old
    await started(runner, "new")
    runner.let("new")
    assert (await new).text == "answer new"
    assert runner.cancelled == ["old"] and runner.finished == ["new"]
    assert not sched.busy


async def test_lanes_are_independent_by_kind_and_document() -> None:
    runner = Runner()
    sched = Scheduler(runner)
    action = submit(sched, LaneKind.ACTION, A, "action")
    other = submit(sched, LaneKind.COMPLETION, B, "b")
    await started(runner, "action")
    await started(runner, "b")
    typing = [submit(sched, LaneKind.COMPLETION, A, f"key{i}") for i in range(3)]
    await started(runner, "key2")
    for name in ("action", "b", "key2"):
        runner.let(name)
    assert (await action).text == "answer action"  # keystrokes never cancel an action
    assert (await other).text == "answer b"
    results = await asyncio.gather(*typing, return_exceptions=True)
    assert isinstance(results[-1], GenerationResult)
    assert all(isinstance(r, GenerationCancelled) for r in results[:-1])


async def test_background_runs_only_when_idle_and_gives_way() -> None:
    runner = Runner()
    sched = Scheduler(runner)
    user = submit(sched, LaneKind.COMPLETION, A, "user")
    await started(runner, "user")
    with pytest.raises(GenerationCancelled, match="busy"):
        await sched.submit(Lane(LaneKind.BACKGROUND, B), job("refused"))
    assert "refused" not in runner.started
    runner.let("user")
    await user
    prefetch = submit(sched, LaneKind.BACKGROUND, A, "prefetch")
    await started(runner, "prefetch")
    assert not sched.busy  # background work does not make the model busy for others
    action = submit(sched, LaneKind.ACTION, B, "action")  # any user job, any document
    with pytest.raises(GenerationCancelled):
        await prefetch
    runner.let("action")
    await action
    assert runner.cancelled == ["prefetch"]


async def test_cancel_a_lane_or_a_document() -> None:
    runner = Runner()
    sched = Scheduler(runner)
    a_completion = submit(sched, LaneKind.COMPLETION, A, "a1")
    a_action = submit(sched, LaneKind.ACTION, A, "a2")
    b_completion = submit(sched, LaneKind.COMPLETION, B, "b1")
    for name in ("a1", "a2", "b1"):
        await started(runner, name)
    sched.cancel_document(A)
    for task in (a_completion, a_action):
        with pytest.raises(GenerationCancelled):
            await task
    assert sorted(runner.cancelled) == ["a1", "a2"]
    sched.cancel_lane(Lane(LaneKind.COMPLETION, B))
    with pytest.raises(GenerationCancelled):
        await b_completion
    assert not sched.busy


async def test_a_client_cancel_cancels_the_job_and_is_not_an_empty_answer() -> None:
    runner = Runner()
    sched = Scheduler(runner)
    request = submit(sched, LaneKind.COMPLETION, A, "asked")
    await started(runner, "asked")
    request.cancel()  # $/cancelRequest cancels the handler's task
    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.sleep(0)
    assert runner.cancelled == ["asked"]


async def test_a_job_past_its_deadline_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler_module, "DEADLINE_GRACE_S", 0.0)
    runner = Runner()
    sched = Scheduler(runner)
    with pytest.raises(ModelUnavailable, match="deadline"):
        await sched.submit(Lane(LaneKind.ACTION, A), job("slow", deadline_s=0.05))
    await asyncio.sleep(0)
    assert runner.cancelled == ["slow"]


def test_lanes_are_values() -> None:
    assert Lane(LaneKind.ACTION, A) == Lane(LaneKind.ACTION, A)
    assert len({Lane(k, u) for k in LaneKind for u in (A, B)}) == 6
    assert [k for k in LaneKind if Lane(k, A).background] == [LaneKind.BACKGROUND]


# -- any sequence of submissions ------------------------------------------------------------

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["submit", "submit", "release", "cancel_document"]),
        st.sampled_from(list(LaneKind)),
        st.sampled_from([A, B]),
    ),
    min_size=1,
    max_size=25,
)


async def _run(steps: Sequence[tuple[str, LaneKind, str]]) -> None:
    runner = Runner()
    sched = Scheduler(runner)
    tasks: dict[str, tuple[Lane, asyncio.Task[GenerationResult]]] = {}
    for i, (step, kind, uri) in enumerate(steps):
        if step == "submit":
            name = f"{kind.value}-{uri[-4]}-{i}"
            tasks[name] = (Lane(kind, uri), submit(sched, kind, uri, name))
        elif step == "release" and runner.running:
            runner.let(sorted(runner.running)[0])
        elif step == "cancel_document":
            sched.cancel_document(uri)
        await asyncio.sleep(0.002)
        # At most one job runs per user lane, and background work never runs beside user work.
        lanes = [tasks[n][0] for n in runner.running]
        user = [lane for lane in lanes if not lane.background]
        assert len(user) == len(set(user)), user
        assert not (user and len(user) < len(lanes)), lanes
    for name in list(tasks):
        runner.let(name)
    names = list(tasks)
    outcomes = dict(
        zip(
            names,
            await asyncio.wait_for(
                asyncio.gather(*(tasks[n][1] for n in names), return_exceptions=True), 5
            ),
            strict=True,
        )
    )
    # Every request is answered: a result, or an empty answer (cancelled); nothing else.
    assert all(isinstance(o, GenerationResult | GenerationCancelled) for o in outcomes.values())
    # The newest job of each user lane gets its answer, unless its document was cancelled after.
    for name, (lane, _) in tasks.items():
        index = int(name.rsplit("-", 1)[1])
        newest = all(tasks[o][0] != lane or int(o.rsplit("-", 1)[1]) <= index for o in tasks)
        cancelled = any(s == "cancel_document" and u == lane.uri for s, _, u in steps[index:])
        if newest and not lane.background and not cancelled:
            assert outcomes[name] == GenerationResult(text=f"answer {name}"), (name, steps)
    assert not sched.busy and not runner.running


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_any_sequence_keeps_the_lane_rules_and_answers_every_request(
    steps: list[tuple[str, LaneKind, str]],
) -> None:
    asyncio.run(_run(steps))
