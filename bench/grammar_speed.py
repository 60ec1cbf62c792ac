"""Generation speed of the review's JSON answers: the grammar checked on the likeliest token
first (model/grammar.py) against llama-cpp-python's sampler chain, which filters the whole
vocabulary at every step (issue 22: the review's time per function).

On the same held-out functions as bench/rewrite_speed.py, the review prompt the server builds
goes to the worker's engine twice, each way, in alternating order, the prompt's evaluation
shared (only generation is compared). Printed per prompt and in total: tokens per second each
way, the ratio, whether the two answers are the same text.

    .venv/bin/python -m bench.grammar_speed                  # 1.5B, 2 functions x 3 languages

Writes bench/results/grammar-speed-<time>-<size>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from typing import TypedDict

from bench.quality_tasks import RESULTS
from bench.rewrite_speed import prompts
from lsp_server.features.review import DEADLINE_S, FINDINGS_SCHEMA
from lsp_server.model.provision import MODELS, model_path


class Row(TypedDict):
    function: str
    tokens: tuple[int, int]  # generated: chain, lazy
    ms: tuple[float, float]
    same: bool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1.5b", choices=("1.5b", "0.5b"))
    parser.add_argument("--functions", type=int, default=2, help="per language")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    from lsp_server.model.worker import LlamaEngine

    engine = LlamaEngine(str(model_path(MODELS[args.size])), 4096, args.threads)
    schema = FINDINGS_SCHEMA["properties"]["findings"]  # what features/review.py asks for
    rows: list[Row] = []
    work = prompts(args.functions, args.seed, ("review",))
    print(f"{len(work)} prompts", flush=True)
    for i, (_, identity, chat) in enumerate(work):
        job = dataclasses.replace(chat, json_schema=schema, deadline_s=DEADLINE_S)
        engine.generate(job.prompt, 1, job.stop, lambda _p: None)  # the prompt, not timed
        order = (False, True) if i % 2 == 0 else (True, False)
        runs = {}
        for lazy in order:
            engine.lazy_grammar = lazy
            runs[lazy] = engine.generate(
                job.prompt, job.max_tokens, job.stop, lambda _p: None, json_schema=schema
            )
        chain, lazy_run = runs[False], runs[True]
        row: Row = {
            "function": identity,
            "tokens": (chain.stats.generated_tokens, lazy_run.stats.generated_tokens),
            "ms": (chain.stats.generate_ms, lazy_run.stats.generate_ms),
            "same": chain.text == lazy_run.text,
        }
        rows.append(row)
        a = chain.stats.generated_tokens / max(1e-9, chain.stats.generate_ms) * 1000
        b = lazy_run.stats.generated_tokens / max(1e-9, lazy_run.stats.generate_ms) * 1000
        print(
            f"{identity[-60:]:60} {chain.stats.generated_tokens:4} tok  chain {a:5.1f}"
            f"  lazy {b:5.1f} tok/s  x{b / a if a else 0:.2f}  same={row['same']}",
            flush=True,
        )
    engine.lazy_grammar = True
    pairs = [(r["tokens"], r["ms"]) for r in rows]
    tokens = [sum(t[k] for t, _ in pairs) for k in (0, 1)]
    ms = [sum(m[k] for _, m in pairs) for k in (0, 1)]
    rates = [t / max(1e-9, m) * 1000 for t, m in zip(tokens, ms, strict=True)]
    ratios = [(t[1] / m[1]) / (t[0] / m[0]) for t, m in pairs if m[0] and m[1] and t[0]]
    print(
        f"\nall {len(rows)}: chain {rates[0]:.1f} tok/s, lazy {rates[1]:.1f} tok/s, "
        f"x{rates[1] / rates[0] if rates[0] else 0:.2f}; median per prompt "
        f"x{statistics.median(ratios) if ratios else 0:.2f}; same answer "
        f"{sum(r['same'] for r in rows)}/{len(rows)}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"grammar-speed-{time.strftime('%Y%m%d-%H%M%S')}-{args.size}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(out)


if __name__ == "__main__":
    main()
