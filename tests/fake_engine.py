"""The scripted engine the model worker runs in Enclave's own tests instead of a model.

The worker loads this file, by its path and no other, when ENCLAVE_FAKE_MODEL holds a script
(`lsp_server/model/worker.py`, the test hook); tests write the script with `tests.helpers.fake_env`.
It writes a fixed answer one character per "token", with a delay, and honours cancellation,
stop strings and max_tokens as the real engine does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lsp_server.model.protocol import (
    GenerationResult,
    GenerationStats,
    ModelInfo,
    TokenScore,
    first_stop,
)
from lsp_server.prompts.fim import FimTemplate, detect_template

# In the file being completed (after the last FIM prefix marker): abort() as a native assert
# in llama.cpp would, to test crash recovery.
CRASH_MARKER = "ENCLAVE_CRASH"


@dataclass(frozen=True)
class FakeScript:
    text: str = "return 42\n"  # the answer to every job
    token_s: float = 0.01  # seconds per character written
    load_s: float = 0.0  # loading takes this long
    fail_load: str = ""  # loading fails with this message
    # What an invoked request's other answers are (job.alternatives), written at once.
    alternatives: tuple[str, ...] = ()
    # What a ScoreJob finds unlikely: "actual -> expected" pairs; every token equal to
    # `actual` scores -12 with `expected` as the likely token, every other token scores 0.
    doubts: tuple[str, ...] = ()
    # "ending -> answer" pairs: a prompt that ends with `ending` gets `answer` instead of
    # `text` (an answer the server begins itself, as "Add docstring" does).
    endings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type == "tuple[str, ...]":
                strings = isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)
                if not strings:
                    raise TypeError(f"fake engine script: {f.name} must be a list of strings")
                object.__setattr__(self, f.name, tuple(value))  # from JSON: a list
                continue
            want = float if f.type == "float" else str
            if not isinstance(value, want) and not (want is float and type(value) is int):
                raise TypeError(f"fake engine script: {f.name} must be a {want.__name__}")

    @classmethod
    def from_json(cls, raw: str) -> FakeScript:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("fake engine script: expected a JSON object")
        return cls(**data)  # an unknown key is a TypeError: a typo must not pass unseen


class FakeEngine:
    context_length = 4096

    def __init__(self, script: FakeScript) -> None:
        time.sleep(script.load_s)
        if script.fail_load:
            raise RuntimeError(script.fail_load)
        self.answer = script.text
        self.endings = [tuple(e.split(" -> ", 1)) for e in script.endings]
        self.others = script.alternatives
        self.doubts = dict(d.split(" -> ", 1) for d in script.doubts)
        self.delay = script.token_s
        self.template: FimTemplate = detect_template("qwen2", lambda t: t.startswith("<|fim_"))

    @classmethod
    def from_script(cls, raw: str) -> FakeEngine:
        return cls(FakeScript.from_json(raw))

    def info(self) -> ModelInfo:
        return ModelInfo("fake", "fake", self.template.name, self.context_length, 0.0)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: Callable[[bool], str | None],
        json_schema: dict[str, Any] | None = None,
        reuse_cache: bool = True,
        slot: str = "",
        ends: Callable[[str], int | None] | None = None,
        alternatives: int = 0,
        lookup: bool = False,
    ) -> GenerationResult:
        if CRASH_MARKER in prompt.rsplit("<|fim_prefix|>", 1)[-1]:
            os.abort()
        text = ""
        written = 0  # tokens generated, whatever is kept of them
        reason = "length"
        answer = next((a for end, a in self.endings if prompt.endswith(end)), self.answer)
        for ch in answer[:max_tokens]:
            check = should_stop(False)
            if check:
                reason = check
                break
            time.sleep(self.delay)
            text += ch
            written += 1
            hit = first_stop(text, stop)
            if hit is not None:
                text, reason = text[:hit], "stop"
                break
            cut = ends(text) if ends is not None else None
            if cut is not None:
                text, reason = text[:cut], "block_end"
                break
        else:
            reason = "eos"
        others = [self._cut(o[:max_tokens], stop, ends) for o in self.others[:alternatives]]
        stats = GenerationStats(
            prompt_tokens=self.count_tokens(prompt),
            generated_tokens=written,
            stop_reason=reason,
            alternative_tokens=sum(len(o) for o in others),
        )
        return GenerationResult(text, stats, alternatives=tuple(others))

    def score(
        self,
        context: str,
        text: str,
        alternatives: int,
        should_stop: Callable[[bool], str | None],
    ) -> GenerationResult:
        """Words, blanks and punctuation runs as tokens, with their UTF-8 byte spans."""
        scores: list[TokenScore] = []
        at = 0
        for match in re.finditer(r"\w+|\s+|[^\w\s]+", text):
            if should_stop(False):
                return GenerationResult("", GenerationStats(stop_reason="cancelled"))
            piece = match.group().encode()
            expected = self.doubts.get(match.group().strip())
            likely = ((expected, -0.1),) if expected is not None else ((match.group(), 0.0),)
            logprob = -12.0 if expected is not None else 0.0
            scores.append(TokenScore(at, at + len(piece), logprob, likely[: alternatives + 1]))
            at += len(piece)
        stats = GenerationStats(prompt_tokens=self.count_tokens(context + text), stop_reason="stop")
        return GenerationResult("", stats, scores=tuple(scores))

    @staticmethod
    def _cut(text: str, stop: Sequence[str], ends: Callable[[str], int | None] | None) -> str:
        hit = first_stop(text, stop)
        text = text if hit is None else text[:hit]
        for n in range(1, len(text) + 1):  # as generated: the first end found, token by token
            cut = ends(text[:n]) if ends is not None else None
            if cut is not None:
                return text[:cut]
        return text
