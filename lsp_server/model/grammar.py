"""Greedy decoding under a grammar (a review's JSON schema), checked lazily.

llama-cpp-python's sampler chain runs the grammar over every candidate token at every step:
151,936 of them with Qwen2.5, each token's text matched against the grammar's stacks. The
greedy choice only needs the grammar's verdict on the model's likeliest token; only when the
grammar refuses it must the whole vocabulary be filtered (llama.cpp's own common sampler does
the same). The tokens chosen are the chain's, up to ties; `bench/grammar_speed.py` measures
the time per token both ways.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np
import numpy.typing as npt

# llama.cpp's llama_token_data: id, logit, p.
TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


class GrammarDeadEnd(ValueError):
    """The grammar allows no token at all: the answer cannot go on."""


class LazyGrammar:
    """One grammar sampler for one answer: `choose` the likeliest allowed token from a step's
    logits, then `accept` the token taken. `close` frees the native sampler."""

    def __init__(self, native: Any, vocab: Any, grammar: str, root: str) -> None:
        self._native = native
        self._sampler = native.llama_sampler_init_grammar(
            vocab, grammar.encode("utf-8"), root.encode("utf-8")
        )
        if not self._sampler:
            raise ValueError("the grammar did not compile")
        self._one = (native.llama_token_data * 1)()
        self._all: npt.NDArray[Any] | None = None
        self.steps = 0
        self.full_passes = 0  # steps where the likeliest token was refused

    def _apply(self, data: Any, size: int) -> None:
        arr = self._native.llama_token_data_array(data, size, -1, False)
        self._native.llama_sampler_apply(self._sampler, ctypes.byref(arr))

    def choose(self, logits: npt.NDArray[np.float32]) -> int:
        self.steps += 1
        best = int(logits.argmax())
        one = self._one
        one[0].id, one[0].logit, one[0].p = best, float(logits[best]), 0.0
        self._apply(one, 1)
        if math.isfinite(one[0].logit):
            return best
        self.full_passes += 1
        n = len(logits)
        if self._all is None or len(self._all) != n:
            self._all = np.zeros(n, dtype=TOKEN_DATA)
            self._all["id"] = np.arange(n, dtype=np.int32)
        data = self._all
        data["logit"] = logits
        self._apply(data.ctypes.data_as(self._native.llama_token_data_p), n)
        best = int(data["logit"].argmax())
        if not math.isfinite(float(data["logit"][best])):
            raise GrammarDeadEnd("the grammar allows no token here")
        return best

    def accept(self, token: int) -> None:
        self._native.llama_sampler_accept(self._sampler, token)

    def close(self) -> None:
        if self._sampler:
            self._native.llama_sampler_free(self._sampler)
            self._sampler = None
