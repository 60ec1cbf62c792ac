"""The model worker in-process: it decodes each command into a typed job, answers every job it
can name (invalid, not loaded, failed) and goes on; and its test hook loads the tests' fake
engine from one fixed file and nothing else."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

import lsp_server
from lsp_server.model import worker as worker_module
from lsp_server.model.protocol import (
    CompletionJob,
    Event,
    GenerateJob,
    GenerationResult,
    GenerationStats,
    JobDone,
    JobFailed,
    LoadFailed,
    LoadSpec,
    Ready,
    RunJob,
    Shutdown,
    decode_event,
    encode,
)
from lsp_server.model.supervisor import WORKER_COMMAND, worker_env
from lsp_server.model.worker import Worker, fake_engine_file, load_engine
from tests.fake_engine import FakeEngine, FakeScript

PACKAGE = Path(lsp_server.__file__).resolve().parent
LOAD = encode(LoadSpec("/nowhere.gguf", 4096, 1))


def run_worker(lines: list[str], engine: FakeEngine | None = None) -> list[Event]:
    """Feed `lines` to a worker (its commands all arrive first) and return its events."""
    out = io.StringIO()
    scripted = engine or FakeEngine(FakeScript(text="abc", token_s=0))
    worker = Worker(out, lambda spec: scripted)
    worker.read_commands(io.StringIO("".join(line + "\n" for line in lines)))
    worker.run()
    return [decode_event(line) for line in out.getvalue().splitlines()]


def test_a_job_is_answered_with_figures_from_the_typed_job() -> None:
    job = CompletionJob("x = ", "\n", max_tokens=2, kind="prefetch")
    ready, done = run_worker([LOAD, encode(RunJob(4, job))])
    assert isinstance(ready, Ready) and ready.info.path == "fake"
    assert isinstance(done, JobDone) and done.id == 4
    assert done.result.text == "ab"  # max_tokens from the job
    stats = done.result.stats
    assert (stats.job_id, stats.kind, stats.max_tokens) == (4, "prefetch", 2)
    assert stats.stop_reason == "eos"  # the fake's answer ran out at max_tokens


def test_an_invalid_job_is_answered_and_the_worker_goes_on() -> None:
    bad = json.dumps({"op": "complete", "id": 5, "job": {"prefix": "", "suffix": 3}})
    events = run_worker([LOAD, bad, encode(RunJob(6, GenerateJob("hi")))])
    failed = next(e for e in events if isinstance(e, JobFailed))
    assert failed.id == 5 and "suffix" in failed.message
    assert any(isinstance(e, JobDone) and e.id == 6 and e.result.text == "abc" for e in events)


def test_a_line_that_names_no_job_is_dropped_and_the_worker_goes_on() -> None:
    events = run_worker([LOAD, "garbage", '{"op": "explode"}', encode(RunJob(1, GenerateJob("")))])
    assert [type(e) for e in events] == [Ready, JobDone]


def test_an_invalid_load_command_is_answered() -> None:
    bad = json.dumps({"op": "load", "path": "/m.gguf", "n_ctx": "4096", "threads": 1})
    (failed,) = run_worker([bad])
    assert failed == LoadFailed("invalid load command: load.n_ctx: expected int")


def test_a_job_before_loading_is_answered() -> None:
    (failed,) = run_worker([encode(RunJob(2, GenerateJob("hi")))])
    assert failed == JobFailed(2, "model not loaded")


def test_nothing_after_shutdown_runs() -> None:
    events = run_worker([LOAD, encode(Shutdown()), encode(RunJob(1, GenerateJob("")))])
    assert [type(e) for e in events] == [Ready]


class Closing(FakeEngine):
    closed = 0

    def close(self) -> None:
        self.closed += 1


def test_an_engine_is_closed_when_replaced_and_at_shutdown() -> None:
    """Closing removes what the engine keeps outside the process (saved-state files)."""
    engine = Closing(FakeScript(text="abc", token_s=0))
    run_worker([LOAD, LOAD, encode(Shutdown())], engine)
    assert engine.closed == 2  # the first load's engine when the second came, then the last
    ended = Closing(FakeScript(text="abc", token_s=0))
    run_worker([LOAD], ended)  # the server went away (end of input)
    assert ended.closed == 1


class BrokenFigures(FakeEngine):
    def generate(self, *args: object, **kwargs: object) -> GenerationResult:
        return GenerationResult("x", GenerationStats(prompt_ms=float("inf")))


def test_a_result_that_cannot_be_encoded_is_still_answered() -> None:
    engine = BrokenFigures(FakeScript(token_s=0))
    _, failed = run_worker([LOAD, encode(RunJob(3, GenerateJob("")))], engine)
    assert isinstance(failed, JobFailed) and failed.id == 3 and "finite" in failed.message


# -- the test hook ---------------------------------------------------------------------------


def test_the_hook_finds_the_tests_fake_engine_of_this_tree() -> None:
    assert fake_engine_file(PACKAGE) == Path(__file__).resolve().parents[1] / "fake_engine.py"


def _tree(root: Path, pyproject: str | None, engine: bool) -> Path:
    (root / "lsp_server").mkdir(parents=True)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    if engine:
        (root / "tests").mkdir()
        (root / "tests" / "fake_engine.py").write_text("raise SystemExit('imported')\n")
    return root / "lsp_server"


@pytest.mark.parametrize(
    ("pyproject", "engine"),
    [
        (None, True),  # an installed copy: no project file beside the package
        ('[project]\nname = "someone-else"\n', True),
        ('[project]\nname = "enclave"\n', True),  # the other project of that name
        ('[project]\nname = "enclave-lsp"\n', False),
        ("[project\nname = enclave-lsp", True),  # not TOML
        ('name = "enclave-lsp"\n', True),  # no [project] table
        ('[project]\nname = ["enclave-lsp"]\n', True),
    ],
)
def test_the_hook_refuses_any_other_tree(
    tmp_path: Path, pyproject: str | None, engine: bool
) -> None:
    with pytest.raises(ValueError, match="ENCLAVE_FAKE_MODEL"):
        fake_engine_file(_tree(tmp_path, pyproject, engine))


@pytest.mark.parametrize("value", [None, ""])
def test_the_hook_is_off_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("ENCLAVE_FAKE_MODEL", raising=False)
    else:
        monkeypatch.setenv("ENCLAVE_FAKE_MODEL", value)
    loaded: list[tuple[object, ...]] = []
    monkeypatch.setattr(worker_module, "LlamaEngine", lambda *args: loaded.append(args))
    load_engine(LoadSpec("/m.gguf", 512, 3, state_cache_mb=64, gpu_layers=5, state_folder="/s"))
    assert loaded == [("/m.gguf", 512, 3, 64, 5, "/s")]  # the real engine, the command's values


@pytest.mark.parametrize(
    "script",
    [
        "os:system",  # a name, not a script: the variable is only ever data
        "tests.fake_engine:FakeEngine",
        '{"module": "os"}',
        '{"text": 3}',
        "[]",
    ],
)
def test_a_bad_script_fails_the_load_with_a_reason(
    monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    monkeypatch.setenv("ENCLAVE_FAKE_MODEL", script)
    out = io.StringIO()
    worker = Worker(out)
    worker.load(LoadSpec("/nowhere.gguf", 4096, 1))
    (event,) = [decode_event(line) for line in out.getvalue().splitlines()]
    assert isinstance(event, LoadFailed) and worker.engine is None


def test_the_hook_loads_the_scripted_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCLAVE_FAKE_MODEL", json.dumps({"text": "hi", "token_s": 0}))
    engine = load_engine(LoadSpec("/nowhere.gguf", 4096, 1))
    assert engine.info().path == "fake"
    assert type(engine).__module__ == "enclave_tests_fake_engine"  # by path, not by name


# -- the worker's environment ----------------------------------------------------------------


def test_a_server_run_from_its_tree_passes_that_tree_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m lsp_server` in a source tree: with -P the worker would not find the package
    the server runs from, so that tree (and only it) goes first on the worker's PYTHONPATH."""
    root = PACKAGE.parent
    monkeypatch.setattr(sys, "path", [str(root), *sys.path[1:]])
    env = worker_env({"PYTHONPATH": "/elsewhere", "OTHER": "1"})
    assert env == {"PYTHONPATH": os.pathsep.join((str(root), "/elsewhere")), "OTHER": "1"}


@pytest.mark.parametrize("first", ["", "/usr/bin", "/tmp"])
def test_otherwise_the_environment_is_passed_as_it_is(
    monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    monkeypatch.setattr(sys, "path", [first, *sys.path[1:]])
    assert worker_env({"A": "b"}) == {"A": "b"}
    assert "-P" in WORKER_COMMAND  # the working directory stays off the worker's path
