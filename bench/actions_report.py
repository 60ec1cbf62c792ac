"""The actions bench's figures: computed from the per-task records alone (so an earlier run's
JSON can be summarized again, `--report`), printed per language and per action, with issue
22's targets under them."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from typing import Any

SERIOUS = ("error", "warning")
CHANGED = ("differs", "lost")  # a refactor that changed what the function does
Record = dict[str, Any]


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _group(records: list[Record], key: Callable[[Record], str]) -> dict[str, list[Record]]:
    groups: dict[str, list[Record]] = {}
    for r in records:
        groups.setdefault(key(r), []).append(r)
    groups["all"] = list(records)
    return groups


# -- review ------------------------------------------------------------------------------------


def review_figures(records: list[Record]) -> dict[str, Any]:
    mutants = [r["mutant"] for r in records if "error" not in r.get("mutant", {"error": 1})]
    unchanged = [r["unchanged"] for r in records if "error" not in r.get("unchanged", {"error": 1})]
    reviews = mutants + unchanged
    serious = sum(1 for u in unchanged for f in u["findings"] if f["severity"] in SERIOUS)
    seconds = [float(x["seconds"]) for x in reviews]
    return {
        "mutants": len(mutants),
        "hits": sum(bool(m.get("hit")) for m in mutants),
        "recall": share(sum(bool(m.get("hit")) for m in mutants), len(mutants)),
        "unchanged": len(unchanged),
        "false_alarms_per_function": round(serious / len(unchanged), 3) if unchanged else None,
        "findings_per_function": round(sum(len(x["findings"]) for x in reviews) / len(reviews), 3)
        if reviews
        else None,
        # findings the server dropped: malformed, or quoting text that is not in the document
        "dropped_per_function": round(
            sum(int((x.get("result") or {}).get("dropped", 0)) for x in reviews) / len(reviews), 3
        )
        if reviews
        else None,
        "mutant_findings_off_the_line": sum(
            1
            for r in records
            for f in r.get("mutant", {}).get("findings", [])
            if not f["start_line"] <= r["mutation"]["line"] <= f["end_line"]
        ),
        "p50_s": pct(seconds, 50),
        "p90_s": pct(seconds, 90),
        "errors": sum("error" in r.get(v, {}) for r in records for v in ("mutant", "unchanged")),
        "cut": sum(cut(x) for x in reviews),
        "recall_uncut": share(
            sum(bool(m.get("hit")) for m in mutants if not cut(m)),
            sum(not cut(m) for m in mutants),
        ),
    }


def only_basis(records: list[Record], basis: str) -> list[Record]:
    """The records with only the findings of one pass (`slip` or `model`), hits recounted."""
    out: list[Record] = []
    for r in records:
        copy = dict(r)
        for variant in ("mutant", "unchanged"):
            if "findings" not in r.get(variant, {}):
                continue
            kept = [f for f in r[variant]["findings"] if f.get("basis", "model") == basis]
            copy[variant] = {**r[variant], "findings": kept}
            if variant == "mutant":
                line = r["mutation"]["line"]
                copy[variant]["hit"] = any(f["start_line"] <= line <= f["end_line"] for f in kept)
        out.append(copy)
    return out


def cut(x: Record) -> bool:
    """The model was stopped by the server's deadline (or cancelled): on a busy machine an
    answer can be cut before it is complete, which no prompt or model change would fix."""
    return any(r in ("deadline", "cancelled") for r in x.get("jobs", {}).get("stop_reasons", []))


# -- refactor ----------------------------------------------------------------------------------


def refactor_figures(requests: list[Record]) -> dict[str, Any]:
    offered = [q for q in requests if q.get("offered")]
    verdicts = [str((q.get("behaviour") or {}).get("verdict", "")) for q in offered]
    checked = [v for v in verdicts if v in ("same", *CHANGED)]
    tokens = sum(float(q.get("jobs", {}).get("generated_tokens", 0)) for q in requests)
    gen_ms = sum(float(q.get("jobs", {}).get("generate_ms", 0)) for q in requests)
    rates = [float(q["tokens_per_s"]) for q in requests if q.get("tokens_per_s")]
    return {
        "requests": len(requests),
        "offered": share(len(offered), len(requests)),
        "parses": share(sum(bool(q.get("parses")) for q in offered), len(offered)),
        "checked": len(checked),
        "same": share(checked.count("same"), len(checked)),
        "changed": sum(v in CHANGED for v in checked),
        # offered edits the runner would not run: an import, a new impure call
        "refused": verdicts.count("not_run"),
        "not_checked": len(offered) - len(checked) - verdicts.count("not_run"),
        "tokens_per_s": round(tokens / (gen_ms / 1000), 2) if gen_ms else None,
        "median_tokens_per_s": round(statistics.median(rates), 2) if rates else None,
        "generated_tokens": int(tokens),
        "p50_s": pct([float(q["seconds"]) for q in requests if "seconds" in q], 50),
        "cut": sum(cut(q) for q in requests),
    }


def fix_figures(fixes: list[Record]) -> dict[str, Any]:
    tried = [f for f in fixes if not f.get("skipped")]
    offered = [f for f in tried if f.get("offered")]
    verdicts = [str((f.get("behaviour") or {}).get("verdict", "")) for f in offered]
    return {
        "seeded": len(tried),
        "skipped": len(fixes) - len(tried),
        "offered": share(len(offered), len(tried)),
        "restored": share(verdicts.count("same"), len(tried)),
        "still_wrong": sum(v in CHANGED for v in verdicts),
    }


# -- explain -----------------------------------------------------------------------------------


def explain_figures(records: list[Record]) -> dict[str, Any]:
    done = [r for r in records if "error" not in r]
    returning = [r for r in done if r["returns"]]
    counts = [len(r["hallucinated"]) for r in done]
    return {
        "n": len(done),
        "errors": len(records) - len(done),
        "complete": share(sum(bool(r["complete"]) for r in done), len(done)),
        "all_params_named": share(sum(not r["missing_params"] for r in done), len(done)),
        "return_stated": share(sum(bool(r["return_stated"]) for r in returning), len(returning)),
        "hallucinations_per_explanation": round(sum(counts) / len(done), 3) if done else None,
        "with_hallucinations": sum(c > 0 for c in counts),
        "p50_s": pct([float(r["seconds"]) for r in done], 50),
        "cut": sum(cut(r) for r in done),
    }


# -- all ---------------------------------------------------------------------------------------


def summarize(results: dict[str, list[Record]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    language: Callable[[Record], str] = lambda r: str(r["language"])  # noqa: E731
    if results.get("review"):
        reviews = results["review"]
        out["review"] = {k: review_figures(v) for k, v in _group(reviews, language).items()}
        by_op = _group(reviews, lambda r: str(r["mutation"]["operator"]))
        by_op.pop("all")
        out["review_by_operator"] = {k: review_figures(v) for k, v in sorted(by_op.items())}
        out["review_by_basis"] = {
            basis: review_figures(only_basis(reviews, basis)) for basis in ("slip", "model")
        }
    if results.get("refactor"):
        records = results["refactor"]
        requests = [
            {**q, "language": r["language"], "runnable": r["runnable"]}
            for r in records
            for q in r["requests"]
        ]
        table: dict[str, dict[str, Any]] = {}
        for lang, qs in _group(requests, language).items():
            per_action = _group(qs, lambda q: str(q.get("action")))
            table[lang] = {a: refactor_figures(v) for a, v in per_action.items()}
        out["refactor"] = table
        fixes = [{**r["fix"], "language": r["language"]} for r in records if r.get("fix")]
        if fixes:
            out["fix"] = {k: fix_figures(v) for k, v in _group(fixes, language).items()}
    if results.get("explain"):
        out["explain"] = {
            k: explain_figures(v) for k, v in _group(results["explain"], language).items()
        }
    out["model_work"] = model_work(results)
    out["targets"] = targets(out)
    return out


# Speeds of this machine with 2 free threads (/work/shared/README.md): prompt and generated
# tokens per second. The work (tokens) does not depend on the load; its time does.
IDLE_SPEEDS = {"1.5b": (37.0, 15.0), "0.5b": (70.0, 20.0)}


def _jobs_of(results: dict[str, list[Record]]) -> Iterable[dict[str, Any]]:
    for r in results.get("review", []):
        yield from (r[v]["jobs"] for v in ("mutant", "unchanged") if "jobs" in r.get(v, {}))
    for r in results.get("refactor", []):
        yield from (q["jobs"] for q in r["requests"] if "jobs" in q)
        if "jobs" in r.get("fix", {}):
            yield r["fix"]["jobs"]
    yield from (r["jobs"] for r in results.get("explain", []) if "jobs" in r)


def model_work(results: dict[str, list[Record]]) -> dict[str, Any]:
    """Tokens the model evaluated and generated, and the time that took."""
    jobs = list(_jobs_of(results))
    evaluated = sum(float(j["prompt_tokens"]) - float(j["reused_tokens"]) for j in jobs)
    generated = sum(float(j["generated_tokens"]) for j in jobs)
    seconds = sum(float(j["prompt_ms"]) + float(j["generate_ms"]) for j in jobs) / 1000
    return {
        "jobs": sum(int(j.get("jobs", 1)) for j in jobs),
        "evaluated_tokens": int(evaluated),
        "generated_tokens": int(generated),
        "model_s": round(seconds),
    }


def idle_minutes(work: dict[str, Any], size: str) -> float | None:
    """The model time the same work would take at the machine's speeds when idle."""
    if size not in IDLE_SPEEDS:
        return None
    prompt, gen = IDLE_SPEEDS[size]
    seconds = float(work["evaluated_tokens"]) / prompt + float(work["generated_tokens"]) / gen
    return round(seconds / 60, 1)


