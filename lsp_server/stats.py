"""Local statistics of inline completion, per language, for this machine only (never sent
anywhere): suggestions shown and accepted, characters, latency percentiles, the share answered
from the caches, empty answers by reason.

Only counts are kept: a language is a grammar name (or "other"), an empty answer's reason one
of `REASON_KINDS`; no code, file name or URI ever reaches the file. The file (`stats.json` in
the user's state dir) is created 0600 through `log.open_private`, written atomically (a
temporary file renamed over it), at most every `FLUSH_SECONDS` and at shutdown; each write
re-reads it and adds what is new, so two servers on one machine do not lose each other's
figures. An unreadable or corrupt file is set aside with a warning: the figures start empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import stat
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

from lsp_server import log
from lsp_server.errors import UnknownSuggestion

logger = logging.getLogger(__name__)

STATE_ENV = "ENCLAVE_STATE_DIR"
FILE_NAME = "stats.json"
FORMAT_VERSION = 1
FLUSH_SECONDS = 30.0
ISSUED_KEEP = 256  # suggestion ids an accept may name (the most recent)
LATENCY_KEEP = 512  # request times kept per language, for the percentiles
MAX_FILE_BYTES = 1 << 20
MAX_COUNT = 2**53  # beyond this a count in the file is corrupt

# The grammar names of context/languages.py (a unit test keeps them in step); any other
# language counts as "other", so nothing a client names reaches the file.
LANGUAGES = frozenset(
    {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "lua", "bash"}
)
OTHER = "other"

# Why a completion was empty, as a closed set: (prefix of the reason, kind). The reason itself
# is never stored: some carry paths (a model that failed to load).
_REASONS: tuple[tuple[str, str], ...] = (
    ("no completion here", "position"),
    ("completions are turned off", "off"),
    ("the document is not open", "closed"),
    ("Enclave is off for this file", "ignored"),
    ("document out of sync", "out-of-sync"),
    ("the document changed meanwhile", "changed"),
    ("the model was too slow", "deadline"),
    ("the model did not answer before the deadline", "deadline"),
    ("the suggestion was dropped (it repeated", "repeat"),
    ("the suggestion was dropped (it broke the syntax", "syntax"),
    ("the suggestion was dropped (it held a redacted secret", "secret"),
    ("the model suggested nothing", "nothing"),
    ("superseded by a newer request", "superseded"),
    ("cancelled", "superseded"),
    ("the model is busy", "busy"),
    ("the model worker", "model-unavailable"),
    ("backend unreachable", "model-unavailable"),
    ("model ", "model-unavailable"),
)
REASON_KINDS = frozenset({kind for _, kind in _REASONS} | {OTHER})


def reason_kind(reason: str) -> str:
    for prefix, kind in _REASONS:
        if reason.startswith(prefix):
            return kind
    return OTHER


def language_key(name: str) -> str:
    return name if name in LANGUAGES else OTHER


def percentile(values: list[int], q: float) -> int | None:
    """Nearest-rank percentile (q in 0..1) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class LanguageStats:
    shown: int = 0  # camelCase: the names in the file and in enclave/getStatus
    accepted: int = 0
    charsSuggested: int = 0
    charsAccepted: int = 0
    fromModel: int = 0
    fromCache: int = 0  # typed through a suggestion already shown
    fromPrefetch: int = 0  # the suggestion computed ahead, as if the last one was accepted
    empty: dict[str, int] = field(default_factory=dict)
    latenciesMs: list[int] = field(default_factory=list)  # answered requests, newest last

    def add(self, other: LanguageStats) -> LanguageStats:
        total = LanguageStats(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in _COUNTS}
        )
        total.empty = {k: self.empty.get(k, 0) + other.empty.get(k, 0) for k in _keys(self, other)}
        total.latenciesMs = (self.latenciesMs + other.latenciesMs)[-LATENCY_KEEP:]
        return total

    def summary(self) -> dict[str, Any]:
        answered = self.fromModel + self.fromCache + self.fromPrefetch
        return {
            **{f.name: getattr(self, f.name) for f in _COUNTS},
            "acceptanceRate": round(self.accepted / self.shown, 4) if self.shown else None,
            "cacheShare": (
                round((self.fromCache + self.fromPrefetch) / answered, 4) if answered else None
            ),
            "p50Ms": percentile(self.latenciesMs, 0.5),
            "p90Ms": percentile(self.latenciesMs, 0.9),
            "empty": dict(sorted(self.empty.items())),
        }


_COUNTS = tuple(f for f in fields(LanguageStats) if f.type == "int")


def _keys(a: LanguageStats, b: LanguageStats) -> list[str]:
    return sorted(set(a.empty) | set(b.empty))


Table = dict[str, LanguageStats]


def merge(a: Mapping[str, LanguageStats], b: Mapping[str, LanguageStats]) -> Table:
    return {k: a.get(k, LanguageStats()).add(b.get(k, LanguageStats())) for k in {*a, *b}}


