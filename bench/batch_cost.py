"""What one decode call of b tokens costs against a single token, on this machine.

    python -m bench.batch_cost [--size 1.5b] [--rounds 6] [--past 600]

Prompt-lookup drafts (model/lookup.py) pay for every drafted token in the call that checks
it, so their speed-up depends on this curve: the rewrite bench's `--simulate` assumes
`BATCH_TOKEN_COST` per extra token. The worker's engine evaluates `--past` tokens cut from
worker.py, then decodes batches of 1..17 tokens after them (every row's logits kept, as the
drafts need), in turn, over the rounds. Prints the median time per size, the ratio to a single
token and the cost of each extra token in single decodes. docs/actions.md, "Faster rewrites".
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1.5b", choices=("1.5b", "0.5b"))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--past", type=int, default=600, help="tokens before each batch")
    args = parser.parse_args()

    from lsp_server.model.provision import MODELS, model_path
    from lsp_server.model.worker import LlamaEngine

    engine = LlamaEngine(str(model_path(MODELS[args.size])), 4096, 0, 0)
    llm = engine.llm
    text = (ROOT / "lsp_server" / "model" / "worker.py").read_bytes()
    ids = llm.tokenize(text, add_bos=False)[: args.past + max(SIZES)]
    llm.eval(ids[: args.past])
    times: dict[int, list[float]] = {b: [] for b in SIZES}
    for _ in range(args.rounds):
        for b in SIZES:
            started = time.perf_counter()
            engine._decode(list(ids[args.past : args.past + b]), args.past)
            times[b].append(time.perf_counter() - started)
    single = statistics.median(times[1])
    threads = llm.n_threads
    print(f"{args.size}, {threads} threads, {args.past} tokens before, {args.rounds} rounds")
    print(f"{'tokens':>6} {'median ms':>10} {'x single':>9} {'per extra':>10}")
    for b in SIZES:
        ratio = statistics.median(times[b]) / single
        extra = (ratio - 1) / (b - 1) if b > 1 else 0.0
        print(f"{b:>6} {statistics.median(times[b]) * 1000:>10.1f} {ratio:>9.2f} {extra:>10.2f}")


if __name__ == "__main__":
    main()
