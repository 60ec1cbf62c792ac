"""The raw arm: the server's own prompts, in order, through one plain llama-cpp-python Llama
(or, as a diagnostic, through the worker's LlamaEngine, or through both in turn).

Run in its own process (`python -m bench.raw_replay IN.json OUT.json`, or `--serve` for
segments over stdin/stdout) so its peak memory is
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


class RawRunner:
    """Plain llama-cpp-python: the floor."""

    def __init__(self, model: str, n_ctx: int) -> None:
        _disable_extra_buffer_types()  # without it llama.cpp segfaults on AMX-reporting VMs
        from llama_cpp import Llama

        self.n_ctx = n_ctx
        self.llm = Llama(
            model_path=model,
            n_ctx=n_ctx,
            n_threads=os.cpu_count() or 2,
            n_batch=N_BATCH,
            n_ubatch=N_UBATCH,
            verbose=False,
        )

    def step(self, entry: dict[str, Any]) -> dict[str, Any]:
        llm = self.llm
        t0 = time.perf_counter()  # from the prompt's text, as the worker's prompt_ms
        tokens = llm.tokenize(str(entry["prompt"]).encode(), add_bos=True, special=True)
        limit = self.n_ctx - 32
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
            return {"prime": True}
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
        return {
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


class EngineRunner:
    """The same calls through the worker's own LlamaEngine (no server, no client, no other
    jobs): tells the engine's cost from its surroundings'. Each call asks for the tokens the
    worker generated; the abort callback is set as in the worker."""

    def __init__(self, model: str, n_ctx: int) -> None:
        from lsp_server.model.worker import LlamaEngine

        self.engine = LlamaEngine(model, n_ctx, os.cpu_count() or 2)

    def step(self, entry: dict[str, Any]) -> dict[str, Any]:
        engine = self.engine
        prompt = str(entry["prompt"])
        if entry.get("prime"):
            engine.generate(prompt, 1, [], lambda _prefill: None)
            return {"prime": True}
        if entry.get("reuse_limit") is not None:
            engine.llm.n_tokens = min(engine.llm.n_tokens, int(entry["reuse_limit"]))
        wanted = max(1, int(entry.get("generated_tokens", 0)))
        got = engine.generate(prompt, wanted, [], lambda _prefill: None)
        st = got.stats
        return {
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


def replay(model: str, entries: list[dict[str, Any]], n_ctx: int) -> list[dict[str, Any]]:
    runner = RawRunner(model, n_ctx)
    return [runner.step(e) for e in entries]


def replay_engine(model: str, entries: list[dict[str, Any]], n_ctx: int) -> list[dict[str, Any]]:
    runner = EngineRunner(model, n_ctx)
    return [runner.step(e) for e in entries]


def replay_both(
    model: str, entries: list[dict[str, Any]], n_ctx: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raw and engine in one process, each with its own model and KV cache, taking every call
    in turn (which goes first alternates): the machine's drift over minutes, which separates
    two arms run one after the other, falls on both alike."""
    raw, engine = RawRunner(model, n_ctx), EngineRunner(model, n_ctx)
    raw_out: list[dict[str, Any]] = []
    engine_out: list[dict[str, Any]] = []
    for k, entry in enumerate(entries):
        if k % 2:
            raw_out.append(raw.step(entry))
            engine_out.append(engine.step(entry))
        else:
            engine_out.append(engine.step(entry))
            raw_out.append(raw.step(entry))
    return raw_out, engine_out


def peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def serve() -> None:
    """`--serve`: one model, kept loaded, for segment after segment (`--alternate` of the
    typing replay). stdin: a header line {"model", "n_ctx"}, then one line {"entries"} per
    segment; stdout: one line {"results", "peak_kb", "wall_s"} per segment."""
    header = json.loads(sys.stdin.readline())
    runner = RawRunner(header["model"], int(header.get("n_ctx", 4096)))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        results = [runner.step(e) for e in json.loads(line)["entries"]]
        reply = {"results": results, "peak_kb": peak_kb(), "wall_s": time.perf_counter() - started}
        print(json.dumps(reply), flush=True)


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    job = json.loads(src.read_text())
    started = time.perf_counter()
    model, entries, n_ctx = job["model"], job["entries"], int(job.get("n_ctx", 4096))
    engine_results: list[dict[str, Any]] | None = None
    if job.get("mode") == "both":
        results, engine_results = replay_both(model, entries, n_ctx)
    elif job.get("mode") == "engine":
        results = replay_engine(model, entries, n_ctx)
    else:
        results = replay(model, entries, n_ctx)
    out: dict[str, Any] = {
        "results": results,
        "peak_kb": peak_kb(),
        "wall_s": time.perf_counter() - started,
    }
    if engine_results is not None:
        out["engine_results"] = engine_results
    dst.write_text(json.dumps(out))


if __name__ == "__main__":
    main()
