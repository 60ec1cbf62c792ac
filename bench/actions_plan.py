"""The actions bench's tasks: the corpus (private copies of the quality bench's repositories
and their functions) and, per action and language, the functions a seed draws from one half:
review functions with their seeded bug (operators taken in turn), explain functions with their
doc removed, refactor functions (Python: ones that can be run first)."""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.actions_explain import remove_doc
from bench.actions_mutate import OPERATORS, Mutation, sites, still_parses
from bench.actions_pure import compare, purity
from bench.actions_tasks import Function, discover, draw, node_of, parse
from bench.quality_tasks import REPOS, copy_repo
from lsp_server.context.documents import Document
from lsp_server.features.signature import parameters, returns_something

MAX_PER_FILE = 2  # functions per file and action: generated files (pygls' client) hold hundreds


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
        package = self.packages[fn.repo]
        return f"{package}.{dotted}" if dotted != "__init__" else package

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
