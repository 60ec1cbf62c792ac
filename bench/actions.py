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
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench import actions_report
from bench.actions_explain import (
    hallucinations,
    missing_parameters,
    parameters,
    remove_doc,
    returns_something,
    says_what_is_returned,
)
from bench.actions_mutate import OPERATORS, Mutation, sites, still_parses
from bench.actions_pure import compare, purity, refactored_purity
from bench.actions_run import ActionsServer, Jobs, apply_workspace_edit, lsp_range
from bench.actions_tasks import LANGUAGES, Function, discover, draw, node_of, parse
from bench.quality import REPOS, copy_repo
from lsp_server.context.documents import Document

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ACTIONS = ("review", "refactor", "explain")
MAX_PER_FILE = 2  # functions per file and action: generated files (pygls' client) hold hundreds
FIX_HINTS = {  # what a linter would say about the seeded line
    "comparison": "this comparison looks inverted",
    "none_check": "this None check looks inverted",
    "bool_op": "the boolean operator here looks wrong",
    "off_by_one": "this looks like an off-by-one error",
    "negation": "a negation seems to be missing here",
    "swap_args": "the arguments of this call look swapped",
    "wrong_variable": "this looks like the wrong variable",
    "bool_literal": "this returns the opposite boolean",
}
FIX_TRIES = 4  # seeded bugs tried until one the generated inputs expose


@dataclass
class Corpus:
    roots: dict[str, tuple[str, Path]]  # repository -> (language, private copy)
    packages: dict[str, str]  # python repository -> importable package
    functions: list[Function]
    docs: dict[tuple[str, str], Document] = field(default_factory=dict)

    def path(self, fn: Function) -> Path:
        return self.roots[fn.repo][1] / fn.file

    def doc(self, fn: Function) -> Document:
        key = (fn.repo, fn.file)
        if key not in self.docs:
            self.docs[key] = parse(self.path(fn))
        return self.docs[key]

    def module(self, fn: Function) -> str:
        dotted = fn.file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        return f"{self.packages[fn.repo]}.{dotted}" if dotted != "__init__" else fn.repo

    def code(self, fn: Function, text: str | None = None) -> str:
        lines = (self.doc(fn).text if text is None else text).split("\n")
        return "\n".join(lines[fn.start_line : fn.end_line + 1])


def make_corpus(tmp: Path, languages: list[str]) -> tuple[Corpus, list[str]]:
    roots: dict[str, tuple[str, Path]] = {}
    packages: dict[str, str] = {}
    missing: list[str] = []
    for language, name, src in REPOS:
        if language not in languages:
            continue
        if not src.is_dir():
            missing.append(f"{name} ({src})")
            continue
        roots[name] = (language, copy_repo(src, tmp / name))
        if language == "python":
            packages[name] = src.name
    return Corpus(roots, packages, discover(roots)), missing


# -- planning --------------------------------------------------------------------------------


def plan_review(
    corpus: Corpus, language: str, n: int, seed: int, half: str
) -> list[dict[str, Any]]:
    """`n` functions with one seeded bug each, the operators taken in turn (a seeded order),
    each from the next function in the draw that has a site for it."""
    rng = random.Random(f"{seed}:review:{language}")
    pool = draw(corpus.functions, "review", language, half, seed)
    ops = list(OPERATORS)
    rng.shuffle(ops)
    chosen: list[dict[str, Any]] = []
    used: set[str] = set()
    per_file: Counter[tuple[str, str]] = Counter()
    cache: dict[str, dict[str, list[Mutation]]] = {}
    while len(chosen) < n:
        before = len(chosen)
        for op in ops:
            if len(chosen) >= n:
                break
            for fn in pool:
                if fn.identity in used or per_file[(fn.repo, fn.file)] >= MAX_PER_FILE:
                    continue
                doc, node = corpus.doc(fn), node_of(corpus.doc(fn), fn)
                if node is None:
                    continue
                if fn.identity not in cache:
                    cache[fn.identity] = sites(doc, node)
                candidates = sorted(cache[fn.identity].get(op, []), key=lambda m: (m.start, m.end))
                random.Random(f"{seed}:{fn.identity}:{op}").shuffle(candidates)
                mutation = next(
                    (m for m in candidates if still_parses(doc, m.apply(doc.text))), None
                )
                if mutation is None:
                    continue
                used.add(fn.identity)
                per_file[(fn.repo, fn.file)] += 1
                order = ["mutant", "unchanged"] if rng.random() < 0.5 else ["unchanged", "mutant"]
                chosen.append({"fn": fn, "mutation": mutation, "order": order})
                break
        if len(chosen) == before:
            break
    return chosen


