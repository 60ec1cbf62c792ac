"""Generation speed of the worker's engine against raw llama-cpp-python, in one process.

    python -m bench.abort_cost [--size 1.5b] [--rounds 4] [--tokens 16]

One repository-format FIM prompt (a context file, then the current file) built from files
of this repository; per round, in alternating order: raw `Llama.generate`, the worker's
`LlamaEngine.generate` with its abort flag (libc `strlen` on a flag byte per graph node, see
worker.AbortFlag), the same with a Python abort callback (a Python call per graph node, as
before), and without any callback. Prints ms per generated token (medians) and the ratios to
raw, and per round the ratios to the engine without a callback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from lsp_server.model.provision import MODELS, model_path
from lsp_server.model.worker import N_BATCH, N_UBATCH, LlamaEngine

ROOT = Path(__file__).resolve().parent.parent


def prompt() -> str:
    context = (ROOT / "lsp_server" / "model" / "kv_states.py").read_text()[:1200]
    src = (ROOT / "lsp_server" / "prompts" / "fim.py").read_text()
    cut = src.index("def build_prompt")
    return (
        "<|repo_name|>enclave\n<|file_sep|>lsp_server/model/kv_states.py\n"
        + context
        + "\n<|file_sep|>lsp_server/prompts/fim.py\n<|fim_prefix|>"
        + src[cut - 1600 : cut]
        + "<|fim_suffix|>"
        + src[cut : cut + 400]
        + "<|fim_middle|>"
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.abort_cost", description=__doc__)
    p.add_argument("--size", choices=sorted(MODELS), default="1.5b")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--tokens", type=int, default=16)
    args = p.parse_args()
    from llama_cpp import Llama
    from llama_cpp import llama_cpp as native

    path = str(model_path(MODELS[args.size]))
    engine = LlamaEngine(path, 4096, 0)
    threads = os.cpu_count() or 2  # as the worker (llama-cpp-python's default is half)
    raw = Llama(
        model_path=path,
        n_ctx=4096,
        n_threads=threads,
        n_batch=N_BATCH,
        n_ubatch=N_UBATCH,
        verbose=False,
    )
    text = prompt()
    tokens = raw.tokenize(text.encode(), add_bos=True, special=True)
    raw.eval(tokens[:-1])

    def raw_ms() -> float:
        raw.n_tokens = len(tokens) - 1  # the prompt stays evaluated: time generation only
        started, n = time.perf_counter(), 0
        for _ in raw.generate(tokens, top_k=1, temp=0.0, repeat_penalty=1.0):
            n += 1
            if n >= args.tokens:
                break
        return (time.perf_counter() - started) * 1000 / n

    flag = engine._abort
    python_cb = native.ggml_abort_callback(lambda _data: flag._asked())
    callbacks = {
        "engine": (flag.callback, flag.data),
        "engine, Python callback": (python_cb, None),
        "engine, no callback": (native.ggml_abort_callback(), None),
    }

    def engine_ms(name: str) -> float:
        native.llama_set_abort_callback(engine.llm.ctx, *callbacks[name])
        engine.llm.n_tokens = max(0, engine.llm.n_tokens - 1)
        stats = engine.generate(text, args.tokens, [], lambda _prefill: None).stats
        return stats.generate_ms / max(1, stats.generated_tokens + (stats.stop_reason == "eos"))

    times: dict[str, list[float]] = {"raw": [], **{name: [] for name in callbacks}}
    engine_ms("engine")  # evaluates the prompt once
    for r in range(args.rounds):
        order = list(times) if r % 2 == 0 else list(reversed(times))
        for name in order:
            times[name].append(raw_ms() if name == "raw" else engine_ms(name))
    base = statistics.median(times["raw"])
    print(f"prompt {len(tokens)} tokens, {args.tokens} generated, {args.rounds} rounds")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"{name:<24} {med:6.1f} ms/token  {med / base:.3f} of raw")
    bare = times["engine, no callback"]
    for name in ("engine", "engine, Python callback"):
        ratios = sorted(t / b for t, b in zip(times[name], bare, strict=True))
        print(
            f"{name:<24} / no callback, per round: median {statistics.median(ratios):.3f}, "
            f"range {ratios[0]:.3f}-{ratios[-1]:.3f}"
        )


if __name__ == "__main__":
    main()
