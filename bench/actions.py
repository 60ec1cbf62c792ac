"""Are review, refactor and explain right? (issue 22, item 1) Measured through a real LSP client
against `enclave serve` with the real model, on functions of the real repositories the quality
bench uses (bench/quality.py REPOS: Python, TypeScript, Go).

  review    each function twice, with one seeded bug (bench/actions_mutate.py) and unchanged:
            recall = a published finding whose range holds the seeded line; false alarms =
            error/warning findings per unchanged function; seconds and findings per function
  refactor  every refactor.rewrite code action, resolved as VS Code does; offered = an edit came
            back; pure Python functions run before and after on generated inputs in a sandboxed
            subprocess (bench/actions_pure.py); others: offered and parses only. The fix path:
            a seeded bug that the inputs expose, a diagnostic on its line, the quick fix, and
            whether the fixed function behaves as the original again. Generated tokens/s.
  explain   the function's doc removed first: all parameters named, the return stated,
            identifiers that exist nowhere (bench/actions_explain.py)

    .venv/bin/python -m bench.actions --half held-out            # the reported figures, 1.5B
    .venv/bin/python -m bench.actions --size 0.5b --tasks 2      # a quick run on the tune half
    .venv/bin/python -m bench.actions --report bench/results/actions-....json   # table again

Writes bench/results/actions-<time>-<size>.json (rewritten after every task) and prints a table
per language and per action. docs/actions.md has the method and today's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench import actions_report
from bench.actions_explain import (
    hallucinations,
    missing_parameters,
    says_what_is_returned,
)
from bench.actions_mutate import Mutation
from bench.actions_plan import Corpus, make_corpus, plan
from bench.actions_refactor import refactor_one
from bench.actions_run import ActionsServer, lsp_range
from bench.actions_tasks import LANGUAGES, Function, node_of
from lsp_server.context.documents import Document

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ACTIONS = ("review", "refactor", "explain")


# -- running ---------------------------------------------------------------------------------


def _range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def finding(d: types.Diagnostic) -> dict[str, Any]:
    data = d.data if isinstance(d.data, dict) else {}
    return {
        "start_line": d.range.start.line,
        "end_line": d.range.end.line,
        "severity": {1: "error", 2: "warning", 3: "information", 4: "hint"}.get(
            int(d.severity or 2), "warning"
        ),
        "category": d.code,
        "message": d.message,
        "quote": data.get("quote", ""),
        "basis": data.get("basis", "model"),  # the slip pass, or the model's answer
    }


async def review_one(server: ActionsServer, corpus: Corpus, task: dict[str, Any]) -> dict[str, Any]:
    fn: Function = task["fn"]
    m: Mutation = task["mutation"]
    path = corpus.path(fn)
    original = corpus.doc(fn).text
    texts = {"unchanged": original, "mutant": m.apply(original)}
    record: dict[str, Any] = {
        "function": fn.identity,
        "language": fn.language,
        "half": fn.half,
        "lines": [fn.start_line, fn.end_line],
        "mutation": {
            "operator": m.operator,
            "line": m.line,
            "original": m.original,
            "replacement": m.replacement,
            "line_before": original.split("\n")[m.line],
            "line_after": texts["mutant"].split("\n")[m.line],
        },
    }
    for variant in task["order"]:
        text = texts[variant]
        end = fn.end_line + (m.line_delta() if variant == "mutant" else 0)
        uri = server.open(path, text)
        try:
            argument = {"uri": uri, "range": _range_json(lsp_range(fn.start_line, end, text))}
            result, seconds, jobs = await server.command("review", argument)
            found = [finding(d) for d in server.diagnostics.get(uri, [])]
            out: dict[str, Any] = {
                "seconds": round(seconds, 2),
                "result": result,
                "findings": found,
                "jobs": jobs.summary(),
                "answer": jobs.answers[-1] if jobs.answers else "",
            }
            if variant == "mutant":
                out["hit"] = any(f["start_line"] <= m.line <= f["end_line"] for f in found)
        except Exception as exc:  # a failed request is a result too
            out = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            server.close(uri)
        record[variant] = out
    return record


async def explain_one(
    server: ActionsServer, corpus: Corpus, task: dict[str, Any]
) -> dict[str, Any]:
    fn: Function = task["fn"]
    text: str = task["text"]
    path = corpus.path(fn)
    doc = Document(path.as_uri(), corpus.doc(fn).language_id, 1, text)
    node = node_of(doc, fn)
    assert node is not None
    record: dict[str, Any] = {
        "function": fn.identity,
        "language": fn.language,
        "half": fn.half,
        "params": task["params"],
        "returns": task["returns"],
        "had_doc": task["had_doc"],
    }
    uri = server.open(path, text)
    try:
        rng = lsp_range(node.start_point.row, node.end_point.row, text)
        result, seconds, jobs = await server.command(
            "explain", {"uri": uri, "range": _range_json(rng)}
        )
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
        return record
    finally:
        server.close(uri)
    markdown = str((result or {}).get("markdown", ""))
    missing = missing_parameters(markdown, task["params"])
    said = says_what_is_returned(markdown)
    record.update(
        {
            "seconds": round(seconds, 2),
            "markdown": markdown,
            "jobs": jobs.summary(),
            "missing_params": missing,
            "return_stated": said,
            "complete": not missing and (said or not task["returns"]),
            "hallucinated": hallucinations(markdown, text, fn.language),
        }
    )
    return record


# -- the run ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="enclave-actions-"))
    report: dict[str, Any] = {
        "command": "python -m bench.actions " + " ".join(sys.argv[1:]),
        "size": args.size,
        "seed": args.seed,
        "half": args.half,
        "tasks_per_language": args.tasks,
        "refactor_tasks_per_language": args.refactor_tasks,
        "threads": args.threads,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load": f"{os.getloadavg()[0]:.1f}",  # the machine is shared: its load, start -> end
    }
    try:
        corpus, missing = make_corpus(tmp, args.language)
        report["missing"] = missing
        tasks = plan(corpus, args)
        counts = {a: len(t) for a, t in tasks.items()}
        print(f"tasks: {counts}; missing repositories: {missing or 'none'}", flush=True)
        if args.plan:
            for action, todo in tasks.items():
                for task in todo:
                    m = task.get("mutation")
                    what = f"{m.operator} line {m.line + 1}" if m is not None else ""
                    print(f"  {action:8} {task['fn'].identity} {what}")
            return report
        results: dict[str, list[dict[str, Any]]] = {a: [] for a in tasks}
        server = ActionsServer(tmp, args.size, args.threads)
        started = time.monotonic()
        await server.start()
        report["server_start_s"] = round(time.monotonic() - started, 1)
        report["commands"] = server.commands
        try:
            for action, todo in tasks.items():
                for i, task in enumerate(todo, 1):
                    t0 = time.monotonic()
                    print(f"{action} {i}/{len(todo)} {task['fn'].identity}", flush=True)
                    if action == "review":
                        record = await review_one(server, corpus, task)
                    elif action == "refactor":
                        record = await refactor_one(server, corpus, task, args)
                    else:
                        record = await explain_one(server, corpus, task)
                    record["task_seconds"] = round(time.monotonic() - t0, 1)
                    results[action].append(record)
                    print("    " + actions_report.one_line(action, record), flush=True)
                    partial = {**report, "partial": True, "results": results}
                    args.out.write_text(json.dumps(partial, indent=1))
        finally:
            await server.stop()
        report["wall_s"] = round(time.monotonic() - started, 1)
        report["load"] = f"{report['load']} -> {os.getloadavg()[0]:.1f}"
        report["results"] = results
        report["summary"] = actions_report.summarize(results)
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--size", default="1.5b", choices=("1.5b", "0.5b"))
    parser.add_argument(
        "--tasks", type=int, default=4, help="functions per language for review and explain"
    )
    parser.add_argument(
        "--refactor-tasks",
        type=int,
        help="functions per language for the refactors (default: tasks / 2, at least 1)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--half",
        default="tune",
        choices=("tune", "held-out", "all"),
        help="tune on one half, report on the other (fixed by a hash of each function's name)",
    )
    parser.add_argument("--action", action="append", choices=ACTIONS, help="only these actions")
    parser.add_argument("--language", action="append", choices=LANGUAGES, help="only these")
    parser.add_argument(
        "--only", action="append", metavar="TEXT", help="only tasks whose function contains TEXT"
    )
    parser.add_argument(
        "--refactor",
        dest="refactors",
        action="append",
        metavar="NAME",
        help="only these refactors (docstring, annotate, simplify, extract_function, ...)",
    )
    parser.add_argument("--no-fix", action="store_true", help="leave out the fix path")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="the model's threads (model.threads; 0: the server's default, one per core); "
        "1 can be much faster on a machine other jobs keep busy",
    )
    parser.add_argument("--examples", type=int, default=200, help="generated inputs per check")
    parser.add_argument("--plan", action="store_true", help="print the tasks, ask nothing")
    parser.add_argument("--report", type=Path, metavar="RESULTS.json", help="print its table")
    args = parser.parse_args()
    if args.report:
        report = json.loads(args.report.read_text())
        # Summarized again from the records: a figure added since applies to old runs too.
        actions_report.print_report(actions_report.summarize(report["results"]), report)
        return
    args.actions = args.action or list(ACTIONS)
    args.language = args.language or list(LANGUAGES)
    if args.refactor_tasks is None:
        args.refactor_tasks = max(1, args.tasks // 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.out = RESULTS / f"actions-{time.strftime('%Y%m%d-%H%M%S')}-{args.size}.json"
    report = asyncio.run(run(args))
    if args.plan:
        return
    args.out.write_text(json.dumps(report, indent=1))
    actions_report.print_report(report["summary"], report)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
