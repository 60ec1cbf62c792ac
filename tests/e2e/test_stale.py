"""A document whose copy the server cannot trust (a stale, repeated or misfitting change) is
marked out of sync: every request about it is answered empty or declined with the reason, the
model gets no job for it, and a full-text change or a reopen makes it whole again. Through the
real server (fake engine), with the worker's own job figures as the witness."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from typing import Any

import pytest
import pytest_lsp
from hypothesis import HealthCheck, given, settings
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_server.context.documents import TextChange
from tests.conftest import SERVER_COMMAND, fake_env, get_status, inline_params, open_doc
from tests.e2e.test_actions import code_actions, lsp_range, start_fake
from tests.e2e.test_hardening import RawClient
from tests.e2e.test_load_and_fuzz import raw_server  # noqa: F401  (a fixture)
from tests.unit.test_documents_sync import Reference, events, step

TEXT = "def add(a, b):\n    total = a + b\n    return \n"
AT = (2, 11)  # after "return "


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="a + b\n", token_s=0.0005)
    )
)
async def client(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


def change(client: LanguageClient, uri: str, version: int, edit: TextChange) -> None:
    if edit.range is None:
        content: Any = types.TextDocumentContentChangeWholeDocument(edit.text)
    else:
        r = edit.range
        content = types.TextDocumentContentChangePartial(
            lsp_range(r.start.line, r.start.character, r.end.line, r.end.character), edit.text
        )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version), [content]
        )
    )


async def jobs(client: LanguageClient) -> list[int]:
    """The ids of the jobs the worker has answered (cancelled ones included)."""
    return [s["job_id"] for s in (await get_status(client))["recent"]]


async def command(client: LanguageClient, name: str, arg: dict[str, Any]) -> Any:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(name, [arg]))


BREAKS = {
    "older full text": (3, None),
    "repeated full text": (5, None),
    "older edit": (4, (0, 0)),
    "repeated edit": (5, (0, 0)),
    "misfit edit": (6, (40, 0)),
}


@pytest.mark.parametrize("how", list(BREAKS))
async def test_every_request_is_declined_until_a_full_sync(
    client: LanguageClient, how: str
) -> None:
    uri = open_doc(client, f"/tmp/enclave-stale/{how.replace(' ', '-')}.py", TEXT, "python", 5)
    # Listed while in sync: the resolve data an editor may still hold afterwards.
    listed = await code_actions(client, uri, lsp_range(0, 0, 2, 11))
    [docstring] = [
        a for a in listed if isinstance(a.data, dict) and a.data["enclave"] == "docstring"
    ]
    version, at = BREAKS[how]
    if at is None:
        change(client, uri, version, TextChange(None, "x = 1\n"))
    else:
        r = lsp_range(*at, *at)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangePartial(r, "# ")],
            )
        )
    state = await client.protocol.send_request_async("enclave/documentState", {"uri": uri})
    assert state.desynced
    before = await jobs(client)

    inline = await client.text_document_inline_completion_async(inline_params(uri, *AT))
    assert not inline.items
    reason = (await get_status(client))["lastEmptyReason"]
    assert "out of sync" in reason
    assert ("not newer than 5" in reason) if at != (40, 0) else ("outside" in reason)
    plain = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(*AT))
    )
    assert not plain.items
    assert await code_actions(client, uri, lsp_range(0, 0, 2, 11)) == []
    resolved = await client.code_action_resolve_async(docstring)
    assert resolved.edit is None and "out of sync" in resolved.data["error"]
    client.protocol.notify(
        "enclave/didFocus", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 11}}
    )
    rng = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 11}}
    for name, arg in [
        ("enclave.lsp.explain", {"uri": uri, "range": rng}),
        ("enclave.lsp.review", {"uri": uri}),
        ("enclave.lsp.rewrite", {"uri": uri, "range": rng, "instruction": "shorter"}),
        ("enclave.lsp.refactor", {"uri": uri, "range": rng, "enclave": "simplify"}),
    ]:
        with pytest.raises(JsonRpcInvalidParams, match="out of sync"):
            await command(client, name, arg)
    await asyncio.sleep(0.5)  # room for any warm-up or prefetch that should not happen
    assert await jobs(client) == before  # the model was asked nothing

    # An incremental change cannot repair it; a newer full text does.
    change(client, uri, 7, TextChange(None, TEXT))
    state = await client.protocol.send_request_async("enclave/documentState", {"uri": uri})
    assert not state.desynced and state.version == 7
    inline = await client.text_document_inline_completion_async(inline_params(uri, *AT))
    assert [i.insert_text for i in inline.items] == ["a + b"]
    assert (await get_status(client))["lastEmptyReason"] == ""
    assert len(await jobs(client)) > len(before)


async def test_edits_after_a_break_do_not_repair_and_a_reopen_does(
    client: LanguageClient,
) -> None:
    uri = open_doc(client, "/tmp/enclave-stale/reopen.py", TEXT, "python", 5)
    change(client, uri, 5, TextChange(None, TEXT))  # a repeated version
    for version in (6, 7, 8):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangePartial(lsp_range(0, 0, 0, 0), "#")],
            )
        )
    stale = await client.text_document_inline_completion_async(inline_params(uri, *AT))
    assert not stale.items
    # A didOpen of a document already open replaces it, whatever its version.
    other = "def mul(a, b):\n    return \n"
    open_doc(client, uri, other, "python", 1)
    state = await client.protocol.send_request_async("enclave/documentState", {"uri": uri})
    assert not state.desynced and state.version == 1
    assert state.sha256 == hashlib.sha256(other.encode()).hexdigest()
    inline = await client.text_document_inline_completion_async(inline_params(uri, 1, 11))
    assert [i.insert_text for i in inline.items] == ["a + b"]


async def test_change_to_a_document_never_opened(client: LanguageClient) -> None:
    uri = "file:///tmp/enclave-stale/never.py"
    before = await jobs(client)
    change(client, uri, 2, TextChange(None, TEXT))
    assert "not open" in (await get_status(client))["lastEmptyReason"]
    with pytest.raises(JsonRpcInvalidParams, match="not open"):
        await client.text_document_inline_completion_async(inline_params(uri, *AT))
    with pytest.raises(JsonRpcInvalidParams, match="not open"):
        await command(client, "enclave.lsp.review", {"uri": uri})
    await asyncio.sleep(0.3)
    assert await jobs(client) == before


# -- hypothesis over version sequences, through the server ----------------------------------


def change_json(edit: TextChange) -> dict[str, Any]:
    if edit.range is None:
        return {"text": edit.text}
    r = edit.range
    return {
        "range": {
            "start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character},
        },
        "text": edit.text,
    }


uris = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events())
def test_server_matches_the_reference_model(
    raw_server: RawClient,  # noqa: F811  (the fixture imported above)
    script: list[tuple[str, int, str]],
) -> None:
    uri = f"file:///tmp/enclave-stale/h{next(uris)}.py"
    raw_server.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "start\n"}},
    )
    ref = Reference(version=1, text="start\n", seen=1)
    for kind, delta, text in script:
        version, edit = step(ref, kind, delta, text)
        if edit is None:
            raw_server.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "python",
                        "version": version,
                        "text": text,
                    }
                },
            )
        else:
            raw_server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [change_json(edit)],
                },
            )
        msg_id = f"state-{uri}-{version}-{kind}"
        raw_server.request(msg_id, "enclave/documentState", {"uri": uri})
        state = raw_server.answer(msg_id)["result"]
        assert state["desynced"] == (not ref.in_sync), (kind, delta)
        assert state["version"] == ref.seen
        if ref.in_sync:
            assert state["sha256"] == hashlib.sha256(ref.text.encode()).hexdigest()


UNREADABLE_CHANGES = [
    [{"range": {"start": {"line": 0, "character": -1}, "end": {"line": 0, "character": 0}}}],
    [{"range": {"start": {"line": 0, "character": 0}}, "text": "x"}],
    [{"range": "0:0-0:1", "text": "x"}],
    "not a list",
    [None],
]


@pytest.mark.parametrize("changes", UNREADABLE_CHANGES, ids=range(len(UNREADABLE_CHANGES)))
def test_an_unreadable_change_leaves_the_document_out_of_sync(changes: Any) -> None:
    """pygls cannot read these params, so no handler ever sees the change: the editor applied
    it and the server did not. The document must not go on counting as in sync."""
    raw = RawClient()
    try:
        raw.initialize()
        uri = "file:///tmp/enclave-stale/unreadable.py"
        raw.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": TEXT}},
        )
        raw.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 2}, "contentChanges": changes},
        )
        raw.request(1, "enclave/documentState", {"uri": uri})
        assert raw.answer(1)["result"]["desynced"]
        raw.request(2, "enclave/getStatus", {})
        assert "could not be read" in raw.answer(2)["result"]["lastEmptyReason"]
        raw.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": TEXT}]},
        )
        raw.request(3, "enclave/documentState", {"uri": uri})
        assert not raw.answer(3)["result"]["desynced"]
    finally:
        raw.close()
