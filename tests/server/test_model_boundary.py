"""The model boundary with real processes: the worker reads typed jobs from a real pipe and
answers every job it can name; the supervisor fails a job whose answer does not decode instead
of waiting for it; and neither the working directory nor PYTHONPATH can put other code in the
worker (a workspace is often the directory the editor starts the server in)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lsp_server.errors import ModelUnavailable
from lsp_server.model.protocol import (
    CompletionJob,
    GenerateJob,
    JobDone,
    JobFailed,
    LoadSpec,
    Ready,
    RunJob,
    Shutdown,
    decode_event,
    encode,
)
from lsp_server.model.supervisor import WORKER_COMMAND, WorkerSupervisor
from tests.helpers import FAKE_MODEL, fake_env

SPEC = LoadSpec(FAKE_MODEL, 4096, 1)


def test_the_worker_answers_an_invalid_job_over_its_pipe() -> None:
    bad = json.dumps(
        {"op": "complete", "id": 7, "job": {"prefix": "", "suffix": "", "budget": "9"}}
    )
    lines = [encode(SPEC), bad, encode(RunJob(8, GenerateJob("hi"))), encode(Shutdown())]
    proc = subprocess.run(
        WORKER_COMMAND,
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=fake_env(text="ok", token_s=0),
        timeout=60,
    )
    events = [decode_event(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0, proc.stderr
    assert any(isinstance(e, Ready) for e in events)  # an invalid job is answered at once
    assert JobFailed(7, "invalid job: job.budget: expected int") in events
    assert any(isinstance(e, JobDone) and e.id == 8 and e.result.text == "ok" for e in events)


def _trap(directory: Path, module: str, marker: Path) -> None:
    """A module at `directory/module` that leaves `marker` behind if it is ever imported."""
    path = directory / module
    path.parent.mkdir(parents=True, exist_ok=True)
    for parent in path.relative_to(directory).parents:
        if str(parent) != ".":
            (directory / parent / "__init__.py").write_text("")
    path.write_text(f"open({str(marker)!r}, 'w').write('imported {module}')\n")


async def test_a_workspace_cannot_put_code_in_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    workspace, elsewhere = tmp_path / "workspace", tmp_path / "elsewhere"
    for directory in (workspace, elsewhere):
        _trap(directory, "lsp_server/model/worker.py", marker)
        _trap(directory, "lsp_server/prompts/fim.py", marker)
        _trap(directory, "tests/fake_engine.py", marker)
        _trap(directory, "enclave_tests_fake_engine.py", marker)
    monkeypatch.chdir(workspace)
    env = fake_env(text="ok", token_s=0)
    # On PYTHONPATH only a tests/ package: the hook never imports by name.
    (elsewhere / "lsp_server").rename(elsewhere / "not_lsp_server")
    env["PYTHONPATH"] = os.pathsep.join((str(elsewhere), env.get("PYTHONPATH", "")))
    supervisor = WorkerSupervisor(lambda state, reason: None, env)
    supervisor.start(SPEC)
    try:
        assert await supervisor.wait_ready(60), supervisor.reason
        result = await supervisor.run(CompletionJob("x = ", ""))
    finally:
        await supervisor.stop()
    assert result.text == "ok"
    assert not marker.exists(), marker.read_text()


# A stand-in worker: ready at once, then answers each job with what ANSWERS says for its id.
STAND_IN = textwrap.dedent(
    """
    import json, sys
    ANSWERS = json.loads(sys.argv[1])
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["op"] == "load":
            print(json.dumps({"event": "ready", "info": {"path": "p", "architecture": "a",
                  "template": "t", "context_length": 1, "load_ms": 0}}), flush=True)
        elif "id" in msg and msg["op"] != "cancel":
            for answer in ANSWERS:
                print(answer.replace("ID", str(msg["id"])), flush=True)
    """
)


async def _run_against(answers: list[str]) -> str | Exception:
    command = [sys.executable, "-c", STAND_IN, json.dumps(answers)]
    supervisor = WorkerSupervisor(lambda state, reason: None, dict(os.environ), command)
    supervisor.start(SPEC)
    try:
        assert await supervisor.wait_ready(30)
        try:
            result = await asyncio.wait_for(supervisor.run(GenerateJob("p")), 10)
        except ModelUnavailable as exc:
            return exc
        return result.text
    finally:
        await supervisor.stop()


@pytest.mark.parametrize(
    "answer",
    [
        '{"event": "result", "id": ID, "result": {"text": 5}}',
        '{"event": "result", "id": ID, "result": {"text": "", "stats": {"prompt_ms": NaN}}}',
        '{"event": "result", "id": ID, "result": {"text": "", "stats": {"evil": 1}}}',
        '{"event": "result", "id": ID}',
        '{"event": "error", "id": ID, "message": ["x"]}',
    ],
)
async def test_an_answer_that_does_not_decode_fails_its_job_at_once(answer: str) -> None:
    outcome = await _run_against([answer])
    assert isinstance(outcome, ModelUnavailable), outcome
    assert "invalid" in str(outcome)


async def test_lines_that_name_no_job_are_skipped() -> None:
    outcome = await _run_against(
        [
            "not json",
            '{"event": "result"}',
            '{"event": "result", "id": 999, "result": {"text": "someone else"}}',
            '{"event": "nonsense", "id": ID}',
            '{"event": "result", "id": ID, "result": {"text": "mine"}}',
        ]
    )
    assert outcome == "mine"


async def test_a_failed_job_is_answered_with_the_workers_reason() -> None:
    outcome = await _run_against(['{"event": "error", "id": ID, "message": "out of memory"}'])
    assert isinstance(outcome, ModelUnavailable) and str(outcome) == "out of memory"
