"""Local statistics through the real server (fake engine): every item carries the
enclave.lsp.accepted command, running it counts the acceptance (or part of it), an unknown id
is refused, enclave/getStatus shows the figures, and `enclave stats` prints them from the file
written at shutdown, in the user's state dir (HOME and XDG dirs of a temporary folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

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

PY = "def add(a, b):\n    return \n"
ANSWER = "a + b"
ACCEPTED = "enclave.lsp.accepted"

# A home of this module: the server and `enclave stats` find the state dir through platformdirs.
HOME = Path(tempfile.mkdtemp(prefix="enclave-stats-home-"))


def user_env(**script: Any) -> dict[str, str]:
    env = fake_env(**script) if script else dict(os.environ)
    env.pop("ENCLAVE_STATE_DIR", None)
    env.update(
        HOME=str(HOME),
        XDG_STATE_HOME=str(HOME / ".local" / "state"),
        XDG_CACHE_HOME=str(HOME / ".cache"),
        XDG_CONFIG_HOME=str(HOME / ".config"),
        XDG_DATA_HOME=str(HOME / ".local" / "share"),
    )
    return env


STATS_FILE = HOME / ".local" / "state" / "enclave" / "stats.json"


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=user_env(text=ANSWER + "\n", token_s=0.001)
    )
)
async def client(lsp_client: LanguageClient):
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"path": FAKE_MODEL}},
        )
    )
    lsp_client.init_result = result  # type: ignore[attr-defined]
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    if not getattr(lsp_client, "shut_down", False):
        await lsp_client.shutdown_session()


async def suggest(client: LanguageClient, name: str) -> tuple[str, types.InlineCompletionItem]:
    uri = open_doc(client, f"/tmp/enclave-stats/{name}.py", PY, "python")
    line, col = end_of(PY, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList) and len(result.items) == 1
    return uri, result.items[0]


async def run(client: LanguageClient, argument: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=ACCEPTED, arguments=[argument])
    )


async def python_stats(client: LanguageClient, scope: str = "session") -> dict[str, Any]:
    stats = (await get_status(client))["stats"]
    assert stats["enabled"] is True
    return stats[scope]["python"]  # type: ignore[no-any-return]


async def test_the_command_is_advertised_and_every_item_carries_it(client: LanguageClient) -> None:
    caps = client.init_result.capabilities  # type: ignore[attr-defined]
    assert ACCEPTED in caps.execute_command_provider.commands
    uri, item = await suggest(client, "carries")
    assert item.insert_text == ANSWER
    assert item.command is not None and item.command.command == ACCEPTED
    (arg,) = item.command.arguments
    assert arg["uri"] == uri and isinstance(arg["id"], str) and arg["id"]
    # The plain completion item carries it too, with an id of its own.
    line, col = end_of(PY, "return ")
    plain = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, col))
    )
    assert plain is not None and plain.items[0].command is not None
    assert plain.items[0].command.arguments[0]["id"] != arg["id"]


async def test_running_the_command_counts_the_acceptance(client: LanguageClient) -> None:
    _, item = await suggest(client, "whole")
    before = await python_stats(client)
    assert before["shown"] >= 1 and before["fromModel"] >= 1 and before["p50Ms"] is not None
    assert item.command is not None
    answer = await run(client, item.command.arguments[0])  # as VS Code does on accept
    assert answer["acceptedChars"] == len(ANSWER)
    after = await python_stats(client)
    assert after["accepted"] == before["accepted"] + 1
    assert after["charsAccepted"] == before["charsAccepted"] + len(ANSWER)
    assert 0 < after["acceptanceRate"] <= 1
    assert after["p50Ms"] <= after["p90Ms"]


async def test_partial_acceptance_counts_the_characters_taken(client: LanguageClient) -> None:
    _, item = await suggest(client, "partial")
    assert item.command is not None
    arg = item.command.arguments[0]
    before = await python_stats(client)
    assert (await run(client, {**arg, "acceptedChars": 2}))["acceptedChars"] == 2  # "a "
    assert (await run(client, {**arg, "acceptedChars": 3}))["acceptedChars"] == 3  # then "+"
    after = await python_stats(client)
    assert after["accepted"] == before["accepted"] + 1  # one suggestion, accepted in steps
    assert after["charsAccepted"] == before["charsAccepted"] + 3


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "0123456789abcdef"},  # never issued
        {"id": 7},
        {"id": None},
        {"acceptedChars": 0},
        {"acceptedChars": -4},
        {"acceptedChars": True},
        {"acceptedChars": "all"},
        {"uri": "file:///tmp/enclave-stats/other.py"},  # the id belongs to another document
    ],
)
async def test_unknown_ids_and_bad_arguments_are_refused(
    client: LanguageClient, bad: dict[str, Any]
) -> None:
    _, item = await suggest(client, "refused")
    assert item.command is not None
    arg = {**item.command.arguments[0], **bad}
    before = await python_stats(client)
    with pytest.raises(JsonRpcInvalidParams):
        await run(client, arg)
    after = await python_stats(client)
    assert (after["accepted"], after["charsAccepted"]) == (
        before["accepted"],
        before["charsAccepted"],
    )


async def test_typed_through_answers_count_as_cache(client: LanguageClient) -> None:
    uri, _ = await suggest(client, "cache")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(*[types.Position(1, 11)] * 2), "a"
                )
            ],
        )
    )
    result = await client.text_document_inline_completion_async(inline_params(uri, 1, 12))
    assert result is not None and [i.insert_text for i in result.items] == [" + b"]
    s = await python_stats(client)
    counters = (await get_status(client))["counters"]
    assert s["fromCache"] == counters["answeredFromCache"] >= 1
    assert s["fromPrefetch"] == counters["answeredFromPrefetch"]
    assert s["fromModel"] == 1 and s["cacheShare"] == 0.5


def enclave_stats(*args: str) -> str:
    """`enclave stats` as the user runs it, in the same home as the server."""
    command = [sys.executable, "-m", "lsp_server", "stats", *args]
    return subprocess.run(
        command, env=user_env(), capture_output=True, text=True, check=True
    ).stdout


async def test_enclave_stats_prints_the_file_written_at_shutdown(client: LanguageClient) -> None:
    STATS_FILE.unlink(missing_ok=True)
    _, item = await suggest(client, "cli")
    assert item.command is not None
    await run(client, item.command.arguments[0])
    session = await python_stats(client)
    await client.shutdown_session()  # the server writes the file on shutdown
    client.shut_down = True  # type: ignore[attr-defined]
    assert STATS_FILE.exists() and (STATS_FILE.stat().st_mode & 0o777) == 0o600
    raw = STATS_FILE.read_text()
    assert "enclave-stats" not in raw and ANSWER not in raw and "file:" not in raw
    report = json.loads(enclave_stats("--json"))
    assert report["file"] == str(STATS_FILE)
    python = report["languages"]["python"]
    assert python["shown"] == session["shown"] and python["accepted"] == session["accepted"]
    assert python["charsAccepted"] == session["charsAccepted"] == len(ANSWER)
    text = enclave_stats()
    assert "python:" in text
    assert f"accepted {session['accepted']} (100.0%)" in text
    assert f"accepted {len(ANSWER)}" in text and "p50" in text


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=user_env(text=ANSWER + "\n", token_s=0.001)
    )
)
async def stats_off(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"path": FAKE_MODEL}, "stats": {"enabled": False}},
        )
    )
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield


async def test_stats_off_records_and_writes_nothing(stats_off: LanguageClient) -> None:
    client = stats_off
    STATS_FILE.unlink(missing_ok=True)
    _, item = await suggest(client, "off")
    assert item.insert_text == ANSWER and item.command is None  # nothing to report back
    stats = (await get_status(client))["stats"]
    assert stats["enabled"] is False and stats["session"] == {}
    await client.shutdown_session()
    assert not STATS_FILE.exists()
