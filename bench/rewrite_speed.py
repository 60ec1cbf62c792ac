"""Generation speed of rewrite-style answers with and without prompt-lookup drafts (issue 22,
item 4).

On real functions of the quality bench's repositories (bench/quality_tasks.py REPOS, drawn as
the actions bench draws them), the refactor prompts the server builds (features/refactor.py:
the target, its context, the action's task) go to the worker's engine twice each, drafts off
and on, in alternating order, the prompt's evaluation shared (only generation is compared).
Printed per refactor and in total: tokens generated per second each way, the ratio, the share
of answers that are the same text, and the drafted tokens the model kept.

    .venv/bin/python -m bench.rewrite_speed        # 1.5B, 2 functions x 3 languages x 5 refactors
    .venv/bin/python -m bench.rewrite_speed --size 0.5b --functions 1
    .venv/bin/python -m bench.rewrite_speed --simulate RESULTS.json   # no model run

Writes bench/results/rewrite-speed-<time>-<size>.json, with each prompt and its answer: a
greedy answer is the same with any draft, so `--simulate` replays the lookup on them (the
tokenizer only) for other lookup rules and draft lengths, counting decode calls and their
cost with a batch of b tokens costing 1 + (b - 1) * BATCH_TOKEN_COST single decodes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.actions_tasks import discover, draw, node_of, parse
from bench.quality_tasks import REPOS, RESULTS
from lsp_server.context.documents import Position, Range, file_name
from lsp_server.features.edits import char_offset, resolve_target
from lsp_server.features.explain import gather_context
from lsp_server.features.refactor import REFACTORS
from lsp_server.model import lookup
from lsp_server.model.draft_policy import DraftPolicy
from lsp_server.model.protocol import GenerateJob
from lsp_server.model.provision import MODELS, model_path
from lsp_server.prompts.actions import build_prompt

# The refactors whose answer rewrites the whole target (a docstring is written into its slot,
# features/docstring.py; renames and annotations are lists, features/rename.py and
# annotate.py: none of them with drafts). `--action` still builds the whole-code prompt of any.
ACTIONS = ("simplify", "idiomatic", "extract_function")
# Measured here: a batch of 9 tokens costs about 2.5 single decodes (docs/actions.md).
BATCH_TOKEN_COST = 1.5 / 8


@dataclass
class Pair:
    action: str
    function: str
    tokens: tuple[int, int]  # generated, drafts off / on
    ms: tuple[float, float]  # generation time
    same: bool
    drafted: int
    accepted: int
    prompt: str = ""
    answer: str = ""  # drafts off

    def rates(self) -> tuple[float, float]:
        return (
            self.tokens[0] / self.ms[0] * 1000 if self.ms[0] else 0.0,
            self.tokens[1] / self.ms[1] * 1000 if self.ms[1] else 0.0,
        )


def prompts(
    functions: int, seed: int, actions: tuple[str, ...]
) -> list[tuple[str, str, GenerateJob]]:
    """(action, function identity, job) for `functions` per language and action."""
    languages = ("python", "typescript", "go")  # the actions bench's
    workspaces = {
        name: (language, src)
        for language, name, src in REPOS
        if src.is_dir() and language in languages
    }
    found = discover(workspaces)
    out: list[tuple[str, str, GenerateJob]] = []
    for action in actions:
        for language in sorted({f.language for f in found}):
            for fn in draw(found, action, language, "held-out", seed)[:functions]:
                doc = parse(workspaces[fn.repo][1] / fn.file)
                node = node_of(doc, fn)
                if node is None:
                    continue
                snap = doc.snapshot()
                at = snap.position_at(char_offset(snap, node.start_byte))
                inside = Position(at.line + 1, 0)  # in the body: the whole definition
                target = resolve_target(snap, Range(inside, inside))
                prompt = build_prompt(
                    action,
                    "chatml",
                    language=language,
                    path=file_name(snap.uri),
                    context=gather_context(target),
                    target=target.text,
                    instruction="",
                    diagnostic="",
                    retry_error="",
                )
                out.append((action, fn.identity, prompt.job(600.0)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1.5b", choices=("1.5b", "0.5b"))
    parser.add_argument("--functions", type=int, default=2, help="per language and refactor")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--action", action="append", choices=REFACTORS)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--simulate", type=Path, metavar="RESULTS.json")
    parser.add_argument(
        "--draft-cap",
        type=int,
        action="append",
        help="a fixed draft length (the longest per draft); repeat to compare several",
    )
    parser.add_argument(
        "--learned",
        action="store_true",
        help="also the worker's policy, learning the costs over the run (the default arm)",
    )
    args = parser.parse_args()
    if args.simulate:
        simulate(args.simulate, args.size)
        return
    from lsp_server.model.worker import LlamaEngine

    engine = LlamaEngine(str(model_path(MODELS[args.size])), 4096, args.threads)
    # Each arm's policy lives for the whole run, as the worker's does.
    policies = {f"cap{c}": DraftPolicy(c, learn=False) for c in args.draft_cap or []}
    if args.learned or not policies:
        policies["learned"] = DraftPolicy()
    by_arm: dict[str, list[Pair]] = {name: [] for name in policies}
    work = prompts(args.functions, args.seed, tuple(args.action or ACTIONS))
    print(f"{len(work)} prompts", flush=True)
    for i, (action, identity, job) in enumerate(work):
        # Evaluate the prompt once (not timed).
        engine.generate(job.prompt, 1, job.stop, lambda _p: None)
        # Drafts off and each arm, in an order that turns with the prompt.
        arms = ["off", *policies]
        runs = {}
        for arm in arms[i % len(arms) :] + arms[: i % len(arms)]:
            engine.drafts = policies.get(arm) or DraftPolicy()
            runs[arm] = engine.generate(
                job.prompt, job.max_tokens, job.stop, lambda _p: None, lookup=arm != "off"
            )
        off = runs["off"]
        for name in policies:
            on = runs[name]
            pair = Pair(
                action,
                identity,
                (off.stats.generated_tokens, on.stats.generated_tokens),
                (off.stats.generate_ms, on.stats.generate_ms),
                off.text == on.text,
                on.stats.drafted_tokens,
                on.stats.accepted_tokens,
                job.prompt,
                off.text,
            )
            by_arm[name].append(pair)
            a, b = pair.rates()
            print(
                f"{action:14} {identity[-52:]:52} {name:8} {pair.tokens[0]:4} tok"
                f"  {a:6.1f} -> {b:6.1f} tok/s  x{b / a if a else 0:.2f}  same={pair.same}"
                f"  kept {pair.accepted}/{pair.drafted}",
                flush=True,
            )
    for name, pairs in by_arm.items():
        print(f"\n{name}")
        report(pairs)
    if "learned" in policies:
        learned = policies["learned"]
        costs = ", ".join(
            f"{size}: {learned.relative_cost(size):.2f}" for size in sorted(learned.cost)
        )
        print(f"\nlearned: call cost x single by size {costs}; lengths chosen now", end=" ")
        print({d: round(learned.worth(d), 2) for d in range(learned.most + 1)})
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for name, pairs in by_arm.items():
        tail = "" if len(policies) == 1 else f"-{name}"
        out = RESULTS / f"rewrite-speed-{stamp}-{args.size}{tail}.json"
        out.write_text(json.dumps([asdict(p) for p in pairs], indent=1))
        print(f"\n{out}")


def report(pairs: list[Pair]) -> None:
    print(
        f"\n{'refactor':14} {'n':>3} {'off tok/s':>10} {'on tok/s':>9} {'ratio':>6}"
        f" {'same':>5} {'kept':>6}"
    )
    groups = {p.action: [q for q in pairs if q.action == p.action] for p in pairs}
    for name, ps in [*groups.items(), ("all", pairs)]:
        if not ps:
            continue
        tokens_off = sum(p.tokens[0] for p in ps)
        tokens_on = sum(p.tokens[1] for p in ps)
        off = tokens_off / max(1e-9, sum(p.ms[0] for p in ps)) * 1000
        on = tokens_on / max(1e-9, sum(p.ms[1] for p in ps)) * 1000
        drafted = sum(p.drafted for p in ps)
        kept = sum(p.accepted for p in ps) / drafted if drafted else 0.0
        same = sum(p.same for p in ps) / len(ps)
        ratio = on / off if off else 0.0
        print(
            f"{name:14} {len(ps):>3} {off:>10.1f} {on:>9.1f} {ratio:>6.2f}"
            f" {same:>5.2f} {kept:>6.2f}"
        )
    ratios = [b / a for a, b in (p.rates() for p in pairs) if a]
    if ratios:
        print(f"median ratio per prompt: {statistics.median(ratios):.2f}")


class _Latest(lookup.PromptLookup):
    """The rule before the cursor (2026-12-06): the latest occurrence, never one token."""

    def _near(self, places: list[int]) -> int | None:
        return None


def _replay(known: lookup.PromptLookup, answer: list[int], cap: int) -> tuple[int, float]:
    """(decode calls, cost in single decodes) to write `answer` greedily with drafts."""
    calls, cost, done, most = 0, 0.0, 0, cap
    while done < len(answer):
        room = len(answer) - done - 1
        draft = known.draft(min(most, room)) if room > 0 else []
        kept = 0
        while kept < len(draft) and draft[kept] == answer[done + kept]:
            kept += 1
        if draft:
            most = lookup.next_draft_length(most, len(draft), kept, cap)
        calls += 1
        cost += 1 + len(draft) * BATCH_TOKEN_COST
        chosen = answer[done : done + kept + 1]
        known.extend(chosen)
        done += len(chosen)
    return calls, cost


def simulate(path: Path, size: str) -> None:
    from llama_cpp import Llama

    llm = Llama(str(model_path(MODELS[size])), vocab_only=True, verbose=False)
    pairs = [p for p in json.loads(path.read_text()) if p.get("prompt")]
    rules = {
        f"{name} x{cap}": (kind, cap)
        for name, kind in (("latest", _Latest), ("cursor", lookup.PromptLookup))
        for cap in (8, 12, 16)
    }
    print(f"{len(pairs)} answers; speed-up = tokens / cost (a draft-less decode costs 1)")
    print(f"{'rule':12} " + " ".join(f"{a[:9]:>9}" for a in ACTIONS) + f" {'all':>6}")
    for name, (kind, cap) in rules.items():
        totals: dict[str, list[float]] = {}
        for p in pairs:
            prompt = llm.tokenize(p["prompt"].encode(), add_bos=True, special=True)
            answer = llm.tokenize(p["answer"].encode(), add_bos=False, special=False)
            if not answer:
                continue
            _, cost = _replay(kind(prompt), answer, cap)
            for key in (p["action"], "all"):
                got = totals.setdefault(key, [0.0, 0.0])
                got[0] += len(answer)
                got[1] += cost
        cells = [totals.get(a, [0.0, 1.0]) for a in (*ACTIONS, "all")]
        print(f"{name:12} " + " ".join(f"{t / c:>9.2f}" for t, c in cells))


if __name__ == "__main__":
    main()
