"""Saved model states of the documents the worker moved away from.

The model keeps one evaluated prompt (its KV cache). Moving to another file replaces it, and
coming back would evaluate that file's whole prompt again (seconds with the default model).
Saving the state on the way out costs a memory copy (about 28 KB per token with the 1.5B model)
and restoring it on the way back a few milliseconds. The store is bounded in bytes and forgets
the least recently used document first. It only holds data; the engine does the copying.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# A prompt shorter than this is cheap to evaluate again: not worth a copy.
MIN_SAVED_TOKENS = 64


@dataclass(frozen=True)
class SavedState:
    tokens: tuple[int, ...]
    data: Any  # the engine's opaque copy (a ctypes buffer or a file's path for llama.cpp)
    size: int  # bytes


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class StateStore:
    """Saved states by document key, least recently used first, at most `cap_bytes` in all."""

    def __init__(self, cap_bytes: int, forget: Callable[[SavedState], None] | None = None) -> None:
        self.cap_bytes = max(0, cap_bytes)
        self._states: OrderedDict[str, SavedState] = OrderedDict()
        self.bytes = 0
        # Called for each state the store lets go of unused (pushed out, replaced, refused).
        self._forget = forget or (lambda _state: None)

    def __len__(self) -> int:
        return len(self._states)

    def put(self, key: str, state: SavedState) -> None:
        self.drop(key)
        if state.size > self.cap_bytes:
            self._forget(state)
            return
        while self._states and self.bytes + state.size > self.cap_bytes:
            _, old = self._states.popitem(last=False)
            self.bytes -= old.size
            self._forget(old)
        self._states[key] = state
        self.bytes += state.size

    def take(self, key: str) -> SavedState | None:
        """The state saved for `key`, removed from the store (it becomes the model's again)."""
        state = self._states.pop(key, None)
        if state is not None:
            self.bytes -= state.size
        return state

    def drop(self, key: str) -> None:
        state = self.take(key)
        if state is not None:
            self._forget(state)