class CorruptStats(ValueError):
    pass


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_COUNT:
        raise CorruptStats(f"not a count: {value!r:.40}")
    return value


def decode(raw: Any) -> Table:
    """The table in a parsed file; raises CorruptStats for anything but what `encode` writes."""
    if not isinstance(raw, dict) or raw.get("version") != FORMAT_VERSION:
        raise CorruptStats("not a statistics file of this version")
    languages = raw.get("languages")
    if not isinstance(languages, dict):
        raise CorruptStats("no languages")
    table: Table = {}
    for name, entry in languages.items():
        if language_key(name) != name or not isinstance(entry, dict):
            raise CorruptStats("a language entry is malformed")
        if set(entry) - {f.name for f in fields(LanguageStats)}:
            raise CorruptStats("unknown fields")
        stats = LanguageStats()
        for f in _COUNTS:
            setattr(stats, f.name, _count(entry.get(f.name, 0)))
        empty, latencies = entry.get("empty", {}), entry.get("latenciesMs", [])
        if not isinstance(empty, dict) or set(empty) - REASON_KINDS:
            raise CorruptStats("unknown empty reasons")
        if not isinstance(latencies, list):
            raise CorruptStats("latencies are not a list")
        stats.empty = {k: _count(v) for k, v in empty.items()}
        stats.latenciesMs = [_count(v) for v in latencies][-LATENCY_KEEP:]
        table[name] = stats
    return table


def encode(table: Mapping[str, LanguageStats]) -> str:
    languages = {
        name: {
            **{f.name: getattr(s, f.name) for f in _COUNTS},
            "empty": dict(sorted(s.empty.items())),
            "latenciesMs": s.latenciesMs,
        }
        for name, s in sorted(table.items())
    }
    return json.dumps({"version": FORMAT_VERSION, "languages": languages}, indent=1) + "\n"


def state_dir() -> Path:
    """$ENCLAVE_STATE_DIR, else the user's state dir (beside the cache dir of the models)."""
    root = os.environ.get(STATE_ENV)
    return Path(root).expanduser() if root else Path(platformdirs.user_state_dir("enclave"))


def default_path() -> Path:
    return state_dir() / FILE_NAME


def read_file(path: Path) -> Table:
    """The figures in `path` ({} when there is none); raises CorruptStats or OSError."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise CorruptStats("not a regular file")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CorruptStats("too large")
    try:
        return decode(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CorruptStats(str(exc)) from None


def write_file(path: Path, table: Mapping[str, LanguageStats]) -> None:
    """Write atomically, owner-only: a 0600 temporary file beside it, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    stream, _ = log.open_private(str(tmp))
    try:
        with stream:
            stream.truncate(0)  # left over from a crash
            stream.write(encode(table))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass
class Issued:
    """A suggestion shown (with its alternatives, which share it: one of them is accepted)."""

    uri: str
    language: str
    accepted_chars: int = 0


