"""Line-completion quality with and without repository context.

Tasks are cut from real multi-file code we did not write, found on this machine (see REPOS):
a line inside a function body is emptied (its indentation kept) and the server must write it
back through textDocument/inlineCompletion, asked by a real LSP client over stdio with the
repository folder as the workspace (rootUri + workspaceFolders), so the whole repository is
indexed. Two arms on the same tasks, in the same server (one model load):

  file-only  context.enabled = false: the current file only (the prompt as before)
  context    context.enabled = true: definitions used near the cursor + recent chunks
  plain      the floor: llama.vim's prompt (64 lines before, 16 after, FIM PSM, no context,
             greedy, stop at the newline) through raw llama-cpp-python (bench/plain_arm.py);
             --no-plain leaves it out

Metrics per language and arm: exact match (stripped) and edit similarity (difflib ratio) of
the first suggested line against the original line (an automatic request: as typed), then of
an invoked request on the same prompt, as the editor's next-suggestion key sends (the server
adds its alternatives): its first item ("asked") and top-3 exact; the share
of empty answers (counted by the server's lastEmptyReason) and the prompt tokens a cold
request evaluates. Tasks whose
original line names a symbol defined in another file of the repository (and not in its own
file) are also reported apart ("cross-file").

    .venv/bin/python -m bench.quality                    # 24 tasks per language, 1.5B
    .venv/bin/python -m bench.quality --size 0.5b --tasks 5

Writes bench/results/quality-<time>.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.lsp_client import BenchServer
from bench.plain_arm import MAX_TOKENS, PlainArm
from bench.quality_tasks import REPOS, RESULTS, Task, copy_repo, make_tasks
from lsp_server.context.languages import lsp_language_id
from lsp_server.model.provision import MODELS, model_path
from lsp_server.settings import CompletionSettings


@dataclass
class Outcome:
    arm: str
    suggestion: str
    exact: bool
    similarity: float
    seconds: float
    context_in_prompt: bool
    context_files: list[str] = field(default_factory=list)  # as the prompt names them
    raw: str = ""  # what the model wrote, before the server cleaned it
    stop_reason: str = ""
    # sha256 of the prompt the model saw: two runs' answers to one task can only differ if
    # this differs (caches off, greedy), so a refactor can be shown to change no prompt.
    prompt_sha: str = ""
    empty_reason: str = ""  # the server's lastEmptyReason when the answer was empty
    prompt_tokens: int = 0  # tokens of the prompt (caches off: all evaluated, as cold)
    # Tokens the model generated, and the tokens of the whole suggestion shown (all its
    # lines, not only the first one scored): the difference is work nobody saw (item 6).
    generated_tokens: int = 0
    shown_tokens: int = 0
    max_tokens: int = 0  # the request's token limit (a "length" stop reached it)
    # The first line of every item of an invoked request (the alternatives to cycle, ranked
    # by the model's likelihood per token), whether the original line is among the first
    # three, and whether it is the first (`exact` is the automatic request's: as typed).
    candidates: list[str] = field(default_factory=list)
    top3: bool = False
    invoked_exact: bool = False


@dataclass
class Result:
    task: Task
    outcomes: dict[str, Outcome] = field(default_factory=dict)


class Server(BenchServer):
    """One `enclave serve` over stdio for one repository."""

    def __init__(self, root: Path, size: str, cache: bool, count: Callable[[str], int]) -> None:
        options = {
            "model": {"size": size},
            # Quality, not latency: a busy machine must not cut answers short.
            "completion": {"deadlineMs": 600000},
        }
        super().__init__(root, options, name="enclave-quality")
        self.count = count  # the model's tokens in a text
        self.size = size
        self.cache = cache

    def configure(self, arm: str) -> None:
        """`file-only`, `context` (the defaults), `context-<tokens>` (another share for the
        repository context) or `window-<tokens>` (another completion.contextTokens)."""
        share = int(arm.split("-")[1]) if arm.startswith("context-") else DEFAULT_SHARE
        window = int(arm.split("-")[1]) if arm.startswith("window-") else DEFAULT_WINDOW
        settings = {
            # The users' context time budget: a busy machine gathers the same context as an
            # idle one with it (bench.context_dump --load; docs/context.md).
            "context": {"enabled": arm != "file-only"},
            "completion": {"contextFiles": share, "contextTokens": window, "cache": self.cache},
        }
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )

    async def complete(self, task: Task, arm: str) -> Outcome:
        path = self.root / task.file
        lines = path.read_text("utf-8", errors="replace").split("\n")
        lines[task.line] = task.indent
        text = "\n".join(lines)
        uri = path.as_uri()
        self.version += 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, lsp_language_id(task.file), self.version, text)
            )
        )
        col = len(task.indent.encode("utf-16-le")) // 2

        async def ask(kind: types.InlineCompletionTriggerKind) -> list[types.InlineCompletionItem]:
            params = types.InlineCompletionParams(
                context=types.InlineCompletionContext(trigger_kind=kind),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(task.line, col),
            )
            result = await self.client.text_document_inline_completion_async(params)
            return list(
                result.items if isinstance(result, types.InlineCompletionList) else result or []
            )

        # As typed (automatic: the greedy answer alone), then as asked for (invoked: the
        # alternatives too, ranked); the second reuses the evaluated prompt.
        start = time.monotonic()
        items = await ask(types.InlineCompletionTriggerKind.Automatic)
        seconds = time.monotonic() - start
        raw = items[0].insert_text if items else ""
        if isinstance(raw, types.StringValue):
            raw = raw.value
        first = str(raw).split("\n")[0].strip()
        status = await self.status(after=self.last_job)
        # Only this request's jobs: a request that never reached the model has none.
        prompts = [p for p in status.get("lastPrompts") or [] if p.get("kind") == "user"]
        recent = status.get("recent") or []
        self.last_job = max([self.last_job, *(int(r["job_id"]) for r in recent)])
        prompt = str(prompts[-1].get("prompt", "")) if prompts else ""
        job = prompts[-1].get("job_id") if prompts else None
        stats: dict[str, Any] = next((r for r in reversed(recent) if r.get("job_id") == job), {})
        invoked = [
            first_line(item.insert_text)
            for item in await ask(types.InlineCompletionTriggerKind.Invoked)
        ]
        later = await self.status(after=self.last_job)
        self.last_job = max([self.last_job, *(int(r["job_id"]) for r in later.get("recent") or [])])
        # Closing forgets the suggestion cache and anchors: each arm asks the model afresh.
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        in_prompt = "<|repo_name|>" in prompt
        files = re.findall(r"<\|file_sep\|>([^\n]*)\n", prompt)[:-1]  # the last is the file
        last = prompts[-1] if prompts else {}
        return Outcome(
            arm,
            first,
            first == task.answer,
            difflib.SequenceMatcher(None, first, task.answer).ratio(),
            seconds,
            in_prompt,
            files,
            str(last.get("text", "")),
            str(last.get("stop_reason", "")),
            hashlib.sha256(prompt.encode()).hexdigest() if prompt else "",
            "" if first else str(status.get("lastEmptyReason", "")),
            int(stats.get("prompt_tokens", 0)),
            int(stats.get("generated_tokens", 0)),
            self.count(str(raw)) if raw else 0,
            int(stats.get("max_tokens", 0)),
            invoked,
            task.answer in invoked[:3],
            bool(invoked) and invoked[0] == task.answer,
        )


def first_line(text: str | types.StringValue) -> str:
    raw = text.value if isinstance(text, types.StringValue) else text
    return raw.split("\n")[0].strip()


ARMS = ("file-only", "context")
DEFAULT_SHARE = CompletionSettings().contextFiles
DEFAULT_WINDOW = CompletionSettings().contextTokens


def arms_of(results: list[Result]) -> list[str]:
    return list(dict.fromkeys(a for r in results for a in r.outcomes))


def summarize(results: list[Result]) -> dict[str, Any]:
    def agg(rs: list[Result], arm: str) -> dict[str, float]:
        outs = [r.outcomes[arm] for r in rs if arm in r.outcomes]
        n = len(outs)
        gen = sum(o.generated_tokens for o in outs)
        # Per answer: what was shown of what was generated (a suggestion longer than what the
        # model generated is the typed-through rest, not more work).
        shown = sum(min(o.shown_tokens, o.generated_tokens) for o in outs)
        return {
            "n": n,
            "exact": round(sum(o.exact for o in outs) / n, 3) if n else 0.0,
            "top3": round(sum(o.top3 or o.exact for o in outs) / n, 3) if n else 0.0,
            "invoked": round(sum(o.invoked_exact for o in outs) / n, 3) if n else 0.0,
            "similarity": round(sum(o.similarity for o in outs) / n, 3) if n else 0.0,
            "seconds": round(sum(o.seconds for o in outs) / n, 2) if n else 0.0,
            "empty": round(sum(not o.suggestion for o in outs) / n, 3) if n else 0.0,
            "prompt_tokens": round(sum(o.prompt_tokens for o in outs) / n) if n else 0,
            "generated": gen,
            "not_shown": round(max(0, gen - shown) / gen, 3) if gen else 0.0,
            "limit_empty": sum(
                o.stop_reason == "length" and not o.suggestion and o.generated_tokens > 0
                for o in outs
            ),
        }

    table: dict[str, Any] = {}
    groups: dict[str, list[Result]] = {}
    for r in results:
        if r.task.kind == "prose":
            groups.setdefault(f"{r.task.language} prose", []).append(r)
            groups.setdefault("all prose", []).append(r)
            continue
        groups.setdefault(r.task.language, []).append(r)
        if r.task.cross_file:
            groups.setdefault(f"{r.task.language} (cross-file)", []).append(r)
            groups.setdefault("all (cross-file)", []).append(r)
        groups.setdefault("all", []).append(r)
    for name, rs in groups.items():
        table[name] = {arm: agg(rs, arm) for arm in arms_of(results)}
    helps, hurts = [], []
    for r in results:
        # The enclave arm against the floor (the plain arm), else against the file alone.
        base = "plain" if "plain" in r.outcomes else "file-only"
        if "context" not in r.outcomes or base not in r.outcomes:
            continue
        delta = r.outcomes["context"].similarity - r.outcomes[base].similarity
        entry = {
            "task": task_key(r.task),
            "answer": r.task.answer,
            "base": base,
            base: r.outcomes[base].suggestion,
            "context": r.outcomes["context"].suggestion,
            "delta": round(delta, 3),
            "context_files": r.outcomes["context"].context_files,
            "empty_reason": r.outcomes["context"].empty_reason,
        }
        if delta > 0.05:
            helps.append(entry)
        elif delta < -0.05:
            hurts.append(entry)
    empty: dict[str, dict[str, int]] = {}
    for r in results:
        for arm, o in r.outcomes.items():
            if not o.suggestion:
                reasons = empty.setdefault(arm, {})
                reasons[o.empty_reason] = reasons.get(o.empty_reason, 0) + 1
    return {"table": table, "helps": helps, "hurts": hurts, "empty_reasons": empty}


def print_table(summary: dict[str, Any]) -> None:
    print(
        f"\n{'group':28} {'arm':11} {'n':>3} {'exact':>6} {'asked':>5} {'top3':>5} {'edit sim':>8}"
        f" {'empty':>6}"
        f" {'prompt':>6} {'s/task':>7} {'gen':>6} {'unseen':>6} {'lim∅':>4}"
    )
    for name, arms in summary["table"].items():
        for arm, a in arms.items():
            print(
                f"{name:28} {arm:11} {a['n']:>3} {a['exact']:>6.2f} {a.get('invoked', 0):>5.2f}"
                f" {a.get('top3', 0):>5.2f}"
                f" {a['similarity']:>8.3f}"
                f" {a.get('empty', 0):>6.2f} {a.get('prompt_tokens', 0):>6} {a['seconds']:>7.1f}"
                f" {a.get('generated', 0):>6} {a.get('not_shown', 0):>6.2f}"
                f" {a.get('limit_empty', 0):>4}"
            )
    for arm, reasons in summary.get("empty_reasons", {}).items():
        print(f"\nempty answers of {arm}:")
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  {n:3} {reason or '(no reason given)'}")
    print(f"\ncontext better on {len(summary['helps'])} tasks, worse on {len(summary['hurts'])}")
    for label in ("helps", "hurts"):
        for e in summary[label]:
            print(f"  {label[:-1]:4} {e['delta']:+.2f} {e['task']}")
            print(f"       want: {e['answer']}")
            print(f"       {e['base'][:5]}: {e[e['base']]}")
            print(f"       ctx:  {e['context']}  {e['empty_reason']}")


def task_key(t: Task) -> str:
    return f"{t.repo}/{t.file}:{t.line + 1}"


def reuse_key(t: Task) -> str:
    """A task of an earlier run counts as the same only with the same line to write."""
    return f"{task_key(t)}\0{t.answer}"


def reused_outcomes(path: Path, size: str, arm: str = "file-only") -> dict[str, Outcome]:
    """One arm's outcomes of an earlier run, by task, for the same task text only."""
    report = json.loads(path.read_text())
    if report.get("cache", False) or report.get("size", size) != size:
        raise SystemExit(f"{path}: not a run without caches of the {size} model")
    out: dict[str, Outcome] = {}
    for r in report["results"]:
        t = Task(**r["task"])
        o = r["outcomes"].get(arm)
        if o is not None:
            # Runs before invoked_exact was recorded asked by invoking only: their first.
            first = (o.get("candidates") or [o["suggestion"]])[0] == t.answer
            out[reuse_key(t)] = Outcome(**{"invoked_exact": first, **o})
    return out


