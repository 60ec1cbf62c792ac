"""Completion prompts dumped and compared, without running a model: shows that a change to the
job types or to `prompt_for_job` leaves every prompt byte-identical.

    python -m bench.prompt_dump dump BEFORE.json              # on the old tree: makes the jobs
    python -m bench.prompt_dump dump AFTER.json --jobs BEFORE.json   # on the new tree
    python -m bench.prompt_dump compare BEFORE.json AFTER.json

The jobs: every CompletionJob the unit tests build (recorded while they run), and jobs cut from
real files (every 50th line of a few standard-library and repository files; plain, with
repository context and extra context, with typed text as `middle` and blanks to heal, with small
and large budgets and a small context), each with the model's own template and with two others.
The tokenizer is the bundled model's own (a vocab-only load: no weights, about a second).

To dump an older tree, put it first on the path: `git archive COMMIT | tar -x -C DIR`, then
`PYTHONPATH=DIR python bench/prompt_dump.py dump ...` (the script checks which tree it runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lsp_server
from lsp_server.model.protocol import CompletionJob
from lsp_server.model.provision import MODELS, model_path
from lsp_server.prompts import fim
from lsp_server.prompts.fim import FimTemplate, detect_template, get_template

_STDLIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
TREE = Path(lsp_server.__file__).resolve().parents[1]
FILES = (
    _STDLIB / "textwrap.py",
    _STDLIB / "shlex.py",
    _STDLIB / "json" / "decoder.py",
    _STDLIB / "argparse.py",
    TREE / "lsp_server" / "context" / "documents.py",
    TREE / "lsp_server" / "settings.py",
    TREE / "tests" / "data" / "cart.ts",
    TREE / "tests" / "data" / "shapes.go",
)
UNIT_TESTS = ("test_gather.py", "test_completion.py", "test_completion_state.py", "test_privacy.py")
EVERY = 50  # lines between two cursors
OTHER_TEMPLATES = ("codellama", "prefix-only")
CONTEXTS = (4096, 1024)  # model context lengths: the default, and one that clamps the budget

Count = Callable[[str], int]


# -- the jobs -------------------------------------------------------------------------------


def unit_test_jobs() -> list[CompletionJob]:
    """Every CompletionJob the unit tests construct (dataclasses.replace included)."""
    import pytest

    seen: list[CompletionJob] = []
    init = CompletionJob.__init__

    def recording(self: CompletionJob, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        seen.append(self)

    CompletionJob.__init__ = recording  # type: ignore[method-assign]
    try:
        paths = [str(TREE / "tests" / "unit" / name) for name in UNIT_TESTS]
        code = pytest.main([*paths, "-q", "-p", "no:cacheprovider"])
    finally:
        CompletionJob.__init__ = init  # type: ignore[method-assign]
    if code != 0:
        raise SystemExit(f"the unit tests failed ({code}); their jobs would be incomplete")
    return seen


def _head(path: Path, lines: int) -> str:
    return "\n".join(path.read_text("utf-8").split("\n")[:lines]) + "\n"


def file_jobs() -> Iterator[CompletionJob]:
    """Jobs at every EVERY-th line of FILES, in several shapes."""
    for path in FILES:
        text = path.read_text("utf-8")
        name = path.name if path.is_relative_to(_STDLIB) else str(path.relative_to(TREE))
        comment = "//" if path.suffix in (".ts", ".go") else "#"
        others = tuple((o.name, _head(o, 60)) for o in FILES if o != path)[:3]
        imports = "".join(
            line + "\n" for line in text.split("\n")[:40] if line.startswith(("import", "from"))
        )
        offset = 0
        for number, line in enumerate(text.split("\n")):
            if number % EVERY == 0:
                cursor = offset + len(line) - len(line.lstrip()) + len(line.strip()) // 2
                yield from _shapes(text, cursor, name, comment, others, imports)
            offset += len(line) + 1


def _shapes(
    text: str,
    cursor: int,
    path: str,
    comment: str,
    others: tuple[tuple[str, str], ...],
    imports: str,
) -> Iterator[CompletionJob]:
    plain = CompletionJob(text[:cursor], text[cursor:], path=path, comment_prefix=comment)
    yield plain
    yield dataclasses.replace(plain, path="")
    context = dataclasses.replace(
        plain, context_files=others, context_budget=256, repo="proj", extra_context=imports
    )
    yield context
    yield dataclasses.replace(context, context_budget=0, repo="")
    typed = max(text.rfind("\n", 0, cursor) + 1, cursor - 6)
    yield dataclasses.replace(plain, prefix=text[:typed], middle=text[typed:cursor], heal="  ")
    yield dataclasses.replace(context, prefix=text[:typed], middle=text[typed:cursor])
    yield dataclasses.replace(plain, budget=128, max_tokens=16)
    yield dataclasses.replace(context, budget=2048, max_tokens=128, stop=("\n\n",))


def _job_from_json(raw: dict[str, Any]) -> CompletionJob:
    raw = dict(raw)
    raw["stop"] = tuple(raw["stop"])
    raw["context_files"] = tuple((p, c) for p, c in raw["context_files"])
    return CompletionJob(**raw)


# -- the prompts ----------------------------------------------------------------------------


def _typed_boundary() -> bool:
    return not hasattr(CompletionJob, "to_message")


def build(template: FimTemplate, job: CompletionJob, count: Count, n_ctx: int) -> dict[str, Any]:
    """The prompt the worker builds for `job`, with every field of the BuiltPrompt."""
    if _typed_boundary():
        from lsp_server.model import protocol

        received = protocol.decode_command(protocol.encode(protocol.RunJob(1, job)))
        assert isinstance(received, protocol.RunJob)
        assert isinstance(received.job, CompletionJob)
        built = fim.prompt_for_job(template, received.job, count, n_ctx)
        direct = fim.prompt_for_job(template, job, count, n_ctx)
        if direct != built:  # the HTTP backend passes the job as it is
            raise SystemExit(f"the worker's and the HTTP backend's prompts differ: {job}")
    else:
        # Main before the typed boundary (e0ec8d2): the worker read the decoded message dict.
        message = json.loads(json.dumps(job.to_message(1)))  # type: ignore[attr-defined]
        built = fim.prompt_for_job(template, message, count, n_ctx, 32)
    return dataclasses.asdict(built)


def dump(out: Path, jobs_from: Path | None, size: str) -> None:
    from llama_cpp import Llama

    started = time.monotonic()
    vocab = Llama(str(model_path(MODELS[size])), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode(), add_bos=False, special=True))

    def single(text: str) -> bool:
        ids = vocab.tokenize(text.encode(), add_bos=False, special=True)
        return len(ids) == 1 and bool(vocab.detokenize(ids, special=True) == text.encode())

    own = detect_template(str((vocab.metadata or {}).get("general.architecture", "")), single)
    if jobs_from is not None:
        jobs = [_job_from_json(j) for j in json.loads(jobs_from.read_text())["jobs"]]
    else:
        unique = {json.dumps(dataclasses.asdict(j)): j for j in unit_test_jobs()}
        unique.update({json.dumps(dataclasses.asdict(j)): j for j in file_jobs()})
        jobs = list(unique.values())
    templates = [own, *(get_template(name) for name in OTHER_TEMPLATES)]
    prompts = []
    for i, job in enumerate(jobs):
        cases = [(own, n) for n in CONTEXTS] + [(t, CONTEXTS[0]) for t in templates[1:]]
        for template, n_ctx in cases:
            built = build(template, job, count, n_ctx)
            prompts.append({"job": i, "template": template.name, "n_ctx": n_ctx, **built})
    out.write_text(
        json.dumps(
            {
                "tree": str(TREE),
                "typed_boundary": _typed_boundary(),
                "model": size,
                "jobs": [dataclasses.asdict(j) for j in jobs],
                "prompts": prompts,
            },
            ensure_ascii=False,
        )
    )
    seconds = time.monotonic() - started
    print(f"{out}: {len(jobs)} jobs, {len(prompts)} prompts from {TREE} in {seconds:.0f} s")


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    if a["jobs"] != b["jobs"]:
        print("the two dumps are not of the same jobs (use dump --jobs BEFORE.json)")
        return 2
    key = ("job", "template", "n_ctx")
    old = {tuple(p[k] for k in key): p for p in a["prompts"]}
    new = {tuple(p[k] for k in key): p for p in b["prompts"]}
    same = sum(1 for k, p in old.items() if new.get(k) == p)
    texts = sum(1 for k, p in old.items() if k in new and new[k]["text"] == p["text"])
    print(
        f"{len(a['jobs'])} jobs, {len(old)} prompts before, {len(new)} after: "
        f"{same} identical in every field, {texts} identical texts"
    )
    for k, p in old.items():
        if new.get(k) != p:
            print(f"first difference: job {k}: {a['jobs'][k[0]]}")
            q = new.get(k) or {}
            for field in p:
                if q.get(field) != p[field]:
                    print(f"  {field}: before {p[field]!r:.300}")
                    print(f"  {field}: after  {q.get(field)!r:.300}")
            return 1
    return 0 if len(old) == len(new) == same else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--jobs", type=Path, help="reuse the jobs of this earlier dump")
    d.add_argument("--size", default="1.5b", choices=sorted(MODELS))
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.jobs, args.size)
    else:
        raise SystemExit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
