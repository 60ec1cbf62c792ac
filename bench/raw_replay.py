"""The raw arm: the server's own prompts, in order, through one plain llama-cpp-python Llama.

Run in its own process (`python -m bench.raw_replay IN.json OUT.json`) so its peak memory is
measured alone and a native crash cannot take the benchmark down. Same n_ctx, n_(u)batch and
threads as the worker, greedy, the evaluated prefix reused between prompts as the worker does,
and the same number of generated tokens; no cancel checks, no chunking, no IPC: the floor the
server is compared against."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsp_server.model.worker import N_BATCH, N_UBATCH, _disable_extra_buffer_types


def decode_steps(entry: dict[str, Any]) -> int:
    """Forward passes the worker ran while generating: one per yielded token. It also ran one
    for the end-of-stream token when it stopped on it; that is only known when the server
    logs stop_reason, so without it the raw arm is timed one step short (in its favour)."""
    generated = int(entry.get("generated_tokens", 0))
    extra = 1 if entry.get("stop_reason") == "eos" else 0
    return max(1, generated + extra)


def replay(model: str, entries: list[dict[str, Any]], n_ctx: int) -> list[dict[str, Any]]:
    _disable_extra_buffer_types()  # without it llama.cpp segfaults on AMX-reporting VMs
    from llama_cpp import Llama

    llm = Llama(
        model_path=model,
        n_ctx=n_ctx,
        n_threads=os.cpu_count() or 2,
        n_batch=N_BATCH,
        n_ubatch=N_UBATCH,
        verbose=False,
    )
    out: list[dict[str, Any]] = []
    for entry in entries:
        t0 = time.perf_counter()  # from the prompt's text, as the worker's prompt_ms
        tokens = llm.tokenize(str(entry["prompt"]).encode(), add_bos=True, special=True)
        limit = n_ctx - 32
        if len(tokens) > limit:
            tokens = tokens[-limit:]
        cached = list(llm.input_ids[: llm.n_tokens])
        reused = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            reused += 1
        reused = min(reused, len(tokens) - 1)
        if entry.get("reuse_limit") is not None:
            reused = min(reused, int(entry["reuse_limit"]))
        llm.n_tokens = reused
        if entry.get("prime"):
            # Only sets up the KV cache the worker had before the next, timed, prompt.
            llm.eval(tokens[reused:])
            out.append({"prime": True})
            continue
        if len(tokens) - 1 > reused:
            llm.eval(tokens[reused:-1])
        t1 = time.perf_counter()
        steps = decode_steps(entry)
        produced: list[int] = []
        for token in llm.generate(tokens, top_k=1, temp=0.0, repeat_penalty=1.0):
            produced.append(token)
            if len(produced) >= steps:
                break
        t2 = time.perf_counter()
        text = llm.detokenize(produced[: int(entry.get("generated_tokens", 0))]).decode(
            "utf-8", errors="ignore"
        )
        out.append(
            {
                "index": entry.get("index"),
                "prompt_tokens": len(tokens),
                "reused_tokens": reused,
                "evaluated_tokens": len(tokens) - reused,
                "decode_steps": steps,
                "prompt_ms": (t1 - t0) * 1000,
                "generate_ms": (t2 - t1) * 1000,
                "total_ms": (t2 - t0) * 1000,
                # Same tokens in, same tokens out: a check that the replay is faithful.
                "same_text": text.startswith(str(entry.get("text", ""))),
            }
        )
    return out


def replay_engine(model: str, entries: list[dict[str, Any]], n_ctx: int) -> list[dict[str, Any]]:
    """The same calls through the worker's own LlamaEngine, alone in this process (no server,
    no client, no other jobs): tells the engine's cost from its surroundings'. Each call asks
    for the tokens the worker generated; the abort callback is set as in the worker."""
    from lsp_server.model.worker import LlamaEngine

    engine = LlamaEngine(model, n_ctx, os.cpu_count() or 2)
    out: list[dict[str, Any]] = []
    for entry in entries:
        prompt = str(entry["prompt"])
        if entry.get("prime"):
            engine.generate(prompt, 1, [], lambda _prefill: None)
            out.append({"prime": True})
            continue
        if entry.get("reuse_limit") is not None:
            engine.llm.n_tokens = min(engine.llm.n_tokens, int(entry["reuse_limit"]))
        wanted = max(1, int(entry.get("generated_tokens", 0)))
        got = engine.generate(prompt, wanted, [], lambda _prefill: None)
        st = got.stats
        out.append(
            {
                "index": entry.get("index"),
                "prompt_tokens": st.prompt_tokens,
                "reused_tokens": st.reused_tokens,
                "evaluated_tokens": st.evaluated_tokens,
                "decode_steps": st.generated_tokens + (st.stop_reason == "eos"),
                "prompt_ms": st.prompt_ms,
                "generate_ms": st.generate_ms,
                "total_ms": st.prompt_ms + st.generate_ms,
                "same_text": got.text.startswith(str(entry.get("text", ""))),
            }
        )
    return out


def peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    job = json.loads(src.read_text())
    started = time.perf_counter()
    run = replay_engine if job.get("engine") else replay
    results = run(job["model"], job["entries"], int(job.get("n_ctx", 4096)))
    dst.write_text(
        json.dumps(
            {
                "results": results,
                "peak_kb": peak_kb(),
                "wall_s": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
