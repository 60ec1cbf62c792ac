"""Local statistics (lsp_server/stats.py): the figures, acceptances, the file (0600, atomic, at
most every FLUSH_SECONDS, counts only) and what happens when the file is bad."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.context import languages
from lsp_server.errors import UnknownSuggestion
from lsp_server.stats import (
    FLUSH_SECONDS,
    ISSUED_KEEP,
    LANGUAGES,
    LATENCY_KEEP,
    REASON_KINDS,
    LanguageStats,
    Stats,
    percentile,
    read_file,
    reason_kind,
)

URI = "file:///home/me/project/secret_plans.py"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path) -> tuple[Stats, Clock]:
    clock = Clock()
    return Stats(tmp_path / "state" / "stats.json", clock), clock


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200), st.floats(0.01, 1.0))
def test_percentile_is_nearest_rank(values: list[int], q: float) -> None:
    p = percentile(values, q)
    assert p in values
    ordered = sorted(values)
    # At least q of the values are <= p, and fewer than q are < p.
    assert sum(v <= p for v in ordered) >= math.ceil(q * len(ordered))
    assert sum(v < p for v in ordered) < math.ceil(q * len(ordered))


def test_percentiles_of_known_values() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50 and percentile(values, 0.9) == 90
    assert percentile([], 0.5) is None


def test_rates_and_cache_share(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    a = stats.answered("python", URI, "abcd", "model", 0.100)
    stats.answered("python", URI, "ef", "cache", 0.002)
    stats.answered("python", URI, "gh", "prefetch", 0.003)
    stats.answered("python", URI, "ij", "model", 0.300)
    stats.empty("python", "no completion here (inside identifier)")
    stats.accepted(a, URI, None)
    s = stats.report()["session"]["python"]
    assert (s["shown"], s["accepted"], s["charsSuggested"], s["charsAccepted"]) == (4, 1, 10, 4)
    assert s["acceptanceRate"] == 0.25
    assert (s["fromModel"], s["fromCache"], s["fromPrefetch"]) == (2, 1, 1)
    assert s["cacheShare"] == 0.5
    assert (s["p50Ms"], s["p90Ms"]) == (3, 300)
    assert s["empty"] == {"position": 1}
    assert stats.report()["allTime"]["python"] == s  # nothing in the file before


def test_nothing_shown_has_no_rates(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    stats.empty("go", "the model suggested nothing")
    s = stats.report()["session"]["go"]
    assert s["acceptanceRate"] is None and s["cacheShare"] is None and s["p50Ms"] is None


def test_partial_acceptance_is_a_running_total(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    ident = stats.answered("rust", URI, "let x = 1;", "model", 0.01)
    assert stats.accepted(ident, URI, 3) == 3
    assert stats.accepted(ident, URI, 2) == 3  # less than before: nothing new
    assert stats.accepted(ident, URI, 7) == 7
    assert stats.accepted(ident, URI, 10**9) == 10  # never more than was suggested
    assert stats.accepted(ident, URI, None) == 10
    s = stats.report()["session"]["rust"]
    assert s["accepted"] == 1 and s["charsAccepted"] == 10


def test_unknown_wrong_uri_and_expired_ids_are_refused(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    first = stats.answered("python", URI, "x", "model", 0.01)
    with pytest.raises(UnknownSuggestion):
        stats.accepted("not-an-id", URI, None)
    with pytest.raises(UnknownSuggestion):
        stats.accepted(first, "file:///elsewhere.py", None)  # an id names its document too
    for _ in range(ISSUED_KEEP):
        stats.answered("python", URI, "y", "model", 0.01)
    with pytest.raises(UnknownSuggestion):
        stats.accepted(first, URI, None)  # the oldest is forgotten
    assert stats.report()["session"]["python"]["accepted"] == 0


def test_languages_match_the_grammars() -> None:
    assert set(languages._GRAMMARS) == LANGUAGES


@given(st.text(max_size=80))
def test_every_reason_falls_in_the_closed_set(reason: str) -> None:
    assert reason_kind(reason) in REASON_KINDS


def test_latencies_are_bounded(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    for i in range(LATENCY_KEEP + 50):
        stats.answered("c", URI, "x", "model", i / 1000)
    assert len(stats.session["c"].latenciesMs) == LATENCY_KEEP
    assert stats.session["c"].latenciesMs[-1] == LATENCY_KEEP + 49


# -- the file ---------------------------------------------------------------------------------


def test_written_at_most_every_flush_seconds_then_at_shutdown(tmp_path: Path) -> None:
    stats, clock = make(tmp_path)
    stats.answered("python", URI, "abc", "model", 0.01)
    assert not stats.path.exists()
    clock.now += FLUSH_SECONDS
    stats.answered("python", URI, "abc", "model", 0.01)
    assert read_file(stats.path)["python"].shown == 2
    stats.answered("python", URI, "abc", "model", 0.01)
    assert read_file(stats.path)["python"].shown == 2  # too soon for another write
    stats.flush(force=True)  # shutdown
    assert read_file(stats.path)["python"].shown == 3
    mode = stat.S_IMODE(os.stat(stats.path).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(stats.path.parent).st_mode) == 0o700
    assert [p.name for p in stats.path.parent.iterdir()] == ["stats.json"]  # no temporary left


def test_all_time_adds_the_file_and_two_servers_lose_nothing(tmp_path: Path) -> None:
    one, _ = make(tmp_path)
    two, _ = make(tmp_path)
    one.answered("python", URI, "abc", "model", 0.01)
    two.answered("python", URI, "de", "cache", 0.01)
    two.answered("go", URI, "de", "cache", 0.01)
    one.flush(force=True)
    two.flush(force=True)
    table = read_file(one.path)
    assert table["python"].shown == 2 and table["python"].charsSuggested == 5
    assert table["go"].shown == 1
    three, _ = make(tmp_path)
    three.answered("python", URI, "f", "model", 0.01)
    assert three.report()["allTime"]["python"]["shown"] == 3
    assert three.report()["session"]["python"]["shown"] == 1


def test_off_writes_nothing_and_issues_no_id(tmp_path: Path) -> None:
    stats, _ = make(tmp_path)
    stats.enabled = False
    assert stats.answered("python", URI, "abc", "model", 0.01) == ""
    stats.empty("python", "the model suggested nothing")
    stats.flush(force=True)
    assert not stats.path.parent.exists()
    assert stats.report()["session"] == {}


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()


ALLOWED = {"version", "languages", *LANGUAGES, "other", *REASON_KINDS} | {
    f for f in LanguageStats.__dataclass_fields__
}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=30),  # a language id as a client names it
            st.text(min_size=1, max_size=40),  # the document's uri
            st.text(min_size=1, max_size=60),  # the suggested code
            st.text(max_size=60),  # an empty answer's reason
            st.sampled_from(["model", "cache", "prefetch"]),
            st.integers(1, 80) | st.none(),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_the_file_holds_counts_only(tmp_path: Path, events: list[Any]) -> None:
    path = tmp_path / "stats.json"
    path.unlink(missing_ok=True)
    stats = Stats(path, Clock())
    for language, uri, text, reason, source, chars in events:
        ident = stats.answered(language, uri, text, source, 0.05)
        stats.empty(language, reason)
        stats.accepted(ident, uri, chars)
    stats.flush(force=True)
    raw = path.read_text()
    data = json.loads(raw)
    # Every string in the file (keys and values) is a known name: no code, uri or reason.
    assert _strings(data) <= ALLOWED
    for _, uri, text, reason, _, _ in events:
        for secret in (uri, text, reason):
            if len(secret) >= 6 and not any(secret in name for name in ALLOWED):
                assert secret not in raw


# -- a bad file -------------------------------------------------------------------------------


BAD_FILES: list[bytes] = [
    b"",
    b"\xff\xfe not utf-8",
    b"{not json",
    b"[]",
    b'{"version": 2, "languages": {}}',
    b'{"version": 1, "languages": {"python": {"shown": -1}}}',
    b'{"version": 1, "languages": {"python": {"shown": true}}}',
    b'{"version": 1, "languages": {"/home/me/x.py": {"shown": 1}}}',
    b'{"version": 1, "languages": {"python": {"empty": {"def secret(): pass": 1}}}}',
    b'{"version": 1, "languages": {"python": {"latenciesMs": "fast"}}}',
    b'{"version": 1, "languages": {"python": {"code": "print(1)"}}}',
    b"[" * 100_000,
    b" " * (2 << 20),
]


@pytest.mark.parametrize("content", BAD_FILES, ids=range(len(BAD_FILES)))
def test_a_corrupt_file_starts_empty_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "stats.json"
    path.write_bytes(content)
    stats = Stats(path, Clock())
    assert stats.report()["allTime"] == {}
    assert "not read" in stats.warning and "not read" in caplog.text
    stats.answered("python", URI, "abc", "model", 0.01)
    stats.flush(force=True)
    assert read_file(path)["python"].shown == 1  # replaced by a good one


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
    )
)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_json_reads_or_starts_empty(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "any.json"
    path.write_text(json.dumps({"version": 1, "languages": {"python": value}}))
    stats = Stats(path, Clock())  # never raises
    assert stats.warning or stats.report()["allTime"]["python"]["shown"] >= 0


def test_a_symlink_or_a_folder_starts_empty(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text('{"version": 1, "languages": {"python": {"shown": 5}}}')
    link = tmp_path / "link.json"
    link.symlink_to(target)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for path in (link, folder):
        stats = Stats(path, Clock())
        assert stats.report()["allTime"] == {} and stats.warning
    stats = Stats(link, Clock())
    stats.answered("python", URI, "abc", "model", 0.01)
    stats.flush(force=True)  # the link is replaced by a file: the target is untouched
    assert not link.is_symlink() and target.read_text().count('"shown": 5') == 1


async def test_in_the_server_a_due_write_runs_off_the_completion_and_loses_nothing(
    tmp_path: Path,
) -> None:
    """With a background runner (the server's), the completion that makes a write due only
    schedules it (one at a time); what it counts is written when the write runs."""
    clock = Clock()
    scheduled: list[Any] = []
    stats = Stats(tmp_path / "stats.json", clock, background=scheduled.append)
    stats.answered("python", URI, "a + b", "model", 0.1)
    clock.now += FLUSH_SECONDS
    stats.answered("python", URI, "a + b", "model", 0.1)
    stats.answered("python", URI, "c", "model", 0.1)
    assert len(scheduled) == 1 and not stats.path.exists()  # nothing written in the request
    await scheduled.pop()
    assert read_file(stats.path)["python"].shown == 3
    stats.answered("python", URI, "d", "model", 0.1)  # too soon for another write
    assert not scheduled and stats.all_time()["python"].shown == 4
    await stats.flush_async(force=True)
    assert read_file(stats.path)["python"].shown == 4