class Stats:
    """The figures of this session, the file's, and the suggestions an accept may name."""

    def __init__(
        self,
        path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        background: Callable[[Coroutine[Any, Any, None]], None] | None = None,
    ) -> None:
        self.path = path or default_path()
        self.enabled = True
        self.warning = ""
        self.session: Table = {}
        self._unsaved: Table = {}
        self._writing: Table = {}  # taken from _unsaved, being written
        self._saved: Table = self._read()
        # id -> (the suggestion shown, the characters of this item of it)
        self._issued: OrderedDict[str, tuple[Issued, int]] = OrderedDict()
        self._clock = clock
        self._last_write = clock()
        # Given (the server's), a due write runs as this task, its file I/O in a thread: never
        # on the event loop inside a completion. Without it (tests, the CLI) it runs at once.
        self._background = background
        self._write_lock = asyncio.Lock()
        self._scheduled = False  # a background write is on its way: one at a time

    def _read(self) -> Table:
        try:
            return read_file(self.path)
        except (OSError, CorruptStats) as exc:
            self.warning = f"statistics file {self.path} not read ({exc}); starting empty"
            logger.warning("%s", self.warning)
            return {}

    def _entry(self, table: Table, language: str) -> LanguageStats:
        return table.setdefault(language_key(language), LanguageStats())

    def _each(self, language: str) -> list[LanguageStats]:
        return [self._entry(self.session, language), self._entry(self._unsaved, language)]

    def answered(self, language: str, uri: str, text: str, source: str, latency_s: float) -> str:
        """Count a suggestion shown; returns the id an accept names ("" when off)."""
        if not self.enabled:
            return ""
        for s in self._each(language):
            s.shown += 1
            s.charsSuggested += len(text)
            if source == "cache":
                s.fromCache += 1
            elif source == "prefetch":
                s.fromPrefetch += 1
            else:
                s.fromModel += 1
            s.latenciesMs = [*s.latenciesMs[-(LATENCY_KEEP - 1) :], round(latency_s * 1000)]
        ident = self._issue(Issued(uri, language_key(language)), len(text))
        self._save_when_due()
        return ident

    def alternative(self, ident: str, text: str) -> str:
        """An id for another item of the suggestion `ident` ("" when off or unknown): it is
        counted with it, as one suggestion shown and at most one accepted."""
        issued = self._issued.get(ident)
        return "" if issued is None or not self.enabled else self._issue(issued[0], len(text))

    def _issue(self, issued: Issued, chars: int) -> str:
        ident = secrets.token_hex(8)
        self._issued[ident] = (issued, chars)
        while len(self._issued) > ISSUED_KEEP:
            self._issued.popitem(last=False)
        return ident

    def empty(self, language: str, reason: str) -> None:
        if not self.enabled:
            return
        kind = reason_kind(reason)
        for s in self._each(language):
            s.empty[kind] = s.empty.get(kind, 0) + 1
        self._save_when_due()

    def accepted(self, ident: str, uri: str, chars: int | None) -> int:
        """Count the acceptance of suggestion `ident` (all of it, or its first `chars`
        characters: a client reports the total accepted so far, so a repeated call never
        counts twice). Returns the characters now counted. Raises UnknownSuggestion."""
        issued, item_chars = self._issued.get(ident) or (None, 0)
        if issued is None or issued.uri != uri:
            raise UnknownSuggestion(
                "unknown or expired suggestion id (only the last "
                f"{ISSUED_KEEP} suggestions of this session can be accepted)"
            )
        total = item_chars if chars is None else min(chars, item_chars)
        if self.enabled and total > issued.accepted_chars:
            for s in self._each(issued.language):
                if issued.accepted_chars == 0:
                    s.accepted += 1
                s.charsAccepted += total - issued.accepted_chars
            issued.accepted_chars = total
            self._save_when_due()
        return issued.accepted_chars

    def all_time(self) -> Table:
        return merge(merge(self._saved, self._writing), self._unsaved)

    def report(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "file": str(self.path),
            "warning": self.warning,
            "session": summaries(self.session),
            "allTime": summaries(self.all_time()),
        }

    def _due(self, force: bool) -> bool:
        if not self.enabled or not self._unsaved:
            return False
        return force or self._clock() - self._last_write >= FLUSH_SECONDS

    def _save_when_due(self) -> None:
        if self._scheduled or not self._due(False):
            return
        if self._background is None:
            self.flush()
        else:
            self._scheduled = True
            self._background(self._scheduled_flush())

    async def _scheduled_flush(self) -> None:
        try:
            await self.flush_async()
        finally:
            self._scheduled = False

    def _take(self) -> Table:
        """What is new, moved aside for writing: counts added meanwhile go to a fresh table."""
        self._last_write = self._clock()
        self._writing, self._unsaved = self._unsaved, {}
        return self._writing

    def _write(self, pending: Table) -> Table | None:
        """The file with `pending` added (any thread); None, with a warning, if not written."""
        total = merge(self._read(), pending)  # another server may have written since
        try:
            write_file(self.path, total)
        except (OSError, log.LogFileRefused) as exc:
            self.warning = f"statistics file {self.path} not written ({exc})"
            logger.warning("%s", self.warning)
            return None
        return total

    def _settle(self, pending: Table, total: Table | None) -> None:
        self._writing = {}
        if total is None:
            self._unsaved = merge(pending, self._unsaved)  # kept for the next write
        else:
            self._saved = total

    def flush(self, force: bool = False) -> None:
        """Add what is new to the file: at most every FLUSH_SECONDS, or now when forced."""
        if self._due(force):
            pending = self._take()
            self._settle(pending, self._write(pending))

    async def flush_async(self, force: bool = False) -> None:
        """`flush` with the file I/O in a thread; writes never overlap."""
        async with self._write_lock:
            if self._due(force):
                pending = self._take()
                self._settle(pending, await asyncio.to_thread(self._write, pending))


def summaries(table: Mapping[str, LanguageStats]) -> dict[str, Any]:
    return {name: s.summary() for name, s in sorted(table.items())}


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def describe(summary: Mapping[str, Any]) -> list[str]:
    """A language's summary as lines for people (`enclave stats`)."""
    p50, p90 = summary["p50Ms"], summary["p90Ms"]
    empty = ", ".join(f"{k} {n}" for k, n in summary["empty"].items()) or "none"
    return [
        f"suggestions shown {summary['shown']}, accepted {summary['accepted']} "
        f"({_percent(summary['acceptanceRate'])})",
        f"characters suggested {summary['charsSuggested']}, accepted {summary['charsAccepted']}",
        "latency " + ("-" if p50 is None else f"p50 {p50} ms, p90 {p90} ms"),
        f"answered from the caches {_percent(summary['cacheShare'])} "
        f"(typed through {summary['fromCache']}, prefetched {summary['fromPrefetch']}, "
        f"model {summary['fromModel']})",
        f"empty answers: {empty}",
    ]
