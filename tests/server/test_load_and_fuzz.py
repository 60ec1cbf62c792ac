"""Load and fuzzing through the real server (fake engine, so model time does not dominate):
a bounded soak of keystrokes with completions and cancellations, and hypothesis-generated
edit sequences checked against the server's copy of each document."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.helpers import FAKE_MODEL, SERVER_COMMAND, fake_env, inline_params, wait_for_state
from tests.server.test_hardening import RawClient

# Soak bounds: events and the memory growth allowed between the first and last third.
SOAK_EVENTS = 3000
RSS_GROWTH_MB = 40


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="value + 1", token_s=0.002)
    )
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"path": FAKE_MODEL}, "log": {"level": "warning"}},
        )
    )
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    await lsp_client.shutdown_session()


async def test_soak_keystrokes_completions_cancellations(client: LanguageClient) -> None:
    uri = "file:///tmp/enclave-soak/soak.py"
    text = _replay(0)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    line, col = 1, len("    return ")
    pending: list[asyncio.Future[Any]] = []
    ids = itertools.count()
    pid = client._server.pid  # type: ignore[union-attr]
    samples: list[float] = []
    for i in range(SOAK_EVENTS):
        typed = "x" if i % 40 else "\n    "
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                [
                    types.TextDocumentContentChangePartial(
                        types.Range(types.Position(line, col), types.Position(line, col)), typed
                    )
                ],
            )
        )
        if typed == "x":
            col += 1
        else:
            line, col = line + 1, 4
        if i % 3 == 0:
            msg_id = f"soak-{next(ids)}"
            pending.append(
                asyncio.ensure_future(
                    client.protocol.send_request_async(
                        types.TEXT_DOCUMENT_INLINE_COMPLETION,
                        inline_params(uri, line, col),
                        msg_id=msg_id,
                    )
                )
            )
        await asyncio.sleep(0.015)  # about 60 keystrokes a second
        if i % 9 == 0:
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        if i % 300 == 299:
            samples.append(rss_mb(pid))
    answered = cancelled = 0
    for fut in pending:
        try:
            result = await asyncio.wait_for(fut, 30)
        except (JsonRpcException, asyncio.CancelledError):
            cancelled += 1
            continue
        answered += 1
        for item in result.items:
            assert item.insert_text == "value + 1"
    assert answered + cancelled == len(pending)  # every request got exactly one answer
    assert answered > 0 and cancelled > 0
    assert samples[-1] - samples[1] < RSS_GROWTH_MB, samples
    # The server's copy equals the client's.
    expected = _replay(SOAK_EVENTS)
    state = await client.protocol.send_request_async("enclave/documentState", {"uri": uri})
    assert state.sha256 == hashlib.sha256(expected.encode()).hexdigest()


def _replay(events: int) -> str:
    """The soak's document after `events` keystrokes, computed independently."""
    lines = ["def f(value):", "    return ", ""]
    line = 1
    for i in range(events):
        if i % 40:
            lines[line] += "x"
        else:
            lines.insert(line + 1, "    ")
            line += 1
    return "\n".join(lines)


# -- hypothesis over LSP message sequences ------------------------------------------------


@pytest.fixture(scope="module")
def raw_server() -> Any:
    client = RawClient()
    client.initialize()
    yield client
    client.close()


CHARS = st.sampled_from([*"ab (){}:\n", "漢", "😀", "\r\n"])
uris = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_edit_sequences_keep_server_copy_in_step(
    raw_server: RawClient, data: st.DataObject
) -> None:
    uri = f"file:///tmp/enclave-fuzz/{next(uris)}.py"
    text = data.draw(st.lists(CHARS, max_size=20).map("".join))
    raw_server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    bad = False
    for version in range(2, 2 + data.draw(st.integers(1, 6))):
        if data.draw(st.booleans()):
            # An insertion at a line start: valid up to the last line, invalid past it.
            starts = [0] + [m.end() for m in re.finditer("\r\n|\r|\n", text)]
            sl = data.draw(st.integers(0, len(starts) + 1))
            start = {"line": sl, "character": 0}
            end = {"line": sl, "character": 0}
            new = data.draw(st.lists(CHARS, max_size=6).map("".join))
            raw_server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": start, "end": end}, "text": new}],
                },
            )
            if sl < len(starts):
                text = text[: starts[sl]] + new + text[starts[sl] :]
            else:
                bad = True  # the server must refuse it and say the document is out of step
        else:
            text = data.draw(st.lists(CHARS, max_size=20).map("".join))
            bad = False
            raw_server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": text}],
                },
            )
    msg_id = f"state-{uri}"
    raw_server.request(msg_id, "enclave/documentState", {"uri": uri})
    state = raw_server.answer(msg_id)["result"]
    if bad:
        assert state["desynced"]
    else:
        assert state["sha256"] == hashlib.sha256(text.encode()).hexdigest()
        assert not state["desynced"]
