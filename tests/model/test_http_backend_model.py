"""Self-hosted backends over HTTP (lsp_server/model/http_backend.py) with the real model.

These run llama-cpp-python's own OpenAI-compatible server on 127.0.0.1 with the 0.5B model
(through llama_server_wrapper.py, which applies the worker's load patch) and point Enclave at
it with backend.kind "openai", under the no-egress guard (tests/conftest.py).
"""

from __future__ import annotations

import ast
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_lsp
from pytest_lsp import LanguageClient

from lsp_server.model import provision
from lsp_server.model.http_backend import HttpBackend, HttpSpec
from lsp_server.model.protocol import CompletionJob
from tests.helpers import (
    end_of,
    get_status,
    inline_params,
    open_doc,
    real_env,
    wait_for_state,
)
from tests.server.test_http_backend import (
    CURSOR_AFTER,
    PY,
    backend_options,
    free_port,
    lsp_config,
    start_client,
)

WRAPPER = Path(__file__).parent / "llama_server_wrapper.py"


def model_file() -> str:
    path = provision.model_path(provision.MODELS["0.5b"])
    if not path.exists():
        pytest.skip("the 0.5B model is not provisioned (enclave model fetch --size 0.5b)")
    return str(path)


class LlamaServer:
    """llama-cpp-python's server as a subprocess on 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.gettempdir()) / f"enclave-llama-server-{port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    str(WRAPPER),
                    "--model",
                    model_file(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--n_ctx",
                    "2048",
                    "--n_threads",
                    str(os.cpu_count() or 2),
                    "--verbose",
                    "False",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=real_env(),
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"llama server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("llama server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def llama_server() -> Iterator[LlamaServer]:
    server = LlamaServer(free_port())
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# -- through the real LSP server, real model --------------------------------------------------


@pytest_lsp.fixture(config=lsp_config())
async def remote(lsp_client: LanguageClient, llama_server: LlamaServer):
    await start_client(lsp_client, backend_options(llama_server.url))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.model
async def test_inline_completion_from_openai_server(remote: LanguageClient) -> None:
    status = await wait_for_state(remote, {"ready", "error"}, 30)
    assert status["state"] == "ready", status
    assert status["modelInfo"]["architecture"] == "openai"
    assert status["workerPid"] is None
    uri = open_doc(remote, "/tmp/enclave-http/mean.py", PY, "python")
    line, col = end_of(PY, CURSOR_AFTER)
    result = await remote.text_document_inline_completion_async(inline_params(uri, line, col))
    status = await get_status(remote)
    assert result.items, status["lastEmptyReason"]
    text = result.items[0].insert_text
    assert isinstance(text, str) and text.strip()
    offset = PY.index(CURSOR_AFTER) + len(CURSOR_AFTER)
    ast.parse(PY[:offset] + text + PY[offset:])
    assert status["recent"] and status["recent"][-1]["generated_tokens"] > 0


@pytest.mark.model
async def test_cancel_closes_the_stream(llama_server: LlamaServer) -> None:
    backend = HttpBackend(lambda s, r: None)
    backend.start(HttpSpec("openai", llama_server.url, None, (), 3000, "qwen2.5-coder", 2048))
    assert await backend.wait_ready(10), backend.reason
    long_job = CompletionJob(
        prefix="# The first 500 prime numbers, one per line\nPRIMES = [\n    2,\n",
        suffix="",
        max_tokens=600,
        deadline_s=120,
    )
    task = asyncio.ensure_future(backend.run(long_job))
    await asyncio.sleep(2.0)  # the server is generating by now
    assert not task.done()
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - cancelled_at < 2.0  # at once (2 s: a guard, not a timing)
    # The server saw the connection close and stopped: it serves the next request at once
    # (it runs one generation at a time; the 600-token one would hold it for many seconds).
    started = time.monotonic()
    short = await backend.run(CompletionJob(prefix="x = 1 +", suffix="", max_tokens=3))
    assert short.stats.generated_tokens > 0
    # 600 tokens take 25 s or more on 2 cores; 20 s leaves room for a loaded machine.
    assert time.monotonic() - started < 20.0
    await backend.stop()


# -- backend down, then back -------------------------------------------------------------------

DOWN_PORT = free_port()


@pytest_lsp.fixture(config=lsp_config())
async def down(lsp_client: LanguageClient):
    await start_client(lsp_client, backend_options(f"http://127.0.0.1:{DOWN_PORT}"))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.model
async def test_backend_down_then_recovers(down: LanguageClient) -> None:
    status = await wait_for_state(down, {"error"}, 10)
    assert "unreachable" in status["message"] and str(DOWN_PORT) in status["message"]
    uri = open_doc(down, "/tmp/enclave-http/d.py", PY, "python")
    line, col = end_of(PY, CURSOR_AFTER)
    t0 = time.monotonic()
    result = await down.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items and time.monotonic() - t0 < 10.0  # no hang
    assert "unreachable" in (await get_status(down))["lastEmptyReason"]

    server = LlamaServer(DOWN_PORT)
    try:
        await asyncio.to_thread(server.wait_ready)
        # A request wakes the health check, so the next one after the backoff is answered.
        deadline = time.monotonic() + 60
        while True:
            result = await down.text_document_inline_completion_async(inline_params(uri, line, col))
            if result.items or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        status = await get_status(down)
        assert status["state"] == "ready", status
        assert result.items, status["lastEmptyReason"]
    finally:
        server.stop()
