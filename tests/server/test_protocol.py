"""Protocol-level end-to-end tests: the real server and worker process, with the worker's
scripted fake engine instead of the model, so they are fast. The real model is exercised in
test_real_model.py."""

from __future__ import annotations

import asyncio

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
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

PY = "import os\n\n\ndef add(a, b):\n    return \n"


def init_params(**options: object) -> types.InitializeParams:
    settings: dict[str, object] = {"model": {"path": FAKE_MODEL}}
    settings.update(options)
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options=settings,
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="a + b\n", token_s=0.01)
    )
)
async def client(lsp_client: LanguageClient):
    result = await lsp_client.initialize_session(init_params())
    lsp_client.init_result = result  # type: ignore[attr-defined]
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    await lsp_client.shutdown_session()


async def test_capabilities_are_honest(client: LanguageClient) -> None:
    caps = client.init_result.capabilities  # type: ignore[attr-defined]
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
    sync = caps.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.hover_provider is None  # nothing is claimed that is not served


async def test_inline_completion_returns_model_text(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/add.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList)
    assert [i.insert_text for i in result.items] == ["a + b"]
    assert result.items[0].range == types.Range(
        types.Position(line, col), types.Position(line, col)
    )
    status = await get_status(client)
    assert status["state"] == "ready" and status["lastEmptyReason"] == ""


async def test_status_after_a_job_id_holds_only_later_jobs(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/after.py", PY, "python")
    line, col = end_of(PY, "return ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    jobs = [s["job_id"] for s in (await get_status(client))["recent"]]
    assert len(jobs) >= 1 and jobs == sorted(jobs)
    later = await client.protocol.send_request_async("enclave/getStatus", {"after": jobs[0]})
    assert [s.job_id for s in later.recent] == jobs[1:]  # a poller's share: what is new
    with pytest.raises(JsonRpcInvalidParams):
        await client.protocol.send_request_async("enclave/getStatus", {"after": "soon"})


async def test_plain_completion_offers_same_text(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/add2.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, col))
    )
    assert isinstance(result, types.CompletionList)
    assert len(result.items) == 1
    assert result.items[0].text_edit.new_text == "a + b"


async def test_gated_position_answers_empty_with_reason(client: LanguageClient) -> None:
    text = "def add(a, b):\n    return abc_def\n"
    uri = open_doc(client, "/tmp/enclave-test/gate.py", text, "python")
    line, col = end_of(text, "return abc_")  # in the middle of an identifier
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert result is not None and not result.items
    status = await get_status(client)
    assert "identifier" in status["lastEmptyReason"]


async def test_incremental_edits_then_completion(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/edit.py", "def f(x):\n    pass\n", "python")
    # Replace `pass` with `return ` and add an emoji comment above (UTF-16 positions).
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(1, 4), types.Position(1, 8)), "return "
                ),
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(0, 0), types.Position(0, 0)), "# 😀 ok\n"
                ),
            ],
        )
    )
    result = await client.text_document_inline_completion_async(inline_params(uri, 2, 11))
    assert [i.insert_text for i in result.items] == ["a + b"]


async def test_malformed_position_is_an_error(client: LanguageClient) -> None:
    # Past the end is answered (tests/server/test_positions.py); a negative value is malformed.
    uri = open_doc(client, "/tmp/enclave-test/short.py", "x = 1\n", "python")
    params = inline_params(uri, 0, 0)
    object.__setattr__(params.position, "character", -1)  # past lsprotocol's own check
    with pytest.raises(JsonRpcInvalidParams):
        await client.text_document_inline_completion_async(params)


async def test_unknown_document_is_an_error(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcInvalidParams):
        await client.text_document_inline_completion_async(
            inline_params("file:///never/opened.py", 0, 0)
        )


async def test_bad_setting_warns_by_name_and_keeps_default(client: LanguageClient) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"completion": {"maxTokensLine": "lots"}, "model": {"path": FAKE_MODEL}}
        )
    )
    for _ in range(50):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert any("completion.maxTokensLine" in m.message for m in client.messages)
    uri = open_doc(client, "/tmp/enclave-test/after.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert [i.insert_text for i in result.items] == ["a + b"]


async def test_stale_version_is_rejected_and_reported(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/ver.py", "x = 1\n", "python", version=5)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [types.TextDocumentContentChangeWholeDocument("y = 2\n")],
        )
    )
    await asyncio.sleep(0.2)
    status = await get_status(client)
    assert "out of sync" in status["lastEmptyReason"]
