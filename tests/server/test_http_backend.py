"""Self-hosted backends over HTTP (lsp_server/model/http_backend.py), without a model.

The garbage tests use a tiny http.server stub written here; the host-policy test starts the
real server pointed at a public address. Every test runs under the no-egress guard
(tests/conftest.py): the refused public host and the redirect target are never contacted, or
the test fails. The tests against a real model server are in
tests/model/test_http_backend_model.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.errors import ModelUnavailable, Unsupported
from lsp_server.model.backend import ModelState
from lsp_server.model.http_backend import HttpBackend, HttpSpec
from lsp_server.model.protocol import CompletionJob, ScoreJob
from tests.helpers import (
    SERVER_COMMAND,
    end_of,
    get_status,
    inline_params,
    open_doc,
    real_env,
    wait_for_state,
)

PY = 'def mean(values: list[float]) -> float:\n    """Return the mean of values."""\n    \n'
CURSOR_AFTER = '"""Return the mean of values."""\n    '


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backend_options(url: str, **backend: Any) -> dict[str, Any]:
    return {
        "backend": {"kind": "openai", "url": url, "timeoutMs": 3000, **backend},
        "model": {"contextLength": 2048},
    }


def lsp_config() -> ClientServerConfig:
    return ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env())


async def start_client(client: LanguageClient, options: dict[str, Any]) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
        )
    )


# -- host policy: refused before any connection ------------------------------------------------


@pytest_lsp.fixture(config=lsp_config())
async def refused(lsp_client: LanguageClient):
    await start_client(lsp_client, backend_options("http://203.0.113.5:8080"))
    yield
    await lsp_client.shutdown_session()


async def test_public_host_is_refused_before_connecting(refused: LanguageClient) -> None:
    status = await wait_for_state(refused, {"error"}, 10)
    assert "host policy" in status["message"] and "203.0.113.5" in status["message"]
    assert "backend.allowHosts" in status["message"]
    uri = open_doc(refused, "/tmp/enclave-http/r.py", PY, "python")
    line, col = end_of(PY, CURSOR_AFTER)
    result = await refused.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items
    status = await get_status(refused)
    assert "host policy" in status["lastEmptyReason"]
    # The no-egress fixture fails this test if anything tried to reach 203.0.113.5.


# -- garbage answers from a stub server ---------------------------------------------------------

REDIRECT_TARGET = "http://203.0.113.9:8080/v1/completions"
HUGE = 50 * 1024 * 1024


class Stub(BaseHTTPRequestHandler):
    """The first path segment picks the behaviour: /ok, /badjson, /huge, /hugejson,
    /redirect, /slow, /llama (llama.cpp's native API)."""

    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[tuple[str, str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, obj: Any, status: int = 200) -> None:
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _sse_head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def do_GET(self) -> None:
        mode, _, rest = self.path.lstrip("/").partition("/")
        Stub.requests.append((mode, "GET /" + rest, None))
        if rest == "health":
            self._json({"status": "ok"})
        else:
            self._json({"object": "list", "data": [{"id": "stub-model"}]})

    def do_POST(self) -> None:
        mode, _, rest = self.path.lstrip("/").partition("/")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.requests.append((mode, "POST /" + rest, body))
        try:
            self._answer(mode, rest, body)
        except (BrokenPipeError, ConnectionResetError):
            Stub.requests.append((mode, "client closed", None))

    def _answer(self, mode: str, rest: str, body: Any) -> None:
        if mode == "ok":
            self._sse_head()
            for piece in ("return ", "sum(values)", " / len(values)"):
                chunk = {"choices": [{"text": piece, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b'data: {"choices": [{"text": "", "finish_reason": "stop"}]}\n\n')
            self.wfile.write(b"data: [DONE]\n\n")
        elif mode == "badjson":
            self._sse_head()
            self.wfile.write(b"data: {this is not json\n\n")
        elif mode == "huge":
            self._sse_head()
            chunk = ('data: {"choices": [{"text": "' + "x" * 65000 + '"}]}\n\n').encode()
            for _ in range(HUGE // len(chunk)):
                self.wfile.write(chunk)
        elif mode == "hugejson":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(HUGE))
            self.end_headers()
            for _ in range(HUGE // 65536):
                self.wfile.write(b" " * 65536)
        elif mode == "redirect":
            self.send_response(307)
            self.send_header("Location", REDIRECT_TARGET)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "slow":
            time.sleep(2.0)
            self._json({"choices": [{"text": "late", "finish_reason": "stop"}]})
        elif mode == "llama" and rest == "tokenize":
            self._json({"tokens": list(range(len(body["content"]) // 4))})
        elif mode == "llama" and rest == "infill":
            self._sse_head()
            for piece in ("return ", "sum(values) / len(values)"):
                self.wfile.write(
                    f"data: {json.dumps({'content': piece, 'stop': False})}\n\n".encode()
                )
            done = {"content": "", "stop": True, "stop_type": "eos"}
            self.wfile.write(f"data: {json.dumps(done)}\n\n".encode())
        else:
            self._json({"error": {"message": "unknown stub path"}}, 404)


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def ready_backend(url: str, kind: str = "openai", timeout_ms: int = 3000) -> HttpBackend:
    backend = HttpBackend(lambda s, r: None)
    backend.start(HttpSpec(kind, url, None, (), timeout_ms, "qwen2.5-coder", 2048))
    assert await backend.wait_ready(5), backend.reason
    return backend


JOB = CompletionJob(prefix=PY[: PY.index(CURSOR_AFTER) + len(CURSOR_AFTER)], suffix="\n")


async def test_stub_ok_answer(stub: str) -> None:
    backend = await ready_backend(f"{stub}/ok")
    result = await backend.run(JOB)
    assert result.text == "return sum(values) / len(values)"
    sent = [r[2] for r in Stub.requests if r[:2] == ("ok", "POST /v1/completions")][-1]
    assert sent["stream"] is True and sent["model"] == "stub-model"
    assert sent["prompt"].startswith("<|fim_prefix|>") and sent["prompt"].endswith("<|fim_middle|>")
    await backend.stop()
    # A base URL ending in /v1 (as OpenAI clients are often configured) works the same.
    v1 = await ready_backend(f"{stub}/ok/v1")
    assert (await v1.run(JOB)).text == result.text
    await v1.stop()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("badjson", "invalid JSON"),
        ("huge", "larger than 4 MB"),
        ("hugejson", "larger than 4 MB"),
        ("redirect", "does not follow redirects"),
    ],
)
async def test_garbage_is_a_clear_error(stub: str, mode: str, message: str) -> None:
    backend = await ready_backend(f"{stub}/{mode}")
    with pytest.raises(ModelUnavailable, match=message):
        await backend.run(JOB)
    assert backend.state is ModelState.READY  # an answer, even a bad one: the server is up
    posts = [r for r in Stub.requests if r[0] == mode and r[1].startswith("POST")]
    assert len(posts) == 1  # no retry after an answer, no request to the redirect target
    await backend.stop()


async def test_time_to_first_byte_limit(stub: str) -> None:
    backend = await ready_backend(f"{stub}/slow", timeout_ms=300)
    # The stub answers after 2 s: only the 300 ms limit gives this error (no timed assertion:
    # the machine may be busy).
    with pytest.raises(ModelUnavailable, match="within 300 ms"):
        await backend.run(JOB)
    await backend.stop()


async def test_scoring_is_refused_before_any_request(stub: str) -> None:
    # Review's slip pass needs token log-probabilities; review goes on without it.
    backend = await ready_backend(f"{stub}/ok")
    sent = len(Stub.requests)
    with pytest.raises(Unsupported, match="local model worker"):
        await backend.run(ScoreJob("def f(a, b):\n", "    return a >= b\n"))
    assert len(Stub.requests) == sent and backend.state is ModelState.READY
    await backend.stop()


async def test_llama_server_infill(stub: str) -> None:
    backend = await ready_backend(f"{stub}/llama", kind="llama-server")
    job = CompletionJob(prefix="import os\n" * 40 + JOB.prefix, suffix="\nprint(mean([1]))\n")
    result = await backend.run(job)
    assert result.text == "return sum(values) / len(values)"
    paths = [r[1] for r in Stub.requests if r[0] == "llama"]
    assert "GET /health" in paths and "POST /tokenize" in paths and "POST /infill" in paths
    sent = [r[2] for r in Stub.requests if r[:2] == ("llama", "POST /infill")][-1]
    assert sent["input_prefix"].endswith(CURSOR_AFTER)
    assert sent["input_suffix"].startswith("\nprint(mean([1]))")
    assert sent["stream"] is True and "input_extra" in sent
    await backend.stop()


async def test_unreachable_is_error_without_hang() -> None:
    backend = HttpBackend(lambda s, r: None)
    port = free_port()
    backend.start(
        HttpSpec("openai", f"http://127.0.0.1:{port}", None, (), 500, "qwen2.5-coder", 2048)
    )
    await backend.wait_ready(5)
    assert backend.state is ModelState.ERROR and "unreachable" in backend.reason
    with pytest.raises(ModelUnavailable, match="unreachable"):
        await asyncio.wait_for(backend.run(JOB), 10)  # a guard against a hang, not a timing
    await backend.stop()
