"""A refused log file, through the real server: the user is told in a message, and the log goes
to stderr (the file rules themselves are in tests/unit/test_log.py)."""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

from tests.helpers import FAKE_MODEL
from tests.server.test_hardening import RawClient


def test_the_server_says_so_in_a_message_and_on_stderr(tmp_path: Path) -> None:
    link = tmp_path / "enclave.log"
    link.symlink_to(tmp_path / "target.log")
    raw = RawClient()
    try:
        raw.request(
            1,
            "initialize",
            {
                "capabilities": {},
                "initializationOptions": {
                    "model": {"path": FAKE_MODEL},
                    "log": {"file": str(link)},
                },
            },
        )
        assert "result" in raw.answer(1)
        raw.notify("initialized", {})
        shown = wait_for_message(raw)
        assert "symbolic link" in shown and "stderr" in shown
        raw.request(2, "enclave/getStatus", {})
        raw.answer(2)
        time.sleep(0.2)
        assert "symbolic link" in b"".join(raw.stderr).decode()
        assert not (tmp_path / "target.log").exists()
    finally:
        raw.close()


def wait_for_message(raw: Any) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            msg: dict[str, Any] = raw.messages.get(timeout=0.1)
        except queue.Empty:
            continue
        if msg.get("method") == "window/showMessage":
            return json.dumps(msg["params"])
    raise AssertionError("no window/showMessage")
