"""Alternatives to cycle through the real server (fake engine, which writes the script's
alternatives): an invoked inline completion returns them as more items, each with its own
accepted command; an automatic one returns one item; `completion.alternatives: 0` turns them
off; accepting an alternative counts one suggestion accepted."""

from __future__ import annotations

from typing import Any

import pytest_lsp
from lsprotocol import types
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

PY = "def add(a, b):\n    return \n"
# The third repeats the first: two distinct alternatives, at most two asked by default.
SCRIPT = {"text": "a + b\n", "alternatives": ["b + a\n", "a + b\n", "sum((a, b))\n"]}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(**SCRIPT, token_s=0.001)
    )
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"path": FAKE_MODEL}},
        )
    )
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    await lsp_client.shutdown_session()


async def ask(client: LanguageClient, name: str, kind: types.InlineCompletionTriggerKind) -> Any:
    uri = open_doc(client, f"/tmp/enclave-alternatives/{name}.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col, kind))
    assert isinstance(result, types.InlineCompletionList)
    return uri, result.items


async def test_invoked_requests_get_alternatives_automatic_ones_do_not(
    client: LanguageClient,
) -> None:
    _, items = await ask(client, "auto", types.InlineCompletionTriggerKind.Automatic)
    assert [i.insert_text for i in items] == ["a + b"]
    uri, items = await ask(client, "invoked", types.InlineCompletionTriggerKind.Invoked)
    assert [i.insert_text for i in items] == ["a + b", "b + a"]
    ids = [i.command.arguments[0]["id"] for i in items]
    assert len(set(ids)) == 2 and all(i.command.arguments[0]["uri"] == uri for i in items)
    assert all(i.range is not None and i.range.start == i.range.end for i in items)


async def test_accepting_an_alternative_counts_one_acceptance(client: LanguageClient) -> None:
    before = (await get_status(client))["stats"]["session"].get("python", {})
    _, items = await ask(client, "accept", types.InlineCompletionTriggerKind.Invoked)
    for item in reversed(items):  # the second, then the first: still one suggestion accepted
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )
    after = (await get_status(client))["stats"]["session"]["python"]
    assert after["shown"] == before.get("shown", 0) + 1
    assert after["accepted"] == before.get("accepted", 0) + 1


async def test_the_setting_turns_them_off(client: LanguageClient) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"completion": {"alternatives": 0}})
    )
    _, items = await ask(client, "off", types.InlineCompletionTriggerKind.Invoked)
    assert [i.insert_text for i in items] == ["a + b"]
