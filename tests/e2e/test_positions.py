"""LSP conformance of positions, through the real server (fake engine): in every handler that
takes a position or a range, a character past its line's end means the line's end, a line past
the document's end means the document's end, a character inside a surrogate pair means the
pair's start; only malformed values (negative, not integers) are InvalidParams.

Each case asks with the out-of-range position and with the position it means, and the answers
must be the same (and the answer to the clamped one must be a real one)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.conftest import SERVER_COMMAND, fake_env, get_status, inline_params, open_doc
from tests.e2e.test_actions import code_actions, lsp_range, range_json, start_fake

# Lines: 0 a def header, 1 a body line, 2 empty (inside the def), 3 a place to complete,
# 4 an astral-plane line ending in CRLF, 5 the last line, without a line break.
TEXT = "def add(a, b):\n    total = a + b\n\n    return \ns = 'é😀'\r\nend = 1"
BIG = 10**6
# (asked, meant): line 4 is s,space,=,space,',é,😀 (units 6-7),' = 9 UTF-16 units.
CASES = [
    ((0, 15), (0, 14)),
    ((2, 1), (2, 0)),
    ((2, 15), (2, 0)),
    ((2, BIG), (2, 0)),
    ((3, 12), (3, 11)),
    ((3, BIG), (3, 11)),
    ((4, 7), (4, 6)),  # inside the surrogate pair: its start
    ((4, 10), (4, 9)),  # past the end of a CRLF line: before the \r
    ((4, BIG), (4, 9)),
    ((5, 8), (5, 7)),
    ((5, BIG), (5, 7)),
    ((6, 0), (5, 7)),  # last line + 1: the document's end
    ((BIG, 0), (5, 7)),
    ((BIG, BIG), (5, 7)),
]
IDS = [f"{a[0]}:{a[1]}->{m[0]}:{m[1]}" for a, m in CASES]


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="a + b\n", token_s=0.0005)
    )
)
async def client(lsp_client: LanguageClient):
    edits: list[types.WorkspaceEdit] = []

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)  # type: ignore[untyped-decorator]
    def on_apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params.edit)  # recorded, not applied: the document stays as it is
        return types.ApplyWorkspaceEditResult(applied=True)

    lsp_client.applied_edits = edits  # type: ignore[attr-defined]
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


def malformed(line: Any, character: Any) -> types.Position:
    """A Position lsprotocol would refuse to build, to send as it is."""
    pos = types.Position(0, 0)
    object.__setattr__(pos, "line", line)
    object.__setattr__(pos, "character", character)
    return pos


MALFORMED = [(-1, 0), (0, -1), (-(2**31), 3), (0, 2**31)]


def pos_json(line: Any, character: Any) -> dict[str, Any]:
    return {"line": line, "character": character}


async def test_inline_and_plain_completion(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/complete.py", TEXT, "python")
    answered = 0
    for asked, meant in CASES:
        clamped = await client.text_document_inline_completion_async(inline_params(uri, *meant))
        past = await client.text_document_inline_completion_async(inline_params(uri, *asked))
        assert past == clamped, (asked, meant)
        for item in past.items:
            assert item.range == types.Range(types.Position(*meant), types.Position(*meant))
            answered += 1
        plain = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(*asked))
        )
        assert [i.text_edit.new_text for i in plain.items] == [i.insert_text for i in past.items]
        for item in plain.items:
            assert item.text_edit.range.start == types.Position(*meant)
    assert answered >= 2  # line 3's end was really completed, through the past-end position


async def test_malformed_completion_positions_are_invalid_params(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/bad.py", TEXT, "python")
    for line, character in MALFORMED:
        params = inline_params(uri, 0, 0)
        params.position = malformed(line, character)
        with pytest.raises(JsonRpcInvalidParams):
            await client.text_document_inline_completion_async(params)
        with pytest.raises(JsonRpcInvalidParams):
            await client.text_document_completion_async(
                types.CompletionParams(
                    types.TextDocumentIdentifier(uri), malformed(line, character)
                )
            )
    # Still serving.
    ok = await client.text_document_inline_completion_async(inline_params(uri, 3, 11))
    assert [i.insert_text for i in ok.items] == ["a + b"]


def action_ranges(actions: list[types.CodeAction]) -> list[dict[str, Any]]:
    return [a.data["range"] for a in actions if isinstance(a.data, dict)]


async def test_code_actions_and_quick_fix_ranges(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/actions.py", TEXT, "python")
    # The example: a range ending at character 15 of an empty line.
    actions = await code_actions(client, uri, lsp_range(2, 0, 2, 15))
    assert actions and action_ranges(actions)
    assert all(r == range_json(lsp_range(2, 0, 2, 0)) for r in action_ranges(actions))
    for (a_line, a_char), meant in CASES:
        asked = lsp_range(0, 0, a_line, a_char)
        past = await code_actions(client, uri, asked)
        clamped = await code_actions(client, uri, lsp_range(0, 0, *meant))
        assert past == clamped
        assert all(r["end"] == pos_json(*meant) for r in action_ranges(past))
        # A diagnostic of another tool whose range runs past the end.
        diag = types.Diagnostic(lsp_range(a_line, a_char, a_line, a_char), "odd", source="lint")
        listed = await code_actions(client, uri, lsp_range(0, 0, 0, 0), [diag])
        [fix] = [a for a in listed if a.kind == types.CodeActionKind.QuickFix]
        assert fix.data["range"] == range_json(lsp_range(*meant, *meant))
    # A backwards range (a selection made upwards) means the same range.
    assert await code_actions(client, uri, lsp_range(3, 4, 1, 0)) == await code_actions(
        client, uri, lsp_range(1, 0, 3, 4)
    )
    for line, character in MALFORMED:
        params = types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            types.Range(types.Position(0, 0), malformed(line, character)),
            types.CodeActionContext(diagnostics=[]),
        )
        with pytest.raises(JsonRpcInvalidParams):
            await client.text_document_code_action_async(params)


async def resolve(client: LanguageClient, action: types.CodeAction, rng: Any) -> Any:
    data = {**action.data, "range": rng}
    raw = types.CodeAction(title=action.title, kind=action.kind, data=data)
    return await client.code_action_resolve_async(raw)


async def test_code_action_resolve_data_ranges(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/resolve.py", TEXT, "python")
    [docstring] = [
        a
        for a in await code_actions(client, uri, lsp_range(0, 0, 0, 3))
        if isinstance(a.data, dict) and a.data.get("enclave") == "docstring"
    ]
    for (a_line, a_char), meant in CASES:
        past = await resolve(client, docstring, range_json(lsp_range(0, 0, a_line, a_char)))
        clamped = await resolve(client, docstring, range_json(lsp_range(0, 0, *meant)))
        assert "outside" not in past.title and "beyond" not in past.title
        assert (past.title, past.edit) == (clamped.title, clamped.edit)
    bad_ranges = [
        range_json(lsp_range(0, 0, 0, 0)) | {"end": pos_json(ln, c)} for ln, c in MALFORMED
    ]
    bad_ranges += [
        {"start": pos_json(0, 0), "end": pos_json("3", 0)},
        {"start": pos_json(0, 0), "end": pos_json(1.5, 0)},
        {"start": pos_json(0, 0), "end": pos_json(True, 0)},
        {"start": pos_json(0, 0)},
        "0:0-1:0",
    ]
    for bad in bad_ranges:
        with pytest.raises(JsonRpcInvalidParams):
            await resolve(client, docstring, bad)


async def command(client: LanguageClient, name: str, arg: dict[str, Any]) -> Any:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(name, [arg]))


async def test_command_ranges(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/commands.py", TEXT, "python")
    for (a_line, a_char), meant in CASES[::3]:
        asked = range_json(lsp_range(1, 0, a_line, a_char))
        meant_json = range_json(lsp_range(1, 0, *meant))
        if (a_line, a_char) < (1, 0) or meant < (1, 0):
            continue
        for name in ("enclave.lsp.explain", "enclave.lsp.review"):
            past = await command(client, name, {"uri": uri, "range": asked})
            clamped = await command(client, name, {"uri": uri, "range": meant_json})
            if name == "enclave.lsp.explain":
                assert past["markdown"] == clamped["markdown"] and "a + b" in past["markdown"]
            else:
                assert past == clamped
        refactor = {"uri": uri, "enclave": "simplify", "version": 1}
        past = await command(client, "enclave.lsp.refactor", {**refactor, "range": asked})
        clamped = await command(client, "enclave.lsp.refactor", {**refactor, "range": meant_json})
        assert past == clamped and "outside" not in past["message"]
        edits = client.applied_edits  # type: ignore[attr-defined]
        if past["applied"]:
            assert edits[-1] == edits[-2]
    for line, character in [*MALFORMED, ("1", 0), (None, 0), (0.5, 0)]:
        bad = {"start": pos_json(0, 0), "end": pos_json(line, character)}
        for name in ("enclave.lsp.explain", "enclave.lsp.review", "enclave.lsp.rewrite"):
            with pytest.raises(JsonRpcInvalidParams):
                await command(client, name, {"uri": uri, "range": bad, "instruction": "x"})


async def test_focus_past_the_end_warms_the_documents_end(client: LanguageClient) -> None:
    uri = open_doc(client, "/tmp/enclave-pos/focus.py", "def f(a, b):\n    return ", "python")
    for line, character in MALFORMED:  # malformed: logged, dropped, harmless
        client.protocol.notify(
            "enclave/didFocus",
            {"textDocument": {"uri": uri}, "position": pos_json(line, character)},
        )
    client.protocol.notify(
        "enclave/didFocus", {"textDocument": {"uri": uri}, "position": pos_json(BIG, BIG)}
    )
    for _ in range(100):
        recent = (await get_status(client))["recent"]
        if any(s["kind"] == "warmup" for s in recent):
            break
        await asyncio.sleep(0.05)
    assert any(s["kind"] == "warmup" for s in recent)  # the end of "return " was warmed
    ok = await client.text_document_inline_completion_async(inline_params(uri, 1, BIG))
    assert [i.insert_text for i in ok.items] == ["a + b"]
