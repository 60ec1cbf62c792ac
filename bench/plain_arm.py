"""The floor every arm of the quality bench must clear: llama.vim's plain prompt on the same
model, through raw llama-cpp-python (no server, no repository context, no post-processing).

llama.vim (and llama.vscode) ask llama.cpp's /infill with `input_prefix` = the lines before the
cursor's line, `prompt` = the cursor's line up to the cursor, and `input_suffix` = the rest of
that line and the lines after; for Qwen2.5-Coder the server lays that out as
`<|fim_prefix|>{input_prefix}<|fim_suffix|>{input_suffix}<|fim_middle|>{prompt}`. Greedy, and
stopped at the first newline (a line completion). The window is the issue's: 64 lines before,
16 after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

LINES_BEFORE = 64
LINES_AFTER = 16
MAX_TOKENS = 48


@dataclass(frozen=True)
class PlainAnswer:
    text: str  # what the model wrote (its first line)
    prompt_tokens: int  # all evaluated: every request is cold
    seconds: float
    generated_tokens: int = 0  # the line break that stopped it included
    shown_tokens: int = 0


def plain_prompt(text: str, line: int, column: int) -> str:
    """llama.vim's FIM prompt at (line, column) of `text` (0-based; column in characters)."""
    lines = text.split("\n")
    before = lines[max(0, line - LINES_BEFORE) : line]
    current = lines[line]
    after = lines[line + 1 : line + 1 + LINES_AFTER]
    input_prefix = "".join(f"{x}\n" for x in before)
    input_suffix = current[column:] + "\n" + "\n".join(after)
    return (
        f"<|fim_prefix|>{input_prefix}<|fim_suffix|>{input_suffix}<|fim_middle|>{current[:column]}"
    )


class PlainArm:
    """One `llama_cpp.Llama` for the whole run; each request starts from an empty cache."""

    def __init__(self, model_path: str, n_ctx: int = 4096, threads: int = 0) -> None:
        import os

        from llama_cpp import Llama

        from lsp_server.model.worker import _disable_extra_buffer_types

        _disable_extra_buffer_types()  # without it llama.cpp segfaults on AMX-reporting VMs
        self.llm: Any = Llama(
            model_path,
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 1,
            verbose=False,
        )

    def complete(self, text: str, line: int, column: int) -> PlainAnswer:
        prompt = plain_prompt(text, line, column)
        tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        self.llm.reset()  # cold, as a new request in a new file would be
        start = time.monotonic()
        out = self.llm.create_completion(
            tokens,
            max_tokens=MAX_TOKENS,
            temperature=0.0,
            top_k=1,
            stop=["\n"],
        )
        seconds = time.monotonic() - start
        first = str(out["choices"][0]["text"]).split("\n")[0]
        generated = int(out["usage"]["completion_tokens"])
        shown = len(self.llm.tokenize(first.encode(), add_bos=False, special=False)) if first else 0
        return PlainAnswer(first, len(tokens), seconds, generated, shown)
