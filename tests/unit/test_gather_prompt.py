"""Context files in the prompt and the completion job: the multi-file prompt and its fallback,
the share, and the anchor keeping the context stable while typing."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from pathlib import Path
from typing import Any

from lsp_server.context.documents import Document, DocumentSnapshot, DocumentStore, Position
from lsp_server.context.gather.pipeline import GatheredContext
from lsp_server.features.completion import Completer
from lsp_server.model.protocol import (
    CompletionJob,
    GenerationResult,
    RunJob,
    decode_command,
    encode,
)
from lsp_server.prompts.fim import PromptParts, build_prompt, get_template, prompt_for_job
from lsp_server.settings import CompletionSettings


def count(text: str) -> int:
    return len(text) // 4 + 1


def test_multi_file_prompt_for_qwen() -> None:
    qwen = get_template("qwen2.5-coder")
    parts = PromptParts(
        prefix="x = area(",
        suffix=")\n",
        path="main.py",
        context_files=(("a.py", "A = 1"), ("geo.py", "def area(p): ...\n")),
        repo="proj",
    )
    built = build_prompt(qwen, parts, count, 200, context_budget=100)
    assert built.text == (
        "<|repo_name|>proj\n<|file_sep|>a.py\nA = 1\n<|file_sep|>geo.py\ndef area(p): ...\n"
        "<|file_sep|>main.py\n<|fim_prefix|>x = area(<|fim_suffix|>)\n<|fim_middle|>"
    )
    assert built.files_used == ("a.py", "geo.py")
    # Over the context budget: the most relevant (last) file is kept first.
    small = build_prompt(qwen, parts, count, 200, context_budget=12)
    assert small.files_used == ("geo.py",)
    assert small.text.startswith("<|repo_name|>proj\n<|file_sep|>geo.py\n")
    # No context files: the prompt is exactly as before.
    plain = build_prompt(qwen, PromptParts("x = area(", ")\n", "main.py"), count, 200)
    assert (
        plain.text == "<|file_sep|>main.py\n<|fim_prefix|>x = area(<|fim_suffix|>)\n<|fim_middle|>"
    )


def test_context_files_have_their_own_share_and_the_code_window_stays() -> None:
    qwen = get_template("qwen2.5-coder")
    prefix = "".join(f"line_{i} = {i}\n" for i in range(200)) + "x = area("
    code = PromptParts(prefix=prefix, suffix=")\n", path="main.py", extra_context="import geo")
    # The most relevant file (last) is over the share: its first lines are kept, and the less
    # relevant file after it is left out rather than taking its place.
    big = "".join(f"def area_{i}(p): ...\n" for i in range(40))
    parts = dataclasses.replace(code, context_files=(("small.py", "S = 1\n"), ("geo.py", big)))
    built = build_prompt(qwen, parts, count, 400, context_budget=100)
    assert built.files_used == ("geo.py",)
    assert "def area_0(p): ...\ndef area_1(p): ...\n" in built.text
    assert "def area_39" not in built.text and "small.py" not in built.text
    # The code gets the budget minus the files' share, used or not: the same window as the
    # same prompt without context files and a budget without that share.
    alone = build_prompt(qwen, code, count, 300)
    tiny = dataclasses.replace(code, context_files=(("a.py", "A = 1\n"),))
    for with_files in (built, build_prompt(qwen, tiny, count, 400, context_budget=100)):
        assert with_files.prefix_used == alone.prefix_used
        assert with_files.suffix_used == alone.suffix_used
        assert with_files.context_used == alone.context_used


def test_context_files_fall_back_to_comments() -> None:
    codellama = get_template("codellama")
    assert codellama.multi_file is None
    parts = PromptParts(
        prefix="let x = area(",
        suffix="",
        path="main.ts",
        extra_context="import { area } from './geo';",
        context_files=(("geo.ts", "export function area(p: P): number { ... }\n"),),
        comment_prefix="//",
    )
    built = build_prompt(codellama, parts, count, 200, context_budget=100)
    assert built.text.startswith(
        "<PRE> // geo.ts\n// export function area(p: P): number { ... }\n"
        "import { area } from './geo';\nlet x = area("
    )


def test_job_fields_reach_the_prompt() -> None:
    job = CompletionJob(
        prefix="x = area(",
        suffix="",
        path="main.py",
        context_files=(("geo.py", "def area(p): ...\n"),),
        context_budget=64,
        repo="proj",
    )
    command = decode_command(encode(RunJob(1, job)))  # as the worker receives it
    assert isinstance(command, RunJob) and isinstance(command.job, CompletionJob)
    built = prompt_for_job(get_template("qwen2.5-coder"), command.job, count, 4096)
    assert "<|file_sep|>geo.py\ndef area(p): ...\n<|file_sep|>main.py\n" in built.text


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[CompletionJob] = []

    async def __call__(self, uri: str, job: CompletionJob, background: bool) -> GenerationResult:
        self.jobs.append(job)
        return GenerationResult("")


TEXT = "def g():\n    return \n"
CURSOR = TEXT.index("return ") + len("return ")


def typed_at(uri: str, typed: str) -> tuple[DocumentSnapshot, Position]:
    """TEXT with `typed` after `return `, and the position after it."""
    snap = Document(uri, "python", 1, TEXT[:CURSOR] + typed + TEXT[CURSOR:]).snapshot()
    return snap, snap.position_at(CURSOR + len(typed))


def test_anchor_keeps_the_context_while_typing() -> None:
    calls: list[int] = []

    async def fake_gather(snap: DocumentSnapshot, offset: int, budget: int) -> GatheredContext:
        calls.append(offset)
        return GatheredContext((("lib.py", f"def f{len(calls)}(): ...\n"),), "pkg/main.py", "proj")

    model = Recorder()
    completer = Completer(model, gather=fake_gather)
    settings = CompletionSettings(prefetch=False)

    async def run() -> None:
        for typed in ("", "f", "f1"):
            await completer.complete(*typed_at("file:///w/pkg/main.py", typed), settings)

    asyncio.run(run())
    assert len(calls) == 1
    assert [j.context_files for j in model.jobs] == [(("lib.py", "def f1(): ...\n"),)] * 3
    job = model.jobs[0]
    assert job.path == "pkg/main.py" and job.repo == "proj"
    assert job.budget == settings.contextTokens + settings.contextFiles

    # Without context files the job is as before.
    async def nothing(snap: DocumentSnapshot, offset: int, budget: int) -> GatheredContext:
        return GatheredContext()

    off = Completer(Recorder(), gather=nothing)
    rec = off.submit
    asyncio.run(off.complete(*typed_at("file:///w/pkg/main.py", ""), settings))
    assert isinstance(rec, Recorder)
    assert rec.jobs[0].path == "main.py" and rec.jobs[0].budget == settings.contextTokens


def test_a_request_gathering_takes_the_anchor_another_set_meanwhile() -> None:
    """Gathering is awaited (it runs in a thread): a request typed on while it ran, and
    answered first, set the document's anchor; the slower one reuses it, so both prompts
    start the same and the model's cache follows one anchor."""
    release = asyncio.Event()
    calls: list[int] = []

    async def gather(snap: DocumentSnapshot, offset: int, budget: int) -> GatheredContext:
        calls.append(offset)
        if len(calls) == 1:
            await release.wait()  # the first request's search is slow
        return GatheredContext((("lib.py", f"def f{len(calls)}(): ...\n"),), "main.py", "p")

    model = Recorder()
    completer = Completer(model, gather=gather)
    settings = CompletionSettings(prefetch=False)
    uri = "file:///w/main.py"

    async def run() -> None:
        slow = asyncio.create_task(completer.complete(*typed_at(uri, "x"), settings))
        await asyncio.sleep(0)
        await completer.complete(*typed_at(uri, ""), settings)  # sets the anchor at the cursor
        release.set()
        await slow

    asyncio.run(run())
    assert len(calls) == 2
    assert [j.context_files for j in model.jobs] == [(("lib.py", "def f2(): ...\n"),)] * 2
    assert [j.middle for j in model.jobs] == ["", " x"]  # typed after the anchor


def test_the_service_gathers_off_the_event_loop(tmp_path: Path, monkeypatch: Any) -> None:
    from lsp_server.context import service as service_module

    threads: list[int] = []
    real = service_module.gather

    def spy(*args: Any, **kwargs: Any) -> GatheredContext:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(service_module, "gather", spy)
    service = service_module.ContextService(DocumentStore(), lambda: True)
    snap = Document((tmp_path / "m.py").as_uri(), "python", 1, "x = 1\n").snapshot()
    asyncio.run(service.gather(snap, 5, 256))
    assert threads and threads[0] != threading.get_ident()