def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 22's targets against this run. A target relative to today's figure (`met` None)
    and an (info) row are shown, not judged."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: Any, goal: str, met: Callable[[Any], bool] | None = None) -> None:
        judged = None if value is None or met is None else met(value)
        rows.append({"target": name, "measured": value, "goal": goal, "met": judged})

    if "review" in s:
        r = s["review"]["all"]
        add("review recall on seeded bugs", r["recall"], ">= 0.5", lambda v: v >= 0.5)
        fa = r["false_alarms_per_function"]
        add(
            "review error/warning findings per unchanged function", fa, "<= 0.3", lambda v: v <= 0.3
        )
        add("review p50 s per function", r["p50_s"], "<= today's")
    if "refactor" in s:
        a = s["refactor"]["all"]["all"]
        add("refactor: behaviour-changing edits offered", a["changed"], "0", lambda v: v == 0)
        add("(info) refactor: offered edits not run (an import, an impure call)", a["refused"], "-")
        add(
            "refactor: requests that end in an offered edit",
            a["offered"],
            ">= 0.8",
            lambda v: v >= 0.8,
        )
        add("rewrite generation speed, tokens/s", a["tokens_per_s"], ">= 1.8x today's")
    if "explain" in s:
        e = s["explain"]["all"]
        add(
            "explain: every parameter and the return named",
            e["complete"],
            ">= 0.9",
            lambda v: v >= 0.9,
        )
        halluc = e["hallucinations_per_explanation"]
        add(
            "explain: hallucinated identifiers per explanation",
            halluc,
            "<= 0.2",
            lambda v: v <= 0.2,
        )
    return rows


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def _table(title: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    print(f"\n{title}")
    cells = [header, *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    for row in cells:
        print(
            "  "
            + "  ".join(
                str(c).rjust(w) if i else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


REVIEW_COLUMNS = (
    ("bugs", "mutants"),
    ("recall", "recall"),
    ("clean", "unchanged"),
    ("FA/fn", "false_alarms_per_function"),
    ("find/fn", "findings_per_function"),
    ("dropped/fn", "dropped_per_function"),
    ("p50 s", "p50_s"),
    ("p90 s", "p90_s"),
    ("cut", "cut"),
    ("recall uncut", "recall_uncut"),
    ("err", "errors"),
)
REFACTOR_COLUMNS = (
    ("asked", "requests"),
    ("offered", "offered"),
    ("parses", "parses"),
    ("run", "checked"),
    ("same", "same"),
    ("changed", "changed"),
    ("refused", "refused"),
    ("unrun", "not_checked"),
    ("tok/s", "tokens_per_s"),
    ("p50 s", "p50_s"),
    ("cut", "cut"),
)
FIX_COLUMNS = (
    ("seeded", "seeded"),
    ("offered", "offered"),
    ("restored", "restored"),
    ("still wrong", "still_wrong"),
    ("skipped", "skipped"),
)
EXPLAIN_COLUMNS = (
    ("n", "n"),
    ("complete", "complete"),
    ("params", "all_params_named"),
    ("return", "return_stated"),
    ("halluc/expl", "hallucinations_per_explanation"),
    ("with halluc", "with_hallucinations"),
    ("p50 s", "p50_s"),
    ("cut", "cut"),
    ("err", "errors"),
)


def _rows(
    groups: dict[str, dict[str, Any]], columns: tuple[tuple[str, str], ...]
) -> Iterable[list[Any]]:
    return ([name, *(figures.get(key) for _, key in columns)] for name, figures in groups.items())


def print_report(summary: dict[str, Any], report: dict[str, Any]) -> None:
    print(
        f"\nactions bench: {report.get('size')} model, half {report.get('half')}, "
        f"seed {report.get('seed')}: {report.get('command', '')}"
    )
    if "review" in summary:
        _table(
            "review (recall: a finding on the seeded line; FA: error/warning per clean function)",
            ["review", *(h for h, _ in REVIEW_COLUMNS)],
            _rows(summary["review"], REVIEW_COLUMNS),
        )
        _table(
            "review by pass (slip: the token scores; model: the model's JSON answer)",
            ["pass", *(h for h, _ in REVIEW_COLUMNS[:5])],
            _rows(summary.get("review_by_basis", {}), REVIEW_COLUMNS[:5]),
        )
        _table(
            "review by operator",
            ["operator", *(h for h, _ in REVIEW_COLUMNS[:2])],
            _rows(summary["review_by_operator"], REVIEW_COLUMNS[:2]),
        )
    if "refactor" in summary:
        rows = (
            [lang, *row]
            for lang, actions in summary["refactor"].items()
            for row in _rows(actions, REFACTOR_COLUMNS)
        )
        _table(
            "refactor (run: pure Python, on generated inputs; others: offered and parses only)",
            ["refactor", "action", *(h for h, _ in REFACTOR_COLUMNS)],
            rows,
        )
    if "fix" in summary:
        _table(
            "fix (a seeded bug the inputs expose, a diagnostic on its line, the quick fix)",
            ["fix", *(h for h, _ in FIX_COLUMNS)],
            _rows(summary["fix"], FIX_COLUMNS),
        )
    if "explain" in summary:
        _table(
            "explain (complete: every parameter named, and the return when there is one)",
            ["explain", *(h for h, _ in EXPLAIN_COLUMNS)],
            _rows(summary["explain"], EXPLAIN_COLUMNS),
        )
    work = summary.get("model_work")
    if work:
        idle = idle_minutes(work, str(report.get("size", "")))
        print(
            f"\nmodel work: {work['jobs']} jobs, {work['evaluated_tokens']:,} prompt tokens "
            f"evaluated, {work['generated_tokens']:,} generated, {work['model_s'] / 60:.1f} min "
            f"of model time here (wall {float(report.get('wall_s', 0)) / 60:.1f} min, load "
            f"{report.get('load', '?')}); at this machine's idle speeds about {idle} min"
        )
    _table(
        "targets (issue 22)",
        ["target", "measured", "goal", "met"],
        (
            [t["target"], t["measured"], t["goal"], {None: "-", True: "yes", False: "no"}[t["met"]]]
            for t in summary["targets"]
        ),
    )


def one_line(action: str, record: Record) -> str:
    """What one task gave, for the progress output."""
    if action == "review":
        parts = []
        for v in ("mutant", "unchanged"):
            x = record.get(v, {})
            if "error" in x:
                parts.append(f"{v}: error {x['error'][:60]}")
            else:
                hit = " HIT" if x.get("hit") else ""
                parts.append(f"{v}: {len(x['findings'])} findings{hit} {x['seconds']:.0f}s")
        return f"[{record['mutation']['operator']}] " + "; ".join(parts)
    if action == "explain":
        if "error" in record:
            return f"error {record['error'][:80]}"
        return (
            f"complete={record['complete']} missing={record['missing_params']} "
            f"hallucinated={record['hallucinated']} {record['seconds']:.0f}s"
        )
    offered = sum(bool(q.get("offered")) for q in record["requests"])
    return f"{offered}/{len(record['requests'])} offered in {record['task_seconds']:.0f}s"
