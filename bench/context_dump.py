"""The repository context of the quality bench's tasks, without a model: a check that a change
to the context code leaves what the model sees as it was (or shows where it does not).

For each task of `bench.quality` (same repositories, same sampling, same settings: caches off,
the default context time budget and share), the task's file is opened in a `Session` and
an inline completion is asked at its line, as the server does; the completion job is caught
before it reaches a model and its context (`context_files`, `extra_context`, `repo`, `path`)
is written out as JSON.

    .venv/bin/python -m bench.context_dump --seed 10 --seed 11 --tasks 48 --out A.json
    .venv/bin/python -m bench.context_dump --compare A.json B.json

Whether the context depends on the machine's load (issue 21): once on an idle machine and once
with `--load N` processes spinning on the CPU beside it, then `--compare` the two
(`--budget-ms` another time budget).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.quality import DEFAULT_SHARE, task_key
from bench.quality_tasks import REPOS, Task, copy_repo, make_tasks
from lsp_server.context.documents import Position
from lsp_server.context.languages import lsp_language_id
from lsp_server.model.protocol import CompletionJob, GenerationResult
from lsp_server.session import Session
from lsp_server.settings import parse_settings

HERE = Path(__file__).resolve().parent
# As bench.quality's context arm: quality, not latency (see Server.configure there).
SETTINGS = {
    "context": {"enabled": True},
    "completion": {"contextFiles": DEFAULT_SHARE, "cache": False, "deadlineMs": 600000},
}


def job_context(job: CompletionJob | None, gather_ms: float) -> dict[str, Any]:
    if job is None:
        return {"job": False}
    return {
        "job": True,
        "context_files": [list(f) for f in job.context_files],
        "extra_context": job.extra_context,
        "repo": job.repo,
        "path": job.path,
        "gather_ms": round(gather_ms, 2),  # for the report; not compared
    }


def spin() -> None:
    """A busy CPU (`--load`)."""
    while True:
        pass


async def dump_repo(
    root: Path, tasks: list[Task], settings: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The context of each task of one repository, from one session (one index), as
    `initialize`, `initialized`, `didOpen` and `didClose` drive it in the server."""
    session = Session()
    session.ignore.add_root(root)
    session.context.set_roots([str(root)])
    session.settings, warnings = parse_settings(settings, session.settings)
    assert not warnings, warnings
    indexing = session.context.start_indexing(session.settings.context.maxFiles)
    assert indexing is not None
    await indexing
    caught: list[CompletionJob] = []

    async def catch(uri: str, job: CompletionJob, background: bool) -> GenerationResult:
        caught.append(job)
        return GenerationResult("")

    session.completer.submit = catch
    out: dict[str, dict[str, Any]] = {}
    for task in tasks:
        path = root / task.file
        lines = path.read_text("utf-8", errors="replace").split("\n")
        lines[task.line] = task.indent
        uri = path.as_uri()
        session.documents.open(uri, lsp_language_id(task.file), 1, "\n".join(lines))
        session.context.on_open(uri)
        caught.clear()
        col = len(task.indent.encode("utf-16-le")) // 2
        await session.complete(uri, Position(task.line, col))
        out[task_key(task)] = job_context(
            caught[0] if caught else None, session.context.last_gather_ms
        )
        session.close_document(uri)
        # The close re-reads the file from disk in the background: done before the next task.
        while session.context._tasks:
            await asyncio.gather(*list(session.context._tasks))
    await session.shutdown()
    return out


def git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(HERE), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


async def dump(seeds: list[int], per_language: int, budget_ms: int | None) -> dict[str, Any]:
    settings = json.loads(json.dumps(SETTINGS))
    if budget_ms is not None:
        settings["context"]["timeBudgetMs"] = budget_ms
    tmp = Path(tempfile.mkdtemp(prefix="enclave-context-dump-"))
    try:
        workspaces: dict[str, tuple[str, Path]] = {}
        missing: list[str] = []
        for language, name, src in REPOS:
            if src.is_dir():
                workspaces[name] = (language, copy_repo(src, tmp / name))
            else:
                missing.append(name)
        results: dict[str, dict[str, Any]] = {}
        for seed in seeds:
            tasks = make_tasks(workspaces, per_language, seed)
            for repo in sorted({t.repo for t in tasks}):
                mine = [t for t in tasks if t.repo == repo]
                got = await dump_repo(workspaces[repo][1], mine, settings)
                results.update({f"{seed}:{key}": value for key, value in got.items()})
            print(f"seed {seed}: {len(tasks)} tasks", file=sys.stderr, flush=True)
        return {
            "commit": git_commit(),
            "settings": settings,
            "seeds": seeds,
            "tasks_per_language": per_language,
            "missing": missing,
            "results": results,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compared(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "gather_ms"}


def compare(a_path: Path, b_path: Path) -> int:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    ra, rb = a["results"], b["results"]
    both = sorted(ra.keys() & rb.keys())
    differ = [k for k in both if compared(ra[k]) != compared(rb[k])]
    only = sorted(ra.keys() ^ rb.keys())
    with_files = sum(1 for k in both if ra[k].get("context_files"))
    slowest = max((v.get("gather_ms", 0.0) for r in (ra, rb) for v in r.values()), default=0.0)
    print(f"A: {a_path} ({a.get('commit')}), B: {b_path} ({b.get('commit')})")
    print(f"tasks in both: {len(both)}; with context files: {with_files}")
    print(f"identical: {len(both) - len(differ)}; different: {len(differ)}; one only: {len(only)}")
    budgets = {
        r.get("settings", SETTINGS)["context"].get("timeBudgetMs", "default") for r in (a, b)
    }
    print(f"slowest gathering: {slowest} ms (time budget {' / '.join(map(str, budgets))} ms)")
    for k in differ:
        print(f"  differs: {k}")
    for k in only:
        print(f"  in one only: {k}")
    return 1 if differ or only or a.get("missing") != b.get("missing") else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, action="append", help="repeatable; default 10, 11")
    parser.add_argument("--tasks", type=int, default=48, help="tasks per language")
    parser.add_argument("--out", type=Path, help="default bench/results/context-<commit>.json")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A.json", "B.json"))
    parser.add_argument(
        "--budget-ms", default="default", help="context.timeBudgetMs (default: the users')"
    )
    parser.add_argument("--load", type=int, default=0, help="processes spinning beside it")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    budget = None if args.budget_ms == "default" else int(args.budget_ms)
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.load)]
    for p in spinners:
        p.start()
    try:
        report = asyncio.run(dump(args.seed or [10, 11], args.tasks, budget))
    finally:
        for p in spinners:
            p.terminate()
    report["load"] = args.load
    out = args.out or HERE / "results" / f"context-{report['commit'][:12]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
