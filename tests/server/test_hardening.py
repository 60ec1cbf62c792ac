"""Bad input over raw JSON-RPC (no client library to smooth it over): every request gets an
answer, the process survives, documents are never silently corrupted."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from typing import Any

import pytest

from tests.helpers import FAKE_MODEL, SERVER_COMMAND, fake_env


class RawClient:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            SERVER_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=fake_env(text="a + b"),
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = out.read(1)
                if not byte:
                    return
                header += byte
            length = int(header.split(b":")[1].split(b"\r\n")[0])
            self.messages.put(json.loads(out.read(length)))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, payload: dict[str, Any], header: str = "Content-Length") -> None:
        body = json.dumps(payload).encode()
        self.raw(f"{header}: {len(body)}\r\n\r\n".encode() + body)

    def request(self, msg_id: int | str, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def answer(self, msg_id: int | str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            if msg.get("id") == msg_id and "method" not in msg:
                return msg
            if msg.get("method") == "window/workDoneProgress/create":
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
        raise AssertionError(f"no answer to {msg_id!r}")

    def initialize(self) -> None:
        self.request(
            1,
            "initialize",
            {"capabilities": {}, "initializationOptions": {"model": {"path": FAKE_MODEL}}},
        )
        assert "result" in self.answer(1)
        self.notify("initialized", {})

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def raw() -> Any:
    client = RawClient()
    yield client
    client.close()


URI = "file:///tmp/enclave-hard/a.py"


def open_doc(raw: RawClient, text: str, version: int = 1) -> None:
    raw.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": URI, "languageId": "python", "version": version, "text": text}},
    )


def inline(raw: RawClient, msg_id: int, line: int, character: int) -> dict[str, Any]:
    raw.request(
        msg_id,
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": URI},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        },
    )
    return raw.answer(msg_id)


def status(raw: RawClient, msg_id: int) -> dict[str, Any]:
    raw.request(msg_id, "enclave/getStatus", {})
    return raw.answer(msg_id)["result"]  # type: ignore[no-any-return]


def test_request_before_initialize_is_refused(raw: RawClient) -> None:
    raw.request(
        7,
        "textDocument/hover",
        {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}},
    )
    assert raw.answer(7)["error"]["code"] == -32002


def test_truncated_json_gets_parse_error_with_its_id(raw: RawClient) -> None:
    raw.initialize()
    body = b'{"jsonrpc": "2.0", "id": 42, "method": "textDocument/hover", "params": {'
    raw.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert raw.answer(42)["error"]["code"] == -32700
    # The stream is still in step: the next request is answered.
    assert status(raw, 43)["state"] in ("loading", "ready")


def test_wrongly_typed_params_get_invalid_params(raw: RawClient) -> None:
    raw.initialize()
    raw.request(
        5,
        "textDocument/inlineCompletion",
        {"textDocument": {"uri": URI}, "position": "oops", "context": {"triggerKind": 1}},
    )
    assert raw.answer(5)["error"]["code"] == -32602


def test_unknown_method_and_lowercase_header(raw: RawClient) -> None:
    raw.initialize()
    raw.send(
        {"jsonrpc": "2.0", "id": 9, "method": "foo/bar", "params": {}}, header="content-length"
    )
    assert raw.answer(9)["error"]["code"] == -32601


def test_non_utf8_body_gets_parse_error(raw: RawClient) -> None:
    raw.initialize()
    body = b'{"jsonrpc": "2.0", "id": 11, "method": "x", "params": "\xff\xfe"}'
    raw.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert raw.answer(11)["error"]["code"] == -32700


def test_backwards_range_is_refused_and_document_marked(raw: RawClient) -> None:
    raw.initialize()
    open_doc(raw, "x = 1\ny = 2\n")
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 1, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "text": "BAD",
                }
            ],
        },
    )
    answer = inline(raw, 20, 1, 5)
    assert answer["result"]["items"] == []
    assert "out of sync" in status(raw, 21)["lastEmptyReason"]
    # A full sync repairs the document.
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": URI, "version": 3},
            "contentChanges": [{"text": "def f(a, b):\n    return \n"}],
        },
    )
    deadline = time.monotonic() + 10
    while status(raw, 22)["state"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert inline(raw, 23, 1, 11)["result"]["items"][0]["insertText"] == "a + b"


def test_change_to_unopened_document_is_quiet(raw: RawClient) -> None:
    raw.initialize()
    raw.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": "file:///secret/never-opened.py", "version": 2},
            "contentChanges": [{"text": "x"}],
        },
    )
    assert status(raw, 30)["state"] in ("loading", "ready")
    time.sleep(0.2)
    shown = []
    while not raw.messages.empty():
        msg = raw.messages.get()
        if msg.get("method") == "window/showMessage":
            shown.append(msg["params"]["message"])
    assert not any("never-opened" in m for m in shown)


def test_lone_surrogate_and_huge_document(raw: RawClient) -> None:
    raw.initialize()
    big = "x = 1\n" * (10 * 1024 * 1024 // 6)  # 10 MB
    text = big + 'name = "\ud800"\ndef f(a, b):\n    return \n'
    open_doc(raw, text)
    lines = text.count("\n")
    deadline = time.monotonic() + 10
    while status(raw, 40)["state"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    started = time.monotonic()
    answer = inline(raw, 41, lines - 1, 11)
    assert answer["result"]["items"][0]["insertText"] == "a + b"
    assert time.monotonic() - started < 10


def test_absurd_content_length_ends_the_connection_with_a_log(raw: RawClient) -> None:
    raw.initialize()
    raw.raw(b"Content-Length: 10737418240\r\n\r\n{}")
    assert raw.proc.wait(timeout=10) is not None
    time.sleep(0.2)
    assert any(b"Content-Length" in line for line in raw.stderr)


def test_bad_focus_notifications_are_logged_and_harmless(raw: RawClient) -> None:
    raw.initialize()
    text = "def f(a, b):\n    return \n"
    open_doc(raw, text)
    raw.notify("enclave/didFocus", {"textDocument": {"uri": URI}})  # no position
    raw.notify("enclave/didFocus", [1, 2])
    raw.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": URI}, "position": {"line": 99, "character": 0}},
    )  # past the end: the document's end (LSP Position), not an error
    raw.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": URI}, "position": {"line": 0, "character": -2}},
    )
    raw.notify(
        "enclave/didFocus",
        {
            "textDocument": {"uri": "file:///never/opened.py"},
            "position": {"line": 0, "character": 0},
        },
    )
    deadline = time.monotonic() + 10
    while status(raw, 50)["state"] != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    # A good one after the bad ones still works, and so does the document.
    raw.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 11}},
    )
    assert inline(raw, 51, 1, 11)["result"]["items"][0]["insertText"] == "a + b"
    time.sleep(0.2)
    log = b"".join(raw.stderr).decode()
    assert "enclave/didFocus needs" in log
    assert "position.character must be an integer" in log
