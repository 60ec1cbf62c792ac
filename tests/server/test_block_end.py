"""Generate only what will be shown (issue 21, item 6), through the real server and worker
process with the scripted engine: a block answer stops where its block ends, not at its token
limit, and what the worker kept is what the server shows."""

from __future__ import annotations

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

BODY = "total = 0\n    for v in values:\n        total += v\n    return total"
# After the body the model would go on with the next function, to its token limit.
ANSWER = BODY + "\n\n\ndef later():\n    return 1\n" + "# more\n" * 40
DOC = "def average(values):\n    \n"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text=ANSWER, token_s=0.002)
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


async def test_a_block_stops_where_it_ends(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-test/average.py", DOC, "python")
    line, col = end_of(DOC, "values):\n    ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList)
    assert [i.insert_text for i in result.items] == [BODY]
    stats = [s for s in (await get_status(client))["recent"] if s["kind"] == "user"][-1]
    assert stats["stop_reason"] == "block_end"
    # The fake engine writes a character per token: the body, and the first character of
    # the line that ended it (`d`, at a smaller indentation) after the two blank lines.
    assert stats["generated_tokens"] == len(BODY) + len("\n\n\nd")
    assert stats["generated_tokens"] < stats["max_tokens"]
