"""Typing-replay benchmark for issue 3 ("Fast completions").

    python -m bench.typing_replay --size 0.5b [--files F[:LINE] ...] [--keystrokes N]
        [--arms enclave,stateless,raw] [--cadence 9] [--debounce-ms 75]

Types real source files into `enclave serve` through a real LSP client, arm after arm in one
run, and writes bench/results/<timestamp>-<size>.json, a latency CDF PNG next to it, and a
summary table against the issue's targets. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import corpus
from bench.lsp_arm import ArmRun, ReplayOptions, run_arm
from lsp_server.model.provision import MODELS, model_path

RESULTS = Path(__file__).parent / "results"
ARM_SETTINGS: dict[str, dict[str, Any]] = {
    "enclave": {},
    "stateless": {"completion": {"cache": False}},
    # Issue 4's latency target: repository context off, everything else as in "enclave".
    "nocontext": {"context": {"enabled": False}},
}
MEMORY_SLACK_MB = 400
QUEUED_MS = 5.0  # a call that waited less than this in the worker did not wait for another job


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def server_stats(run: ArmRun) -> dict[str, Any]:
    reqs = run.requests
    completed = [r.latency_ms for r in reqs if r.outcome in ("answered", "empty")]
    answered = [r for r in reqs if r.outcome == "answered"]
    cancels = [r.cancel_latency_ms for r in reqs if r.cancel_latency_ms is not None]
    c0, c1 = run.counters_start, run.counters_end
    d = {k: c1.get(k, 0) - c0.get(k, 0) for k in c1} if c1 else {}
    keys = max(1, run.keystrokes)
    peak_total = sum(run.peak_kb.values()) if run.peak_kb else None
    # Every job the worker ran, cancelled ones included (the counters count finished calls).
    jobs = run.stats_log[run.stats_start :]
    job_prompt = sum(int(j.get("prompt_tokens", 0)) for j in jobs)
    job_reused = sum(int(j.get("reused_tokens", 0)) for j in jobs)
    job_eval = sum(int(j.get("evaluated_tokens", 0)) for j in jobs)
    worker_ms = [r.worker_ms for r in reqs if r.worker_ms is not None]
    # The first completed request of each visit to a file: opened (cold) or come back to.
    firsts: dict[tuple[str, int], float] = {}
    for r in reqs:
        if r.outcome in ("answered", "empty") and r.latency_ms is not None:
            firsts.setdefault((r.file, r.visit), r.latency_ms)
    return {
        "keystrokes": run.keystrokes,
        "typed_chars": run.typed_chars,
        "accepts": run.accepts,
        "accepted_chars": run.accepted_chars,
        "requests": len(reqs),
        "outcomes": {
            k: sum(r.outcome == k for r in reqs)
            for k in ("answered", "empty", "cancelled", "error", "pending")
        },
        "latency_ms": {
            "n": len(completed),
            "p50": pct([x for x in completed if x is not None], 50),
            "p95": pct([x for x in completed if x is not None], 95),
            "p99": pct([x for x in completed if x is not None], 99),
        },
        "cancel_latency_ms": {
            "n": len(cancels),
            "p50": pct([x for x in cancels if x is not None], 50),
            "p95": pct([x for x in cancels if x is not None], 95),
            "max": max((x for x in cancels if x is not None), default=None),
        },
        "counters_delta": d,
        "share_from_cache": ratio(d.get("answeredFromCache"), d.get("requests")),
        "share_from_prefetch": ratio(d.get("answeredFromPrefetch"), d.get("requests")),
        "answered_via": {
            k: sum(r.via == k for r in answered) for k in ("cache", "prefetch", "model", "")
        },
        "prompt_tokens": d.get("promptTokens"),
        "reused_tokens": d.get("reusedTokens"),
        "evaluated_tokens": d.get("evaluatedTokens"),
        "reused_share": ratio(d.get("reusedTokens"), d.get("promptTokens")),
        "model_calls_per_100_keys": (d["modelCalls"] * 100 / keys if "modelCalls" in d else None),
        "worker_jobs": len(jobs),
        "worker_jobs_per_100_keys": len(jobs) * 100 / keys,
        "worker_jobs_by_kind": {
            k: sum(j.get("kind", "") == k for j in jobs) for k in {j.get("kind", "") for j in jobs}
        },
        "worker_jobs_cancelled": sum(j.get("stop_reason") == "cancelled" for j in jobs),
        "job_prompt_tokens": job_prompt,
        "job_reused_tokens": job_reused,
        "job_evaluated_tokens": job_eval,
        "job_reused_share": ratio(job_reused, job_reused + job_eval),
        "worker_ms_of_matched": {"n": len(worker_ms), "p50": pct(worker_ms, 50)},
        "first_request_ms": {
            "opened": [round(v) for (_, visit), v in firsts.items() if visit == 1],
            "returned": [round(v) for (_, visit), v in firsts.items() if visit > 1],
        },
        # From every job: a restore mostly happens in the warm-up the focus starts.
        "restored_tokens": sum(int(j.get("restored_tokens", 0)) for j in jobs),
        "peak_kb": run.peak_kb,
        "peak_total_mb": peak_total / 1024 if peak_total else None,
        "prompts_logged": len(run.prompt_log),
        "wall_s": run.wall_s,
        "cpu_s": run.cpu_s,
        "notes": run.notes,
    }


def run_raw(
    model: str, entries: list[dict[str, Any]], n_ctx: int, mode: str = "raw"
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        job = {"model": model, "entries": entries, "n_ctx": n_ctx, "mode": mode}
        src.write_text(json.dumps(job))
        proc = subprocess.run(
            [sys.executable, "-m", "bench.raw_replay", str(src), str(dst)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"raw arm failed ({proc.returncode}): {proc.stderr[-2000:]}")
        out: dict[str, Any] = json.loads(dst.read_text())
        return out


def raw_entries(
    run: ArmRun, replay_all: bool, sample: int = 40, start: int = 0
) -> list[dict[str, Any]]:
    """The prompts the raw arm times. By default only those that answered a request, each after
    its predecessor (untimed) so the KV cache holds what the worker's held: replaying hundreds
    of prompts that were cancelled in the server would take longer than the server arms.
    `start`: only the prompts from this index of the log on (a segment of `--alternate`)."""
    log = run.prompt_log
    if replay_all:
        return [{**e, "index": i} for i, e in enumerate(log) if i >= start]
    # The raw arm may reuse no more of the KV cache than the worker did for the same call
    # (its predecessors were often cancelled before they evaluated anything).
    limits = {
        r.model_entry: r.worker_reused
        for r in run.requests
        if r.model_entry is not None and r.model_entry >= start
    }
    wanted = sorted(limits)
    if not wanted and start == 0:  # nothing matched: still time a sample, for the raw figures
        wanted = list(range(max(0, len(log) - sample), len(log)))
    out: list[dict[str, Any]] = []
    for i in wanted:
        if i > 0 and (not out or out[-1].get("index") != i - 1):
            out.append({**log[i - 1], "prime": True})
        out.append({**log[i], "index": i, "reuse_limit": limits.get(i)})
    return out


class RawSegments:
    """`--alternate`: the raw arm in segments, each right after the file visit whose prompts it
    replays, in one process that keeps its model loaded (and its KV cache, primed as in
    raw_entries). A segment and its replay are a minute or two apart instead of the whole arm,
    so the machine's drift over minutes falls on both alike."""

    def __init__(self, model: str, replay_all: bool, n_ctx: int = 4096) -> None:
        self.replay_all = replay_all
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.raw_replay", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._send({"model": model, "n_ctx": n_ctx})
        self._reply()  # the model is loaded before the server arm starts
        self.done = 0  # prompt log entries already replayed
        self.results: list[dict[str, Any]] = []
        self.segments: list[dict[str, Any]] = []
        self.peak_kb = 0
        self.wall_s = 0.0

    def _send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def _reply(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while line := self.proc.stdout.readline():
            if line.startswith("{"):  # anything else is a library's chatter
                reply: dict[str, Any] = json.loads(line)
                return reply
        raise RuntimeError(f"raw arm ended ({self.proc.wait()})")

    def segment(self, run: ArmRun) -> dict[str, Any]:
        entries = raw_entries(run, self.replay_all, start=self.done)
        self.done = len(run.prompt_log)
        self._send({"entries": entries})
        reply = self._reply()
        results = [x for x in reply["results"] if not x.get("prime")]
        self.results += results
        self.peak_kb = max(self.peak_kb, int(reply["peak_kb"]))
        self.wall_s += float(reply["wall_s"])
        ov = overhead(run, results)
        self.segments.append({"n": ov["n"], "median_ratio": ov["median_ratio"]})
        return reply

    async def __call__(self, run: ArmRun) -> None:
        print("  [raw] replaying the visit's prompts ...", file=sys.stderr, flush=True)
        await asyncio.to_thread(self.segment, run)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)

    def arm(self, source: ArmRun) -> dict[str, Any]:
        return raw_report(
            source,
            {"results": self.results, "peak_kb": self.peak_kb, "wall_s": self.wall_s},
            "raw",
            order=f"alternating: {len(self.segments)} segments, each right after its calls",
            segments=self.segments,
        )