def token_counter(size: str) -> Callable[[str], int]:
    """The model's own token count (its vocabulary alone is loaded)."""
    from llama_cpp import Llama

    vocab = Llama(str(model_path(MODELS[size])), vocab_only=True, verbose=False)
    return lambda text: len(vocab.tokenize(text.encode(), add_bos=False, special=False))


def ask_plain(arm: PlainArm, root: Path, task: Task) -> Outcome:
    """The floor: llama.vim's prompt through raw llama-cpp-python on the same emptied line."""
    lines = (root / task.file).read_text("utf-8", errors="replace").split("\n")
    lines[task.line] = task.indent
    answer = arm.complete("\n".join(lines), task.line, len(task.indent))
    first = answer.text.strip()
    return Outcome(
        "plain",
        first,
        first == task.answer,
        difflib.SequenceMatcher(None, first, task.answer).ratio(),
        answer.seconds,
        False,
        raw=answer.text,
        empty_reason="" if first else "the model wrote nothing",
        prompt_tokens=answer.prompt_tokens,
        generated_tokens=answer.generated_tokens,
        shown_tokens=answer.shown_tokens,
        max_tokens=MAX_TOKENS,
        candidates=[first],
        top3=first == task.answer,
        invoked_exact=first == task.answer,
    )


def result_json(r: Result) -> dict[str, Any]:
    return {"task": asdict(r.task), "outcomes": {k: asdict(v) for k, v in r.outcomes.items()}}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="enclave-quality-"))
    try:
        workspaces: dict[str, tuple[str, Path]] = {}
        missing: list[str] = []
        for language, name, src in REPOS:
            if args.language and language not in args.language:
                continue
            if not src.is_dir():
                missing.append(f"{name} ({src})")
                continue
            workspaces[name] = (language, copy_repo(src, tmp / name))
        tasks = make_tasks(workspaces, args.tasks, args.seed, args.prose)
        if args.only:
            wanted = set(args.only)
            tasks = [t for t in tasks if task_key(t) in wanted]
        print(f"{len(tasks)} tasks; missing repositories: {missing or 'none'}", flush=True)
        reused = {
            arm: reused_outcomes(path, args.size, arm)
            for arm, path in (("file-only", args.reuse_file_only), ("plain", args.reuse_plain))
            if path
        }
        plain_arm = None if args.no_plain else PlainArm(str(model_path(MODELS[args.size])))
        count = token_counter(args.size)
        arms = [
            *(ARMS if args.arms is None else args.arms),
            *(f"context-{n}" for n in args.share or ()),
            *(f"window-{n}" for n in args.window or ()),
        ]
        results: list[Result] = []
        for repo in sorted({t.repo for t in tasks}):
            server = Server(workspaces[repo][1], args.size, args.cache, count)
            await server.start()
            try:
                for task in [t for t in tasks if t.repo == repo]:
                    result = Result(task)
                    for arm in arms:
                        earlier = reused.get(arm, {}).get(reuse_key(task))
                        if earlier is not None:
                            result.outcomes[arm] = earlier
                            continue
                        server.configure(arm)
                        await asyncio.sleep(0.05)
                        result.outcomes[arm] = await server.complete(task, arm)
                    earlier = reused.get("plain", {}).get(reuse_key(task))
                    if earlier is not None:
                        result.outcomes["plain"] = earlier
                    elif plain_arm is not None:
                        result.outcomes["plain"] = ask_plain(plain_arm, workspaces[repo][1], task)
                    results.append(result)
                    partial = {
                        "partial": True,
                        "summary": summarize(results),
                        "results": [result_json(r) for r in results],
                    }
                    args.out.write_text(json.dumps(partial, indent=1))
                    sims = " ".join(f"{a}={o.similarity:.2f}" for a, o in result.outcomes.items())
                    print(
                        f"{task.language:10} {repo}/{task.file}:{task.line + 1}"
                        f"{' [x]' if task.cross_file else ''}  {sims}",
                        flush=True,
                    )
            finally:
                await server.stop()
        summary = summarize(results)
        return {
            "command": "python -m bench.quality " + " ".join(sys.argv[1:]),
            "size": args.size,
            "seed": args.seed,
            "cache": args.cache,
            "reused_file_only": str(args.reuse_file_only or ""),
            "reused_plain": str(args.reuse_plain or ""),
            "prose": args.prose,
            "repos": {n: str(src) for _, n, src in REPOS},
            "missing": missing,
            "summary": summary,
            "results": [result_json(r) for r in results],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1.5b", choices=("1.5b", "0.5b"))
    parser.add_argument("--tasks", type=int, default=24, help="tasks per language")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--language", action="append", help="only these languages")
    parser.add_argument(
        "--share",
        type=int,
        action="append",
        metavar="TOKENS",
        help="also an arm `context-TOKENS` with this completion.contextFiles share",
    )
    parser.add_argument(
        "--window",
        type=int,
        action="append",
        metavar="TOKENS",
        help="also an arm `window-TOKENS` with this completion.contextTokens (code window)",
    )
    parser.add_argument(
        "--arms",
        nargs="*",
        choices=ARMS,
        help=f"the server arms to run (default: {' '.join(ARMS)}; none: only --share/--window)",
    )
    parser.add_argument(
        "--prose",
        type=int,
        default=0,
        metavar="N",
        help="also N prose tasks per language (a docstring or comment line to write back)",
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the server's caches on: answers then depend on what the model evaluated "
        "before (a close call can flip when a task is rerun); off, each answer is a function "
        "of its prompt",
    )
    parser.add_argument(
        "--no-plain",
        action="store_true",
        help="leave out the plain arm (llama.vim's prompt through raw llama-cpp-python)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="REPO/FILE:LINE",
        help="only these tasks of the sampled set (as the output names them)",
    )
    parser.add_argument(
        "--reuse-file-only",
        type=Path,
        metavar="RESULTS.json",
        help="take the file-only answers from an earlier run without caches instead of asking "
        "again (valid while the file-only prompt is unchanged: a change to the context arm "
        "alone); tasks it lacks are asked",
    )
    parser.add_argument(
        "--reuse-plain",
        type=Path,
        metavar="RESULTS.json",
        help="take the plain arm's answers from an earlier run (they depend on the task and "
        "the model only); tasks it lacks are asked",
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"quality-{time.strftime('%Y%m%d-%H%M%S')}-{args.size}.json"
    args.out = out  # rewritten after every task, so an interrupted run leaves its figures
    report = asyncio.run(run(args))
    out.write_text(json.dumps(report, indent=1))
    print_table(report["summary"])
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
