"""Resident memory and prompt speed of llama.cpp options the worker does not use, side by side.

    python -m bench.memory_options [--size 1.5b] [--tokens 1024] [--rounds 2]

Each setting runs in a process of its own (peak RSS is per process), in alternating order
over the rounds: the worker's engine as it is, with a 128-token micro-batch, with flash
attention, and with flash attention and an 8-bit KV cache. Each evaluates one prompt cut from
this repository's worker.py and greedily writes 24 tokens. Prints peak RSS after loading and
after the prompt, prompt tokens/s (medians), the ratios to the worker's own setting, and
whether the greedy answer is the worker's. docs/speed.md, "Where the last 13 MB are".
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SETTINGS: dict[str, dict[str, Any]] = {
    "worker": {},
    "ubatch128": {"n_ubatch": 128},
    "flash": {"flash_attn": True},
    "flash+q8kv": {"flash_attn": True, "type_k": 8, "type_v": 8},  # 8 = GGML_TYPE_Q8_0
}


def peak_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def one(size: str, options: dict[str, Any], tokens: int) -> dict[str, Any]:
    """In this process: the worker's engine with `options` passed on to llama.cpp."""
    import functools
    import time

    import llama_cpp

    import lsp_server.model.worker as worker
    from lsp_server.model.provision import MODELS, model_path

    if "n_ubatch" in options:
        worker.N_UBATCH = options["n_ubatch"]
    extra = {k: v for k, v in options.items() if k != "n_ubatch"}
    if extra:
        llama_cpp.Llama = functools.partial(llama_cpp.Llama, **extra)  # type: ignore[misc,assignment]
    engine = worker.LlamaEngine(str(model_path(MODELS[size])), 4096, 2, 0)
    loaded = peak_mb()
    llm = engine.llm
    ids = llm.tokenize((ROOT / "lsp_server" / "model" / "worker.py").read_bytes())[:tokens]
    started = time.monotonic()
    llm.eval(ids)
    seconds = time.monotonic() - started
    answer = []
    for token in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0):
        answer.append(token)
        if len(answer) == 24:
            break
    return {
        "loaded_mb": loaded,
        "peak_mb": peak_mb(),
        "tokens_per_s": len(ids) / seconds,
        "answer": llm.detokenize(answer).decode("utf-8", "replace"),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", default="1.5b")
    p.add_argument("--tokens", type=int, default=1024)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--one", help=argparse.SUPPRESS)  # a child process: the setting to run
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.size, SETTINGS[args.one], args.tokens)))
        return
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SETTINGS}
    for _ in range(args.rounds):
        for name in SETTINGS:
            cmd = [sys.executable, "-m", "bench.memory_options", "--one", name]
            cmd += ["--size", args.size, "--tokens", str(args.tokens)]
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = runs["worker"]
    base_speed = statistics.median(r["tokens_per_s"] for r in base)
    print(f"{args.size}, a {args.tokens}-token prompt, {args.rounds} rounds, medians")
    print(
        f"{'setting':<12} {'loaded MB':>9} {'peak MB':>8} {'vs worker':>9} {'tok/s':>7} "
        f"{'ratio':>6}  same answer"
    )
    for name, rs in runs.items():
        peak = statistics.median(r["peak_mb"] for r in rs)
        speed = statistics.median(r["tokens_per_s"] for r in rs)
        same = all(r["answer"] == base[0]["answer"] for r in rs)
        print(
            f"{name:<12} {statistics.median(r['loaded_mb'] for r in rs):>9.0f} {peak:>8.0f} "
            f"{peak - statistics.median(r['peak_mb'] for r in base):>+9.0f} {speed:>7.1f} "
            f"{speed / base_speed:>6.2f}  {'yes' if same else 'no'}"
        )


if __name__ == "__main__":
    main()
