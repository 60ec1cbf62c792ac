"""The egress guard itself: it must catch what it is there to catch, in any process."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import EGRESS_LOG


def attempt(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)


def test_guard_refuses_and_records_a_public_connection() -> None:
    result = attempt("import socket; socket.create_connection(('203.0.113.7', 80), timeout=1)")
    assert "egress guard" in result.stderr
    assert "203.0.113.7" in EGRESS_LOG.read_text()
    EGRESS_LOG.write_text("")  # seen; the test passes because the guard worked


def test_guard_refuses_a_name_lookup() -> None:
    result = attempt("import socket; socket.getaddrinfo('example.org', 443)")
    assert "egress guard" in result.stderr
    assert "example.org" in EGRESS_LOG.read_text()
    EGRESS_LOG.write_text("")


def test_guard_allows_loopback() -> None:
    result = attempt(
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "c = socket.create_connection(s.getsockname(), timeout=1); print('ok')"
    )
    assert result.stdout.strip() == "ok", result.stderr
    assert EGRESS_LOG.read_text() == ""
