"""The model runtime through the real server and worker process, with the scripted fake
engine: loading, cancellation, latest-wins, worker crashes and load failures."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.helpers import (
    FAKE_MODEL,
    SERVER_COMMAND,
    end_of,
    fake_env,
    get_status,
    inline_params,
    open_doc,
    wait_for_state,
)

LONG = "value" * 80  # 400 'tokens' at 20 ms each: 8 s unless stopped
PY = "def f(a, b):\n    return \n"


def init_params(model_path: str = FAKE_MODEL, **completion: object) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options={"model": {"path": model_path}, "completion": completion},
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text=LONG, token_s=0.02)
    )
)
async def slow(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params(maxTokensLine=400))
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    await lsp_client.shutdown_session()


async def _recent(client: LanguageClient, reason: str, timeout: float = 5.0) -> dict:
    for _ in range(int(timeout / 0.05)):
        recent = (await get_status(client))["recent"]
        hits = [s for s in recent if s["stop_reason"] == reason]
        if hits:
            return hits[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no generation ended with {reason!r}")


async def test_cancel_request_stops_generation(slow: LanguageClient) -> None:
    uri = open_doc(slow, "/tmp/enclave-rt/c.py", PY, "python")
    line, col = end_of(PY, "return ")
    fut = asyncio.ensure_future(
        slow.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, line, col), msg_id="cancel-me"
        )
    )
    await asyncio.sleep(0.5)
    slow.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    with pytest.raises((JsonRpcException, asyncio.CancelledError)):
        await asyncio.wait_for(fut, 5)
    stats = await _recent(slow, "cancelled")
    # Stopped early: far fewer than the 400 tokens the fake would have written.
    assert 0 < stats["generated_tokens"] < 200
    # The worker is free again: the next request is answered in full.
    result = await slow.text_document_inline_completion_async(inline_params(uri, line, col))
    assert [i.insert_text for i in result.items] == [LONG]


async def test_newer_request_supersedes_older(slow: LanguageClient) -> None:
    uri = open_doc(slow, "/tmp/enclave-rt/s.py", PY, "python")
    line, col = end_of(PY, "return ")
    first = asyncio.ensure_future(
        slow.text_document_inline_completion_async(inline_params(uri, line, col))
    )
    await asyncio.sleep(0.5)
    second = asyncio.ensure_future(
        slow.text_document_inline_completion_async(inline_params(uri, line, col))
    )
    older = await asyncio.wait_for(first, 3)  # answered at once, and empty
    assert not older.items
    newer = await asyncio.wait_for(second, 20)
    assert [i.insert_text for i in newer.items] == [LONG]
    stats = await _recent(slow, "cancelled")
    assert stats["generated_tokens"] < 100


async def test_worker_crash_is_survived(slow: LanguageClient) -> None:
    crash = "# ENCLAVE_CRASH\ndef f(a, b):\n    return \n"
    uri = open_doc(slow, "/tmp/enclave-rt/crash.py", crash, "python")
    line, col = end_of(crash, "return ")
    result = await slow.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items
    status = await get_status(slow)
    assert "worker stopped" in status["lastEmptyReason"]
    await wait_for_state(slow, {"ready"}, 30)
    ok = open_doc(slow, "/tmp/enclave-rt/ok.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await slow.text_document_inline_completion_async(inline_params(ok, line, col))
    assert [i.insert_text for i in result.items] == [LONG], await get_status(slow)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="a + b", load_s=3)
    )
)
async def loading(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params())
    yield
    await lsp_client.shutdown_session()


async def test_requests_during_loading_get_prompt_empty_answer(loading: LanguageClient) -> None:
    uri = open_doc(loading, "/tmp/enclave-rt/l.py", PY, "python")
    line, col = end_of(PY, "return ")
    started = asyncio.get_running_loop().time()
    result = await loading.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items
    assert asyncio.get_running_loop().time() - started < 2.0  # no waiting for the load
    status = await get_status(loading)
    assert status["state"] == "loading"
    assert "loading" in status["lastEmptyReason"]
    await wait_for_state(loading, {"ready"}, 30)
    result = await loading.text_document_inline_completion_async(inline_params(uri, line, col))
    assert [i.insert_text for i in result.items] == ["a + b"]
    # Loading was reported as work-done progress, begun and ended.
    kinds = [type(v).__name__ for vs in loading.progress_reports.values() for v in vs]
    assert "WorkDoneProgressBegin" in kinds and "WorkDoneProgressEnd" in kinds


async def test_focus_during_loading_warms_once_ready(loading: LanguageClient) -> None:
    uri = open_doc(loading, "/tmp/enclave-rt/f.py", PY, "python")
    line, col = end_of(PY, "return ")
    loading.protocol.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
    )
    assert (await get_status(loading))["state"] == "loading"
    await wait_for_state(loading, {"ready"}, 30)
    kinds: list[str] = []
    for _ in range(100):
        kinds = [s["kind"] for s in (await get_status(loading))["recent"]]
        if kinds:
            break
        await asyncio.sleep(0.05)
    assert kinds == ["warmup"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=fake_env()))
async def missing(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params("/nonexistent/model.gguf"))
    yield
    await lsp_client.shutdown_session()


async def test_missing_model_is_reported_not_hung(missing: LanguageClient) -> None:
    status = await wait_for_state(missing, {"error"}, 10)
    assert "/nonexistent/model.gguf" in status["message"]
    uri = open_doc(missing, "/tmp/enclave-rt/m.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await missing.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items
    status = await get_status(missing)
    assert status["lastEmptyReason"]


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(fail_load="corrupt tensor data")
    )
)
async def broken(lsp_client: LanguageClient):
    await lsp_client.initialize_session(init_params())
    yield
    await lsp_client.shutdown_session()


async def test_load_failure_is_reported(broken: LanguageClient) -> None:
    status = await wait_for_state(broken, {"error"}, 10)
    assert "corrupt tensor data" in status["message"]
