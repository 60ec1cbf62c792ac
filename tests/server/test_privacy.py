"""Privacy through the real server and worker (fake engine): secrets never reach a prompt,
ignored files are never completed, document text never reaches the logs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.helpers import (
    end_of,
    fake_env,
    get_status,
    inline_params,
    open_doc,
    start_in_workspace,
)

AWS = "AKIAIOSFODNN7EXAMPLE"
CANARY = "canary_7f3a_do_not_log"


def env() -> dict[str, str]:
    e = fake_env(text="compute()")
    e["ENCLAVE_DEBUG_PROMPTS"] = "1"
    return e


@pytest_lsp.fixture(
    config=ClientServerConfig(
        # Default log level: what a user gets.
        server_command=[sys.executable, "-m", "lsp_server", "serve"],
        server_env=env(),
    )
)
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ws")
    (root / ".enclaveignore").write_text("private/\n")
    await start_in_workspace(lsp_client, root)
    yield
    await lsp_client.shutdown_session()


async def test_secret_never_reaches_the_prompt(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    text = f'AWS_KEY = "{AWS}"\nDB = "postgres://app:s3cretPassw0rd@db:5432/x"\nvalue = \n'
    uri = open_doc(client, root / "settings.py", text, "python")
    line, col = end_of(text, "value = ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert [i.insert_text for i in result.items] == ["compute()"]
    prompts = (await get_status(client))["lastPrompts"]
    assert prompts and "value =" in prompts[-1]["prompt"]  # the space is healed
    assert AWS not in prompts[-1]["prompt"] and "s3cretPassw0rd" not in prompts[-1]["prompt"]
    assert "<redacted-secret>" in prompts[-1]["prompt"]


@pytest.mark.parametrize("name", [".env", "private/notes.py", "deploy/server.pem"])
async def test_ignored_files_are_never_completed(client: LanguageClient, name: str) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    text = f"TOKEN = '{CANARY}'\nx = \n"
    uri = open_doc(client, root / name, text, "python")
    line, col = end_of(text, "x = ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert not result.items
    status = await get_status(client)
    assert "ignore rules" in status["lastEmptyReason"]
    assert all(CANARY not in p["prompt"] for p in status.get("lastPrompts", []))


async def test_document_text_stays_out_of_logs(
    client: LanguageClient, capfd: pytest.CaptureFixture[str]
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    text = f"def {CANARY}():\n    return \n"
    uri = open_doc(client, root / "a.py", text, "python")
    line, col = end_of(text, "return ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    # A bad edit and a malformed position, which are logged.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=1),
            [types.TextDocumentContentChangeWholeDocument(CANARY)],
        )
    )
    params = inline_params(uri, 0, 0)
    object.__setattr__(params.position, "line", -99)  # past lsprotocol's own check
    with pytest.raises(Exception):  # noqa: B017 - any JSON-RPC error
        await client.text_document_inline_completion_async(params)
    await get_status(client)
    out, err = capfd.readouterr()
    assert CANARY not in err and CANARY not in out


async def test_actions_refuse_ignored_files(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    text = f"TOKEN = '{CANARY}'\n"
    uri = open_doc(client, root / "private" / "keys.py", text, "python")
    whole = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
    for command in ("enclave.lsp.explain", "enclave.lsp.review"):
        with pytest.raises(Exception, match="ignore rules"):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command=command, arguments=[{"uri": uri, "range": whole}]
                )
            )
    prompts = (await get_status(client)).get("lastPrompts", [])
    assert all(CANARY not in p["prompt"] for p in prompts)
