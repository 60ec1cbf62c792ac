"""Secret redaction: time on adversarial text, secret-kind coverage, false positives on real
code. Ratios and counts from one run, side by side; nothing here is asserted.

    python -m bench.redaction [--corpus DIR ...] [--mb 1] [--sample 8] [--json FILE]

1. Time for --mb MB of adversarial text (runs of each character class the rules use, near
   misses of every rule's keywords, key markers, open quotes ...): per rule (every rule on every
   text, prefilter bypassed) and per family, the whole redaction (`redact`, cut at both ends)
   per text, and the worst rule; then the same patterns under Python `re` on a small sample,
   and the regex of the redactor this one replaced on growing runs (quadratic).
2. Coverage: the secret kinds of tests/data/secrets/kinds.toml and gitleaks' true positives
   caught / tried, and pieces of kinds cut at chunk boundaries that leaked.
3. False positives per MB on real code: the Python standard library, the VS Code extension's
   node_modules, Go's sources when present (or --corpus): redactions per rule on whole files
   and on 40-line chunks (as the repository context cuts files), with a sample of each to read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sysconfig
import time
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from lsp_server.privacy.edges import edge_spans, open_key_blocks
from lsp_server.privacy.redact import RECALL, SCANNER, TOKEN_PREFIXES, redact, secret_spans
from lsp_server.privacy.scanner import Rule

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ROOT / "tests" / "data" / "secrets"
SOURCE_EXTS = {".py", ".js", ".mjs", ".cjs", ".ts", ".go", ".json", ".toml", ".yaml", ".yml"}
CHUNK_EXTS = {".py", ".js", ".mjs", ".cjs", ".ts", ".go"}
CHUNK_LINES = 40
SEMI_GENERIC = r"[\w.-]{0,50}?"
# The assignment pattern of the redactor this one replaced: quadratic on long [\w.-] runs.
OLD_ASSIGNMENT = re.compile(
    r"""(?P<head>(?i:\b[\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|apikey|"""
    r"""private[_-]?key|access[_-]?key|auth|credential)[\w.-]*)["']?\s*(?::=|=|:)\s*)"""
    r"""(?P<quote>["']?)(?P<secret>[^\s"',;)]{6,})(?P=quote)"""
)


def family(rule: Rule) -> str:
    if rule.source == "enclave.toml":
        return "enclave rules"
    if rule.id == "generic-api-key":
        return "gitleaks generic-api-key"
    if SEMI_GENERIC in rule.regex.pattern:
        return "gitleaks keyed on a name"
    return "gitleaks token formats"


def adversarial(size: int) -> dict[str, str]:
    """Texts of about `size` characters built to make patterns work hard."""
    kw = sorted({k for r in SCANNER.rules for k in r.keywords})
    near = "".join(f"{k}{'A1b2'[: len(k) % 4 + 1]} = '{k}x\n" for k in kw)

    def fill(unit: str) -> str:
        return unit * (size // max(len(unit), 1) + 1)

    texts = {
        "word run": fill("a"),
        "[\\w.-] run": fill("key_token.secret-"),
        "base64 lines": fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/" * 20 + "\n"),
        "hex run": fill("0123456789abcdef"),
        "digits": fill("0123456789"),
        "spaces and tabs": fill(" \t"),
        "newlines": fill("\n"),
        "dashes": fill("-"),
        "near-miss assignments": fill('api_key = "A1b2A1b2A1b2"\n'),
        "every keyword, near misses": fill(near),
        "BEGIN markers": fill("-----BEGIN RSA PRIVATE KEY-----\n"),
        "END markers": fill("-----END RSA PRIVATE KEY-----"),
        "markers and escaped body": fill("-----END RSA PRIVATE KEY-----MIIEowIBAAKCAQEA7xV\\n"),
        "open quotes": '"' + fill("aB3"),
        "quoted randoms": fill('"' + "aB3" * 7 + '" '),
        "URL near misses": fill("postgres://u:"),
        "password assignments, open": fill('password = "' + "x" * 5),
        ".env secrets": fill("PASSWORD=" + "a1" * 5 + "\n"),
        "one random token": fill("A1b2C3d4"),
        "XML near misses": fill("<password>abc<"),
    }
    return {name: text[:size] for name, text in texts.items()}


def timed(fn: Callable[..., object], *args: Any) -> float:
    """CPU seconds of fn(*args) (CPU time: the machine is shared)."""
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def drain(items: Iterable[object]) -> None:
    for _ in items:
        pass


def time_rules(texts: dict[str, str]) -> dict[str, Any]:
    per_rule: dict[str, float] = {}
    worst: tuple[float, str, str] = (0.0, "", "")
    per_family: defaultdict[str, float] = defaultdict(float)
    for name, text in texts.items():
        data = text.encode()
        for rule in SCANNER.rules:
            t = timed(drain, SCANNER.scan_rule(rule, data))
            per_rule[rule.id] = max(per_rule.get(rule.id, 0.0), t)
            per_family[family(rule)] += t
            worst = max(worst, (t, rule.id, name))
        per_family["key blocks"] += timed(open_key_blocks, data)
        per_family["cut edges"] += timed(edge_spans, data, True, True, TOKEN_PREFIXES)
        per_family["recall"] += timed(RECALL.spans, data)
    whole = {name: timed(redact, text, True) for name, text in texts.items()}
    return {
        "per_family_total_s": dict(per_family),
        "worst_rule": {"seconds": worst[0], "rule": worst[1], "text": worst[2]},
        "slowest_rules": sorted(per_rule.items(), key=lambda kv: -kv[1])[:5],
        "redact_per_text_s": whole,
    }


def python_re_comparison(texts: dict[str, str], size: int) -> dict[str, Any]:
    """gitleaks' patterns that Python's re can compile, both engines on the same sample."""
    compiled = []
    for rule in SCANNER.rules:
        src = rule.regex.pattern.replace(r"\z", r"\Z").replace("[[:alnum:]]", "[0-9A-Za-z]")
        try:
            compiled.append((rule, re.compile(src)))
        except re.error:
            continue
    sample = {n: t[:size] for n, t in texts.items() if n in ("word run", "[\\w.-] run")}
    python = sum(timed(drain, p.finditer(t)) for t in sample.values() for _, p in compiled)
    re2 = sum(
        timed(drain, r.regex.finditer(t.encode())) for t in sample.values() for r, _ in compiled
    )
    runs = {}
    for n in (2_000, 4_000, 8_000):
        run = ("ab.cd-" * n)[:n]  # word boundaries everywhere, no secret-like name
        runs[n] = {
            "old_python_re_s": timed(OLD_ASSIGNMENT.search, run),
            "redact_re2_s": timed(secret_spans, run.encode(), True, True),
        }
    return {
        "rules_compared": len(compiled),
        "sample_chars": size,
        "python_re_s": python,
        "re2_s": re2,
        "old_assignment_regex_on_runs": runs,
    }


def coverage() -> dict[str, Any]:
    with (SECRETS / "kinds.toml").open("rb") as f:
        kinds = tomllib.load(f)["kind"]

    def leaked(secrets: list[str], text: str) -> bool:
        return any(s[i : i + 8] in text for s in secrets for i in range(len(s) - 7))

    caught = [k["id"] for k in kinds if not leaked(k["secrets"], redact(k["text"]))]
    cuts = leaks = 0
    for k in kinds:
        text = "x = 1\n" + k["text"] + "\ny = 2\n"
        for at in range(0, len(text) + 1, 3):
            cuts += 1
            pieces = [redact(text[:at], cut=True), redact(text[at:], cut=True)]
            leaks += leaked(k["secrets"], "\x00".join(pieces))
    examples = json.loads((SECRETS / "gitleaks_examples.json").read_text())["rules"]
    rules = {r.id: r for r in SCANNER.rules}
    tried = found = 0
    for rule_id, cases in examples.items():
        if rule_id not in rules:
            continue
        for case in cases["tps"]:
            tried += 1
            data = case["text"].encode()
            secrets = [data[f.start : f.end] for f in SCANNER.scan(data, case.get("path"))]
            out = redact(case["text"], path=case.get("path"))
            found += bool(secrets) and all(s.decode() not in out for s in secrets)
    return {
        "kinds_caught": len(caught),
        "kinds_tried": len(kinds),
        "kinds_missed": [k["id"] for k in kinds if k["id"] not in caught],
        "chunk_cuts_tried": cuts,
        "chunk_cuts_leaking": leaks,
        "gitleaks_true_positives_caught": found,
        "gitleaks_true_positives_tried": tried,
    }


def corpora(extra: list[str]) -> dict[str, Path]:
    found: dict[str, Path] = {"python stdlib": Path(sysconfig.get_paths()["stdlib"])}
    for candidate in (
        ROOT / "editor-clients" / "vscode" / "node_modules",
        Path("/work/main/editor-clients/vscode/node_modules"),
    ):
        if candidate.is_dir():
            found["vscode node_modules"] = candidate
            break
    for go in [*sorted(Path("/usr/lib").glob("go*/src")), Path("/usr/local/go/src")]:
        if go.is_dir():
            found["go sources"] = go
            break
    for path in extra:
        found[path] = Path(path)
    return found


def files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("site-packages", "__pycache__")]
        for name in filenames:
            path = Path(dirpath) / name
            if path.suffix in SOURCE_EXTS:
                yield path


def line_at(data: bytes, offset: int) -> str:
    start = data.rfind(b"\n", 0, offset) + 1
    return data[start : start + 160].split(b"\n")[0].decode("utf-8", "replace").strip()


def chunks(data: bytes) -> Iterable[bytes]:
    """The file in pieces of CHUNK_LINES lines (joined by one line break each)."""
    lines = data.split(b"\n")
    for i in range(0, len(lines), CHUNK_LINES):
        yield b"\n".join(lines[i : i + CHUNK_LINES])


def rule_of(data: bytes, span: tuple[int, int], path: str) -> str:
    for f in SCANNER.scan(data, path):
        if f.start < span[1] and span[0] < f.end:
            return f.rule
    return "key blocks and recall"


def false_positives(root: Path, sample: int) -> dict[str, Any]:
    whole: Counter[str] = Counter()
    chunk_only = 0
    samples: defaultdict[str, list[str]] = defaultdict(list)
    size = 0
    for path in files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if len(data) > 2_000_000:
            continue
        size += len(data)
        RECALL.forget()  # each file on its own: counts do not depend on the walk's order
        spans = secret_spans(data, False, False, str(path))
        for span in spans:
            rule = rule_of(data, span, str(path))
            whole[rule] += 1
            samples[rule].append(f"{path.name}: {line_at(data, span[0])}")
        if path.suffix not in CHUNK_EXTS:
            continue
        at = 0
        for chunk in chunks(data):
            RECALL.forget()
            for s, e in secret_spans(chunk, True, True, str(path)):
                if not any(a < at + e and at + s < b for a, b in spans):
                    chunk_only += 1
                    samples["cut edges of 40-line chunks"].append(
                        f"{path.name}: {line_at(chunk, s)}"
                    )
            at += len(chunk) + 1
    rng = random.Random(0)
    return {
        "megabytes": size / 1e6,
        "whole_files_by_rule": dict(whole.most_common()),
        "whole_files_per_mb": sum(whole.values()) / max(size / 1e6, 1e-9),
        "chunk_edges_only": chunk_only,
        "chunk_edges_only_per_mb": chunk_only / max(size / 1e6, 1e-9),
        "sample": {r: rng.sample(s, min(sample, len(s))) for r, s in samples.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.redaction", description=__doc__)
    p.add_argument("--corpus", action="append", default=[], help="another source tree")
    p.add_argument("--mb", type=float, default=1.0, help="size of each adversarial text")
    p.add_argument("--re-sample", type=int, default=10_000, help="chars for the Python re run")
    p.add_argument("--sample", type=int, default=8, help="false positives shown per rule")
    p.add_argument("--json", help="write the results here too")
    args = p.parse_args()
    size = int(args.mb * 1_000_000)
    texts = adversarial(size)
    results: dict[str, Any] = {"adversarial_chars": size}

    timing = time_rules(texts)
    results["timing"] = timing
    print(f"== Time (CPU) for {args.mb:g} MB of adversarial text, {len(SCANNER.rules)} rules")
    for name, seconds in timing["redact_per_text_s"].items():
        print(f"  redact, {name:30s} {seconds:7.3f} s")
    total = sum(timing["redact_per_text_s"].values())
    print(f"  total redaction time, {len(texts)} texts: {total:.2f} s")
    for fam, seconds in sorted(timing["per_family_total_s"].items(), key=lambda kv: -kv[1]):
        print(f"  family {fam:32s} {seconds:7.3f} s over the {len(texts)} texts")
    w = timing["worst_rule"]
    print(f"  worst rule on one text: {w['rule']} on '{w['text']}': {w['seconds']:.3f} s")

    comparison = python_re_comparison(texts, args.re_sample)
    results["python_re"] = comparison
    ratio = comparison["python_re_s"] / max(comparison["re2_s"], 1e-9)
    print(
        f"== Python re vs RE2, {comparison['rules_compared']} gitleaks patterns on 2 x "
        f"{args.re_sample:,} chars: re {comparison['python_re_s']:.2f} s, RE2 "
        f"{comparison['re2_s']:.3f} s ({ratio:,.0f}x)"
    )
    for n, row in comparison["old_assignment_regex_on_runs"].items():
        print(
            f"  a {n:,}-char [\\w.-] run: the old assignment regex {row['old_python_re_s']:.2f} s,"
            f" this redaction {row['redact_re2_s'] * 1000:.1f} ms"
        )

    cov = coverage()
    results["coverage"] = cov
    print("== Coverage")
    print(
        f"  secret kinds caught: {cov['kinds_caught']} / {cov['kinds_tried']} {cov['kinds_missed']}"
    )
    print(
        f"  kinds cut into two pieces (every 3rd char): {cov['chunk_cuts_leaking']} leaking of "
        f"{cov['chunk_cuts_tried']} cuts"
    )
    print(
        f"  gitleaks true positives caught: {cov['gitleaks_true_positives_caught']} / "
        f"{cov['gitleaks_true_positives_tried']}"
    )

    print("== False positives on real code (read the samples: not every redaction is one)")
    results["false_positives"] = {}
    for name, root in corpora(args.corpus).items():
        fp = false_positives(root, args.sample)
        results["false_positives"][name] = fp
        print(
            f"  {name} ({root}): {fp['megabytes']:.1f} MB, {fp['whole_files_per_mb']:.2f} "
            f"redactions/MB in whole files, {fp['chunk_edges_only_per_mb']:.2f}/MB more at the "
            "cut edges of 40-line chunks"
        )
        counts = {
            **fp["whole_files_by_rule"],
            "cut edges of 40-line chunks": fp["chunk_edges_only"],
        }
        for rule, n in counts.items():
            print(f"    {n:6d} {rule}")
            for line in fp["sample"].get(rule, []):
                print(f"             {line[:150]}")
    if not any("go" in n for n in results["false_positives"]):
        print("  go sources: not found on this machine")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
