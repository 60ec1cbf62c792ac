"""The refactors and the fix, through the server: every refactor.rewrite code action resolved as
VS Code resolves it, the edit applied, parsed and, for runnable Python functions, run before
and after (bench/actions_pure.py); the fix: a seeded bug the inputs expose, a diagnostic on its
line, the quick fix, and whether the function behaves as the original again."""

from __future__ import annotations

import argparse
import random
from typing import Any

from lsprotocol import types

from bench.actions_mutate import Mutation, sites, still_parses
from bench.actions_plan import Corpus
from bench.actions_pure import compare, refactored_purity
from bench.actions_run import ActionsServer, Jobs, apply_workspace_edit, lsp_range
from bench.actions_tasks import Function, node_of
from lsp_server.context.documents import Document

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
                out["parses"] = still_parses(doc, new_text)
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
            record["parses"] = still_parses(doc, new_text)
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