def plan_explain(
    corpus: Corpus, language: str, n: int, seed: int, half: str
) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    per_file: Counter[tuple[str, str]] = Counter()
    for fn in draw(corpus.functions, "explain", language, half, seed):
        if len(chosen) >= n:
            break
        doc = corpus.doc(fn)
        node = node_of(doc, fn)
        if node is None or per_file[(fn.repo, fn.file)] >= MAX_PER_FILE:
            continue
        params = parameters(node, "." in fn.name)
        removed = remove_doc(doc, node)
        if params is None or removed is None:
            continue
        per_file[(fn.repo, fn.file)] += 1
        chosen.append(
            {
                "fn": fn,
                "params": params,
                "returns": returns_something(node, language),
                "had_doc": removed[1],
                "text": removed[0],
            }
        )
    return chosen


def plan_refactor(
    corpus: Corpus, language: str, n: int, seed: int, half: str
) -> list[dict[str, Any]]:
    """Python: functions that can be run (see actions_pure) first, then others; TypeScript and
    Go: the draw. At most MAX_PER_FILE per file."""
    pool = draw(corpus.functions, "refactor", language, half, seed)
    runnable: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    per_file: Counter[tuple[str, str]] = Counter()
    for fn in pool:
        if per_file[(fn.repo, fn.file)] >= MAX_PER_FILE or node_of(corpus.doc(fn), fn) is None:
            continue
        verdict = None
        if language == "python" and "." not in fn.name:
            root = corpus.roots[fn.repo][1]
            verdict = purity(root, corpus.path(fn), fn.name.split("#")[0])
        if verdict is not None and verdict.ok:
            # Only functions the generated inputs can run (one that always raises cannot be
            # told from its refactor): the runner's probe, on the function against itself.
            code, module = corpus.code(fn), corpus.module(fn)
            probe = compare(module, fn.name.split("#")[0], code, code, seed=seed, examples=1)
            if probe.get("verdict") != "same":
                others.append({"fn": fn, "module": None, "why_not_run": str(probe)[:200]})
                continue
            runnable.append({"fn": fn, "module": module})
            per_file[(fn.repo, fn.file)] += 1
        elif len(others) < n:
            reason = verdict.reason if verdict is not None else "not a module-level function"
            others.append({"fn": fn, "module": None, "why_not_run": reason})
        if len(runnable) >= n:
            break
    chosen = runnable[:n]
    for task in others:
        if len(chosen) >= n:
            break
        fn = task["fn"]
        if per_file[(fn.repo, fn.file)] < MAX_PER_FILE:
            per_file[(fn.repo, fn.file)] += 1
            chosen.append(task)
    return chosen


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


def _parses(doc: Document, text: str) -> bool:
    return still_parses(doc, text)


async def _resolve_edit(
    server: ActionsServer, action: types.CodeAction, uri: str, text: str
) -> tuple[dict[str, Any], str | None, list[str]]:
    """Resolve one lazy action: its record, the document after its edit, the inserted texts."""
    resolved, seconds, jobs = await server.resolve(action)
    data = resolved.data if isinstance(resolved.data, dict) else {}
    record: dict[str, Any] = {
        "title": action.title,
        "seconds": round(seconds, 2),
        "offered": resolved.edit is not None,
        "error": str(data.get("error", "")),
        "attempts": data.get("attempts"),
        "jobs": jobs.summary(),
        "tokens_per_s": _rate(jobs),
        "answers": jobs.answers,  # the model's raw text, attempt by attempt
    }
    if resolved.edit is None:
        return record, None, []
    new_text, inserted = apply_workspace_edit(text, uri, resolved.edit)
    return record, new_text, inserted


def _rate(jobs: Jobs) -> float | None:
    return round(jobs.generated_tokens / (jobs.generate_ms / 1000), 2) if jobs.generate_ms else None


