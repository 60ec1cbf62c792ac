"""How the prompt layout decides the work per keystroke, and what it costs in quality.

Part 1 (tokens, no model run): replay typing through a real file and count, for each keystroke,
the prompt tokens that must be evaluated again (prompt length minus the prefix shared with the
previous prompt), for prefix-suffix-middle (PSM) with several suffix budgets, for
suffix-prefix-middle (SPM), and for PSM with Enclave's prompt anchor (typed text after the
middle marker).

Part 2 (quality, model runs): line-completion tasks cut from the same real files, PSM vs SPM,
same window, greedy; exact match and edit similarity.

    python -m bench.fim_order --size 1.5b --tasks 16
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lsp_server.model.kv_states import common_prefix
from lsp_server.model.provision import MODELS, model_path
from lsp_server.prompts.fim import PromptParts, build_prompt, get_template

STDLIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
FILES = [STDLIB / "textwrap.py", STDLIB / "shlex.py"]
BUDGET = 640


def spm(prefix: str, suffix: str) -> str:
    return f"<|fim_suffix|>{suffix}<|fim_prefix|>{prefix}<|fim_middle|>"


def window(
    text: str, offset: int, count: Callable[[str], int], suffix_share: float
) -> tuple[str, str]:
    built = build_prompt(
        get_template("qwen2.5-coder"),
        PromptParts(text[:offset], text[offset:]),
        count,
        BUDGET,
        suffix_share,
        snap_lines=8,
    )
    return built.prefix_used, built.suffix_used


def token_replay(tokenize: Callable[[str], list[int]], keystrokes: int) -> dict[str, float]:
    original = FILES[0].read_text()
    start = original.index("    def _split(self, text):")
    # The user writes `keystrokes` characters from `start`; what follows them exists already.
    rest = original[start + keystrokes :]
    count = lambda s: len(tokenize(s))  # noqa: E731
    template = get_template("qwen2.5-coder")
    layouts: dict[str, Callable[[int, int], str]] = {}

    def doc(o: int) -> str:
        return original[:o] + rest

    def psm(share: float) -> Callable[[int, int], str]:
        return lambda o, _a: template.render(*window(doc(o), o, count, share))

    for share in (0.0, 0.1, 0.2, 0.4):
        layouts[f"psm suffix {int(share * 100)}%"] = psm(share)
    layouts["spm suffix 20%"] = lambda o, _a: spm(*window(doc(o), o, count, 0.2))
    anchor_cache: dict[str, tuple[int, str]] = {}

    def anchored(o: int, _a: int) -> str:
        # The server keeps the prompt of the anchor and appends what was typed since.
        if "a" not in anchor_cache or original[anchor_cache["a"][0] : o].count("\n") > 3:
            anchor_cache["a"] = (o, template.render(*window(doc(o), o, count, 0.2)))
        at, prompt = anchor_cache["a"]
        return prompt + original[at:o]

    layouts["psm 20% + anchor (enclave)"] = anchored
    result: dict[str, float] = {}
    for name, layout in layouts.items():
        anchor_cache.clear()
        previous: list[int] = []
        evaluated = []
        for i in range(keystrokes):
            tokens = tokenize(layout(start + i, i))
            evaluated.append(len(tokens) - common_prefix(previous, tokens))
            previous = tokens
        result[name] = statistics.mean(evaluated[1:])
    return result


def tasks(n: int) -> list[tuple[Path, str, int, str]]:
    """Lines inside function bodies, emptied but for their indentation."""
    out: list[tuple[Path, str, int, str]] = []
    for path in FILES:
        lines = path.read_text().split("\n")
        picks = [
            i
            for i, line in enumerate(lines)
            if line.startswith("        ")
            and len(line.strip()) > 12
            and not line.strip().startswith(("#", '"', "'"))
            and i > 40
        ]
        step = max(1, len(picks) // (n // len(FILES) + 1))
        for i in picks[::step][: n // len(FILES)]:
            line = lines[i]
            indent = line[: len(line) - len(line.lstrip())]
            before = "\n".join(lines[:i]) + "\n" + indent
            after = "\n" + "\n".join(lines[i + 1 :])
            out.append((path, before + "\0" + after, len(before), line.strip()))
    return out


def quality(size: str, n: int) -> dict[str, dict[str, float]]:
    from lsp_server.model.worker import LlamaEngine

    engine = LlamaEngine(str(model_path(MODELS[size])), 4096, 0)
    count = engine.count_tokens
    template = get_template("qwen2.5-coder")
    scores: dict[str, list[tuple[float, float]]] = {"psm": [], "spm": []}
    for _path, marked, _off, truth in tasks(n):
        text = marked.replace("\0", "")
        offset = marked.index("\0")
        prefix, suffix = window(text, offset, count, 0.2)
        for name, prompt in (
            ("psm", template.render(prefix, suffix)),
            ("spm", spm(prefix, suffix)),
        ):
            engine.llm.n_tokens = 0  # same cold start for both orders
            got = engine.generate(prompt, 48, ["\n"], lambda _prefill: None).text.strip()
            em = float(got == truth)
            sim = difflib.SequenceMatcher(None, got, truth).ratio()
            scores[name].append((em, sim))
    return {
        name: {
            "exact_match": statistics.mean(e for e, _ in vals),
            "edit_similarity": statistics.mean(s for _, s in vals),
            "tasks": len(vals),
        }
        for name, vals in scores.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1.5b", choices=sorted(MODELS))
    parser.add_argument("--keystrokes", type=int, default=120)
    parser.add_argument("--tasks", type=int, default=16)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()

    from llama_cpp import Llama

    vocab = Llama(str(model_path(MODELS[args.size])), vocab_only=True, verbose=False)

    def tokenize(s: str) -> list[int]:
        return list(vocab.tokenize(s.encode(), add_bos=False, special=True))

    started = time.monotonic()
    report: dict[str, object] = {
        "model": args.size,
        "budget_tokens": BUDGET,
        "tokens_evaluated_per_keystroke": token_replay(tokenize, args.keystrokes),
    }
    if not args.skip_quality:
        report["quality"] = quality(args.size, args.tasks)
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