def raw_arm(source: ArmRun, model: str, replay_all: bool, mode: str) -> dict[str, Any]:
    if not source.prompt_log:
        return {"notes": ["no server prompts to replay (lastPrompts)"]}
    entries = raw_entries(source, replay_all)
    print(f"arm raw: replaying {len(entries)} prompts ...", file=sys.stderr, flush=True)
    raw = run_raw(model, entries, 4096, mode)
    for key in ("results", "engine_results"):
        if key in raw:
            raw[key] = [x for x in raw[key] if not x.get("prime")]
    return raw_report(source, raw, mode, order="sequential: after the whole server arm")


def raw_report(
    source: ArmRun,
    raw: dict[str, Any],
    mode: str,
    order: str,
    segments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    times = [x["total_ms"] for x in raw["results"]]
    return {
        "source_arm": source.name,
        "order": order,
        "segments": segments,
        "through": "LlamaEngine" if mode == "engine" else "llama_cpp.Llama",
        "interleaved": interleaved(raw["results"], raw.get("engine_results")),
        "calls": len(times),
        "latency_ms": {
            "n": len(times),
            "p50": pct(times, 50),
            "p95": pct(times, 95),
            "p99": pct(times, 99),
        },
        "same_text_share": ratio(sum(x["same_text"] for x in raw["results"]), len(raw["results"])),
        "overhead": overhead(source, raw["results"]),
        "peak_mb": raw["peak_kb"] / 1024,
        "wall_s": raw["wall_s"],
        "calls_log": raw["results"],
        "notes": [],
    }


def interleaved(
    raw: list[dict[str, Any]], engine: list[dict[str, Any]] | None
) -> dict[str, Any] | None:
    """Engine/raw on the same calls, taken in turn in one process (see raw_replay.replay_both)."""
    if engine is None:
        return None
    pairs = [(e, r) for e, r in zip(engine, raw, strict=True) if r["total_ms"]]
    steps = [
        (e["generate_ms"] / e["decode_steps"]) / (r["generate_ms"] / r["decode_steps"])
        for e, r in pairs
        if e["decode_steps"] and r["decode_steps"] and r["generate_ms"]
    ]
    return {
        "n": len(pairs),
        "median_ratio": statistics.median(e["total_ms"] / r["total_ms"] for e, r in pairs)
        if pairs
        else None,
        "generate_per_step_median_ratio": statistics.median(steps) if steps else None,
    }


def overhead(run: ArmRun, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """Client-side latency of requests answered by one model call / raw time of that prompt."""
    by_index = {x["index"]: x["total_ms"] for x in raw if x.get("index") is not None}
    matched = [r for r in run.requests if r.model_entry in by_index and r.latency_ms is not None]
    pairs = [
        (r.latency_ms, float(by_index[r.model_entry]), r.worker_ms)
        for r in matched
        if r.latency_ms is not None
    ]
    if not pairs:
        return {"n": 0, "median_ratio": None, "sum_ratio": None}
    worker = [w / b for _, b, w in pairs if w is not None]
    # Requests whose call did not wait behind another job: for the others the client time
    # includes prompt tokens that job evaluated and the raw arm evaluates untimed.
    not_queued = [
        a / b
        for r, (a, b, _) in zip(matched, pairs, strict=True)
        if r.worker_queued_ms is not None and r.worker_queued_ms < QUEUED_MS
    ]
    return {
        "n": len(pairs),
        "median_ratio": statistics.median(a / b for a, b, _ in pairs),
        "sum_ratio": sum(a for a, _, _ in pairs) / sum(b for _, b, _ in pairs),
        "worker_median_ratio": statistics.median(worker) if worker else None,
        # The server's own share, timed in the same moment as the model's work (the raw arm
        # runs after the server arm, and on a shared machine the speed drifts over minutes).
        "client_over_worker_median": (
            statistics.median(a / w for a, _, w in pairs if w) if worker else None
        ),
        "not_queued": {
            "n": len(not_queued),
            "median_ratio": statistics.median(not_queued) if not_queued else None,
        },
        "median_build_ms": pct([r.worker_build_ms for r in matched if r.worker_build_ms], 50),
        "median_server_ms": statistics.median(a for a, _, _ in pairs),
        "median_raw_ms": statistics.median(b for _, b, _ in pairs),
    }


def plot_cdf(path: Path, curves: dict[str, list[float]], title: str) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 'matplotlib not importable: no PNG (pip install -e ".[bench]" into the venv)'
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, values in curves.items():
        if not values:
            continue
        xs = sorted(values)
        ys = [(i + 1) / len(xs) for i in range(len(xs))]
        ax.step(xs, ys, where="post", label=f"{name} (n={len(xs)})")
    ax.set_xscale("log")
    ax.set_xlabel("latency, ms (log)")
    ax.set_ylabel("share of requests")
    ax.set_title(title)
    ax.axvline(50, color="grey", lw=0.5, ls=":")
    ax.grid(True, which="both", lw=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "n/a" if x is None else format(x, spec)


def pc(share: float | None) -> str:
    return fmt(None if share is None else share * 100)


def summary(result: dict[str, Any]) -> str:
    arms = result["arms"]
    e, s, raw = arms.get("enclave"), arms.get("stateless"), arms.get("raw")
    lines = [
        f"size {result['size']}  files {len(result['files'])}  "
        f"keystrokes/file/visit {result['options']['keystrokes']}  "
        f"visits {result['options'].get('visits', 1)}  "
        f"load {result['loadavg_start']} -> {result['loadavg_end']}",
        "",
        f"{'arm':<10} {'p50':>8} {'p95':>8} {'p99':>8} {'n':>5} {'cancl':>5} "
        f"{'cache%':>7} {'pref%':>6} {'reuse%':>7} {'calls/100k':>10} {'jobs/100k':>9} "
        f"{'acc.ch':>6} "
        f"{'cancel p95':>10} {'peak MB':>8}",
    ]
    for name in ("enclave", "stateless", "nocontext"):
        a = arms.get(name)
        if not a:
            continue
        lat, cl = a["latency_ms"], a["cancel_latency_ms"]
        lines.append(
            f"{name:<10} {fmt(lat['p50']):>8} {fmt(lat['p95']):>8} {fmt(lat['p99']):>8} "
            f"{lat['n']:>5} {a['outcomes']['cancelled']:>5} {pc(a['share_from_cache']):>7} "
            f"{pc(a['share_from_prefetch']):>6} {pc(a['reused_share']):>7} "
            f"{fmt(a['model_calls_per_100_keys']):>10} {fmt(a['worker_jobs_per_100_keys']):>9} "
            f"{a['accepted_chars']:>6} "
            f"{fmt(cl['p95']):>10} {fmt(a['peak_total_mb'], '.0f'):>8}"
        )
    if raw:
        lat = raw["latency_ms"]
        lines.append(
            f"{'raw':<10} {fmt(lat['p50']):>8} {fmt(lat['p95']):>8} {fmt(lat['p99']):>8} "
            f"{lat['n']:>5} {'':>5} {'':>7} {'':>6} {'':>7} {'':>10} {'':>9} {'':>6} {'':>10} "
            f"{fmt(raw['peak_mb'], '.0f'):>8}"
        )
    lines += ["", f"{'target':<42} {'measured':>10} {'goal':>8}  ok"]

    def row(label: str, value: float | None, goal: float, le: bool = True) -> None:
        ok = (
            "n/a"
            if value is None
            else ("yes" if (value <= goal if le else value >= goal) else "NO")
        )
        sign = "<=" if le else ">="
        lines.append(f"{label:<42} {fmt(value, '.3f'):>10} {sign}{goal:>6.3f}  {ok}")

    for name in ("enclave", "stateless"):
        if a := arms.get(name):
            first = a.get("first_request_ms") or {}
            lines.append(
                f"first request of a visit, ms ({name}): opened {first.get('opened')}, "
                f"returned to {first.get('returned')}"
            )
    if e and e.get("restored_tokens") is not None:
        lines.append(f"tokens restored from saved file states (enclave): {e['restored_tokens']}")
    if e and s:
        row(
            "p50 enclave / p50 stateless",
            ratio(e["latency_ms"]["p50"], s["latency_ms"]["p50"]),
            0.1,
        )
        row(
            "p95 enclave / p95 stateless",
            ratio(e["latency_ms"]["p95"], s["latency_ms"]["p95"]),
            1 / 3,
        )
    if e and (nc := arms.get("nocontext")):
        added = ratio(e["latency_ms"]["p50"], nc["latency_ms"]["p50"])
        row("p50 added by context (enclave/nocontext - 1)", added and added - 1, 0.2)
    if e and raw:
        ov = raw["overhead"]
        order = "alternating" if raw.get("segments") else "sequential"
        row(f"server overhead, client/raw, {order} (n={ov['n']})", ov["median_ratio"], 1.05)
        segments = raw.get("segments") or []
        if len(segments) <= 8:
            for k, seg in enumerate(segments, 1):
                row(f"  segment {k} (n={seg['n']})", seg["median_ratio"], 1.05)
        elif ratios := sorted(x["median_ratio"] for x in segments if x["median_ratio"]):
            lines.append(
                f"  {len(ratios)} segments: client/raw quartiles "
                f"{pct(ratios, 25):.3f} {pct(ratios, 50):.3f} {pct(ratios, 75):.3f}"
            )
        row("  worker-reported time/raw", ov.get("worker_median_ratio"), 1.05)
        row("  client/worker, same request", ov.get("client_over_worker_median"), 1.05)
        if il := raw.get("interleaved"):
            row(
                f"  engine/raw, in turn in one process (n={il['n']})",
                il["median_ratio"],
                1.05,
            )
            row("    per generated token", il["generate_per_step_median_ratio"], 1.05)
        nq = ov.get("not_queued") or {}
        row(
            f"  client/raw, calls that did not queue (n={nq.get('n', 0)})",
            nq.get("median_ratio"),
            1.05,
        )
    if e:
        row("prompt tokens reused (enclave, counters)", e["reused_share"], 0.9, le=False)
        row("  reused/(reused+evaluated), all jobs", e["job_reused_share"], 0.9, le=False)
        row("cancel latency p95, ms (enclave)", e["cancel_latency_ms"]["p95"], 50)
        mem_goal = result["model_file_mb"] + MEMORY_SLACK_MB
        row("peak RSS server+worker, MB (enclave)", e["peak_total_mb"], mem_goal)
    if s:
        row("cancel latency p95, ms (stateless)", s["cancel_latency_ms"]["p95"], 50)
    for name, a in arms.items():
        if cpu := a.get("cpu_s"):
            used = ", ".join(f"{role} {sec:.1f}" for role, sec in sorted(cpu.items()))
            lines.append(f"CPU seconds [{name}]: {used} (wall {a.get('wall_s', 0):.0f} s)")
    for name, a in arms.items():
        for note in a.get("notes", []):
            lines.append(f"note [{name}]: {note}")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    files, missing = corpus.available(args.files or list(corpus.DEFAULT_FILES))
    for m in missing:
        print(f"skipped (not on this machine): {m}", file=sys.stderr)
    if not files:
        print("no source files to replay", file=sys.stderr)
        return 2
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    opts = ReplayOptions(
        keystrokes=args.keystrokes,
        cadence_cps=args.cadence,
        debounce_ms=args.debounce_ms,
        pause_max_ms=args.pause_max_ms,
        settle_ms=args.settle_ms,
        visits=args.visits,
        mid_line_pauses=not args.line_end_pauses_only,
        workspace=args.workspace or "",
    )
    model = str(model_path(MODELS[args.size]))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_json = RESULTS / f"{stamp}-{args.size}.json"
    result: dict[str, Any] = {
        "command": " ".join(
            [Path(sys.executable).name, "-m", "bench.typing_replay", *sys.argv[1:]]
        ),
        "size": args.size,
        "model": model,
        "model_file_mb": Path(model).stat().st_size / 2**20,
        "cpus": os.cpu_count(),
        "loadavg_start": round(os.getloadavg()[0], 2),
        "options": vars(opts),
        "files": [f"{f.path}:{f.text.count(chr(10), 0, f.start) + 1}" for f in files],
        "missing_files": missing,
        "arms": {},
    }
    curves: dict[str, list[float]] = {}
    server_arms = [a for a in arms if a in ARM_SETTINGS]
    # The raw arm replays the first server arm's prompts (enclave's when it runs) right after
    # it: the machine's speed drifts over the minutes the other arms take.
    source = "enclave" if "enclave" in server_arms else next(iter(server_arms), None)
    for name in server_arms:
        segments = None
        if args.alternate and name == source and "raw" in arms:
            print("arm raw: loading the model for --alternate ...", file=sys.stderr, flush=True)
            segments = RawSegments(model, args.raw_all)
        print(f"arm {name}: starting the server ...", file=sys.stderr, flush=True)
        try:
            settings = ARM_SETTINGS[name]
            if args.window:  # every server arm, so that enclave/stateless compare one window
                completion = {**settings.get("completion", {}), "contextTokens": args.window}
                settings = {**settings, "completion": completion}
            run = await run_arm(
                name,
                settings,
                args.size,
                files,
                opts,
                segments,
                per_call=args.alternate == "call",
            )
        finally:
            if segments is not None:
                segments.close()
        result["arms"][name] = server_stats(run)
        result["arms"][name]["request_log"] = [r.to_json() for r in run.requests]
        result["arms"][name]["worker_jobs_log"] = run.stats_log
        if args.keep_prompts:  # to replay the very calls elsewhere (a few MB)
            result["arms"][name]["prompt_log"] = run.prompt_log
        curves[name] = [
            r.latency_ms
            for r in run.requests
            if r.outcome in ("answered", "empty") and r.latency_ms
        ]
        if segments is not None:
            result["arms"]["raw"] = segments.arm(run)
        elif name == source and "raw" in arms:
            mode = "engine" if args.raw_engine else "both" if args.interleaved else "raw"
            result["arms"]["raw"] = raw_arm(run, model, args.raw_all, mode)
            if times := [x["total_ms"] for x in result["arms"]["raw"].get("calls_log", [])]:
                curves["raw (per model call)"] = times
    result["loadavg_end"] = round(os.getloadavg()[0], 2)
    png = out_json.with_suffix(".png")
    problem = plot_cdf(png, curves, f"inline completion latency, {args.size}")
    result["png"] = None if problem else str(png)
    if problem:
        print(problem, file=sys.stderr)
    text = summary(result)
    result["summary"] = text
    out_json.write_text(json.dumps(result, indent=1, default=str))
    print(text)
    print(f"\nresults: {out_json}" + (f"\nCDF: {png}" if not problem else ""))
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.typing_replay", description=__doc__)
    p.add_argument("--size", choices=sorted(MODELS), default="0.5b")
    p.add_argument("--files", nargs="*", help="PATH[:LINE] to type from LINE on")
    p.add_argument("--keystrokes", type=int, default=150, help="typed keys per file and visit")
    p.add_argument(
        "--visits",
        type=int,
        default=2,
        help="visits to each file, forth and back (A B C, C B A, ...); a later visit types on "
        "where the last stopped",
    )
    p.add_argument("--arms", default="enclave,stateless,raw")
    p.add_argument(
        "--window",
        type=int,
        metavar="TOKENS",
        help="completion.contextTokens (the code window) for every server arm",
    )
    p.add_argument("--cadence", type=float, default=9.0, help="typing speed, chars/s")
    p.add_argument("--debounce-ms", type=float, default=75.0)
    p.add_argument("--raw-all", action="store_true", help="raw arm replays every prompt")
    through = p.add_mutually_exclusive_group()
    through.add_argument(
        "--raw-engine",
        action="store_true",
        help="the raw arm replays through the worker's LlamaEngine alone (diagnostic)",
    )
    through.add_argument(
        "--interleaved",
        action="store_true",
        help="the raw arm also replays through the worker's LlamaEngine, in turn with raw, in "
        "one process: engine/raw without the drift between arms (its peak memory holds two "
        "models)",
    )
    through.add_argument(
        "--alternate",
        nargs="?",
        const="visit",
        choices=("visit", "call"),
        help="the raw arm replays the prompts of each file visit right after it (or with `call` "
        "each model-answered request's call right after its answer), the worker idle, in one "
        "process that keeps its model loaded: client/raw without the drift of minutes between "
        "the whole arms. With `call` the typist waits at each such answer (and the prefetch "
        "it started): that run's other figures are not a normal run's",
    )
    p.add_argument(
        "--keep-prompts", action="store_true", help="write each server arm's prompts to the JSON"
    )
    p.add_argument("--pause-max-ms", type=float, default=8000.0, help="wait at line ends")
    p.add_argument(
        "--workspace",
        help="workspace folder (rootUri) for repository context; default: the current directory",
    )
    p.add_argument(
        "--line-end-pauses-only",
        action="store_true",
        help='pause only at line ends, not also after "(", "." and "= "',
    )
    p.add_argument(
        "--settle-ms",
        type=float,
        default=2000.0,
        help="from opening a file (cursor at the edit point, focus sent) to the first key",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