async def refactor_one(
    server: ActionsServer, corpus: Corpus, task: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    fn: Function = task["fn"]
    doc = corpus.doc(fn)
    path = corpus.path(fn)
    original_code = corpus.code(fn)
    record: dict[str, Any] = {
        "function": fn.identity,
        "language": fn.language,
        "half": fn.half,
        "lines": [fn.start_line, fn.end_line],
        "runnable": task["module"] is not None,
        "why_not_run": task.get("why_not_run", ""),
        "requests": [],
    }
    uri = server.open(path, doc.text)
    try:
        rng = lsp_range(fn.start_line, fn.end_line, doc.text)
        listed = await server.code_actions(uri, rng, types.CodeActionKind.RefactorRewrite)
        record["listed"] = [a.title for a in listed]
        for action in listed:
            kind = action.data.get("enclave") if isinstance(action.data, dict) else None
            if kind is None or (args.refactors and kind not in args.refactors):
                continue  # "Rewrite with instruction..." needs the user's words: not measured
            out, new_text, inserted = await _resolve_edit(server, action, uri, doc.text)
            out["action"] = kind
            if new_text is not None:
                out["parses"] = _parses(doc, new_text)
                out["new_code"] = "".join(inserted)
                if task["module"] is not None and out["parses"]:
                    out["behaviour"] = _behaviour(
                        corpus, fn, task, original_code, out["new_code"], args
                    )
            record["requests"].append(out)
            print(f"    {kind:17} {_outcome(out)}", flush=True)
    finally:
        server.close(uri)
    if task["module"] is not None and not args.no_fix:
        record["fix"] = await fix_one(server, corpus, task, args)
        print(f"    {'fix':17} {_outcome(record['fix'])}", flush=True)
    return record


def _outcome(out: dict[str, Any]) -> str:
    if not out.get("offered"):
        return f"not offered: {out.get('error') or out.get('skipped', '')}"[:100]
    behaviour = out.get("behaviour") or {}
    verdict = behaviour.get("verdict", "parses" if out.get("parses") else "does not parse")
    rate = out.get("tokens_per_s")
    return f"offered, {verdict}" + (f", {rate} tok/s" if rate else "")


def _behaviour(
    corpus: Corpus,
    fn: Function,
    task: dict[str, Any],
    original: str,
    new_code: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    name = fn.name.split("#")[0]
    root = corpus.roots[fn.repo][1]
    check = refactored_purity(root, corpus.path(fn), name, new_code)
    if not check.ok:
        return {"verdict": "not_run", "error": f"the refactored code {check.reason}"}
    return compare(task["module"], name, original, new_code, seed=args.seed, examples=args.examples)


async def fix_one(
    server: ActionsServer, corpus: Corpus, task: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """A seeded bug the inputs expose, a diagnostic on its line, the quick fix, and whether the
    fixed function behaves as the original."""
    fn: Function = task["fn"]
    doc = corpus.doc(fn)
    node = node_of(doc, fn)
    name = fn.name.split("#")[0]
    original = corpus.code(fn)
    if node is None:
        return {"offered": False, "skipped": "function not found"}
    found = sites(doc, node)
    candidates = sorted(
        (m for op in FIX_HINTS for m in found.get(op, [])), key=lambda m: (m.start, m.end)
    )
    random.Random(f"{args.seed}:fix:{fn.identity}").shuffle(candidates)
    chosen: Mutation | None = None
    tried = 0
    for m in candidates:
        if tried >= FIX_TRIES:
            break
        mutant = m.apply(doc.text)
        if not still_parses(doc, mutant):
            continue
        tried += 1
        exposed = compare(
            task["module"],
            name,
            original,
            corpus.code(fn, mutant),
            seed=args.seed,
            examples=args.examples,
        )
        if exposed.get("verdict") == "differs":
            chosen = m
            break
    if chosen is None:
        return {"offered": False, "skipped": f"no seeded bug the inputs expose ({tried} tried)"}
    mutant = chosen.apply(doc.text)
    line = mutant.split("\n")[chosen.line]
    diagnostic = types.Diagnostic(
        range=lsp_range(chosen.line, chosen.line, mutant),
        message=f"Possible bug: {FIX_HINTS[chosen.operator]}",
        severity=types.DiagnosticSeverity.Warning,
        source="bench",
    )
    record: dict[str, Any] = {
        "operator": chosen.operator,
        "line": chosen.line,
        "buggy_line": line,
        "original_line": doc.text.split("\n")[chosen.line],
    }
    uri = server.open(corpus.path(fn), mutant)
    try:
        actions = await server.code_actions(
            uri, diagnostic.range, types.CodeActionKind.QuickFix, [diagnostic]
        )
        fix = next(
            (a for a in actions if isinstance(a.data, dict) and a.data.get("enclave") == "fix"),
            None,
        )
        if fix is None:
            return {**record, "offered": False, "skipped": "no fix action listed"}
        out, new_text, _ = await _resolve_edit(server, fix, uri, mutant)
        record.update(out)
        if new_text is not None:
            record["parses"] = _parses(doc, new_text)
            fixed_doc = Document(uri, doc.language_id, 1, new_text)
            fixed_node = node_of(fixed_doc, fn)
            if fixed_node is None:
                record["behaviour"] = {"verdict": "lost", "error": "the function is gone"}
            else:
                lines = new_text.split("\n")
                fixed = "\n".join(lines[fixed_node.start_point.row : fixed_node.end_point.row + 1])
                record["new_code"] = fixed
                record["behaviour"] = _behaviour(corpus, fn, task, original, fixed, args)
    finally:
        server.close(uri)
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


def plan(corpus: Corpus, args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    planners = {"review": plan_review, "refactor": plan_refactor, "explain": plan_explain}
    tasks: dict[str, list[dict[str, Any]]] = {}
    for action in args.actions:
        n = args.refactor_tasks if action == "refactor" else args.tasks
        tasks[action] = []
        for language in args.language:
            chosen = planners[action](corpus, language, n, args.seed, args.half)
            if args.only:
                chosen = [t for t in chosen if any(o in t["fn"].identity for o in args.only)]
            tasks[action] += chosen
    return tasks


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
