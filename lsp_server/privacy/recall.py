"""Secrets seen recently, remembered so that a piece of one is still redacted once an edit
has broken the pattern that found it: text typed inside a token (`SG.4wuH|Bk3...` becomes
`SG.4wuHZq9Bk3...`, which no rule matches), a key being retyped, half a token pasted.

Only in memory, bounded, never logged. Kept per 8-byte piece (a secret's substrings of 8
bytes): any run of 8 bytes or more of a remembered secret is redacted wherever it appears."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from lsp_server.privacy.edges import piece_like, wordy
from lsp_server.privacy.patterns import Pattern, Span

GRAM = 8
# Spans learnt from one text at most (the memory keeps fewer anyway).
MAX_LEARN = 64
# In a text longer than this, remembered secrets are looked for at every STRIDE-th byte: a
# piece of GRAM + STRIDE - 1 bytes or more is still found, and a megabyte costs a quarter.
LARGE_TEXT = 64 * 1024
STRIDE = 4
# The characters of a secret's pieces: a secret span's text is split on anything else
# (quotes, spaces, escaped line breaks), and pieces that look like words (a key block's
# `Version:` header) are not kept.
_PIECE = Pattern(r"[A-Za-z0-9+/=_.~:@!#$%^&*-]{8,}")


def _random_looking(piece: bytes) -> bool:
    """Digits with letters, or both cases: a key, not a word such as a PEM marker's or the
    `https://` of a webhook URL."""
    upper, lower = piece.lower() != piece, piece.upper() != piece
    return (upper or lower) and ((upper and lower) or any(48 <= c <= 57 for c in piece))


def _grams(secret: bytes) -> set[bytes]:
    """The secret's random-looking substrings of GRAM bytes."""
    return {g for i in range(len(secret) - GRAM + 1) if _random_looking(g := secret[i : i + GRAM])}


class Recall:
    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._secrets: OrderedDict[bytes, None] = OrderedDict()
        self._grams: frozenset[bytes] = frozenset()
        self._lock = threading.Lock()
        self.generation = 0  # bumped when something new is remembered

    def learn(self, data: bytes, spans: Iterable[Span]) -> None:
        """Remember the secrets at `spans` of `data` (their random-looking pieces)."""
        pieces = [
            piece
            for s, e in list(spans)[:MAX_LEARN]
            for m in _PIECE.finditer(data[s:e])
            if piece_like(piece := data[s:e][m[0][0] : m[0][1]]) and not wordy(piece)
        ]
        with self._lock:
            new = {p for p in pieces if p not in self._secrets}
            for p in pieces:
                self._secrets[p] = None
                self._secrets.move_to_end(p)
            if not new:
                return
            if len(self._secrets) > self._size:
                while len(self._secrets) > self._size:
                    self._secrets.popitem(last=False)
                self._grams = frozenset(g for s in self._secrets for g in _grams(s))
            else:
                self._grams = self._grams.union(*map(_grams, new))
            self.generation += 1

    def spans(self, data: bytes) -> list[Span]:
        """Where runs of GRAM bytes or more of remembered secrets appear in `data`."""
        grams = self._grams
        if not grams:
            return []
        step = STRIDE if len(data) > LARGE_TEXT else 1
        out: list[Span] = []
        for m in _PIECE.finditer(data):
            start, end = m[0]
            i = start + (-start % step)
            while i + GRAM <= end:
                if data[i : i + GRAM] not in grams:
                    i += step
                    continue
                lo, hi = i, i + GRAM
                while lo > start and data[lo - 1 : lo - 1 + GRAM] in grams:
                    lo -= 1
                while hi < end and data[hi + 1 - GRAM : hi + 1] in grams:
                    hi += 1
                out.append((lo, hi))
                i = hi + (-hi % step)
        return out

    def forget(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._grams = frozenset()
            self.generation += 1
