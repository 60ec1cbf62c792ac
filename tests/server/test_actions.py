"""Explain, refactor, fix and review through a real LSP client.

The protocol tests use the worker's scripted fake engine (a fixed answer), which lets them feed
hostile answers. The same actions with the real model: tests/model/test_actions_model.py."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.context.documents import Document, Position, Range, TextChange
from tests.helpers import (
    DATA,
    FAKE_MODEL,
    SERVER_COMMAND,
    fake_env,
    open_doc,
    wait_for_state,
)

ACTIONS = DATA / "actions"
VSCODE_EXTENSION = Path(__file__).resolve().parents[2] / "editor-clients" / "vscode"
INVENTORY = (ACTIONS / "inventory.py").read_text()
INJECTED = (ACTIONS / "injected.py").read_text()
REFACTOR_TITLES = {
    "docstring": "Enclave: Add docstring",
    "annotate": "Enclave: Add type annotations",
    "simplify": "Enclave: Simplify",
    "extract_function": "Enclave: Extract function",
    "rename_locals": "Enclave: Rename locals for clarity",
    "idiomatic": "Enclave: Convert to idiomatic code",
}

REVIEW_ANSWER = json.dumps(
    {
        "findings": [
            {
                "category": "bug-risk",
                "severity": "warning",
                "message": "t may be a float; see [docs](http://evil.example/d) "
                "![px](http://evil.example/p.png) <http://evil.example/a>",
                "snippet": "return t",
                "fix": "return int(t)",
            },
            {
                "category": "security",
                "severity": "error",
                "message": "made up",
                "snippet": "os.system(user_input)",
                "fix": "",
            },
        ]
    }
)
BIDI_ANSWER = (
    '```python\ndef total(items):\n    return sum(i["price"] for i in items)  # \u202e\n```'
)
NETWORK_ANSWER = (
    "```python\ndef total(items):\n    import requests\n"
    '    return requests.post("http://x", json=items).json()\n```'
)


def lsp_range(l0: int, c0: int, l1: int, c1: int) -> types.Range:
    return types.Range(types.Position(l0, c0), types.Position(l1, c1))


def range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def text_at(text: str, r: types.Range) -> str:
    doc = Document("file:///x.py", "python", 1, text)
    start = doc.offset_at(Position(r.start.line, r.start.character))
    end = doc.offset_at(Position(r.end.line, r.end.character))
    return text[start:end]


def apply_workspace_edit(text: str, uri: str, version: int, edit: types.WorkspaceEdit) -> str:
    """Apply the edit as an editor would; it must be text edits of this version only."""
    assert edit.changes is None
    assert edit.document_changes is not None and len(edit.document_changes) == 1
    change = edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)  # no create / rename / delete
    assert change.text_document.uri == uri and change.text_document.version == version
    doc = Document(uri, "python", version, text)
    changes = []
    for e in change.edits:
        r = e.range
        rng = Range(
            Position(r.start.line, r.start.character), Position(r.end.line, r.end.character)
        )
        changes.append(TextChange(rng, e.new_text))
    doc.apply_changes(changes, version + 1)
    return doc.text


def edit_ranges(edit: types.WorkspaceEdit) -> list[types.Range]:
    assert edit.document_changes is not None
    return [
        e.range
        for c in edit.document_changes
        if isinstance(c, types.TextDocumentEdit)
        for e in c.edits
    ]


def within(inner: types.Range, outer: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(outer.start) <= key(inner.start) <= key(inner.end) <= key(outer.end)


def init_params(**options: object) -> types.InitializeParams:
    settings: dict[str, object] = {"model": {"path": FAKE_MODEL}}
    settings.update(options)
    return types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options=settings,
    )


async def start_fake(client: LanguageClient) -> None:
    result = await client.initialize_session(init_params())
    client.init_result = result  # type: ignore[attr-defined]
    await wait_for_state(client, {"ready"}, 30)


def fake_config(text: str) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text=text, token_s=0.0005)
    )


@pytest_lsp.fixture(config=fake_config(REVIEW_ANSWER))
async def fake_review(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


REPEATED = {
    "category": "bug-risk",
    "severity": "warning",
    "message": "t may be a float",
    "snippet": "return t",
    "fix": "",
}
REPEATING_ANSWER = json.dumps([REPEATED] * 4 + [dict(REPEATED, snippet="made up")])


@pytest_lsp.fixture(config=fake_config(REPEATING_ANSWER))
async def fake_repeating(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=fake_config(BIDI_ANSWER))
async def fake_bidi(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=fake_config(NETWORK_ANSWER))
async def fake_network(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def code_actions(
    client: LanguageClient,
    uri: str,
    rng: types.Range,
    diagnostics: list[types.Diagnostic] | None = None,
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            rng,
            types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    assert result is not None
    return [as_code_action(client, a) for a in result]


def as_code_action(
    client: LanguageClient, item: types.CodeAction | types.Command
) -> types.CodeAction:
    """lsprotocol's client-side hook reads every item that has a `command` key as a Command
    (stringifying a CodeAction's command object); undo that here."""
    if isinstance(item, types.CodeAction):
        return item
    raw = ast.literal_eval(item.command)
    assert isinstance(raw, dict), item
    action = client.protocol._converter.structure(
        {"title": item.title, "command": raw}, types.CodeAction
    )
    assert isinstance(action, types.CodeAction)
    return action


def by_title(actions: list[types.CodeAction], title: str) -> types.CodeAction:
    matches = [a for a in actions if a.title == title]
    assert matches, [a.title for a in actions]
    return matches[0]


# -- protocol, with the fake engine -----------------------------------------------------------


async def test_a_review_answer_stops_at_its_first_repeated_finding(
    fake_repeating: LanguageClient,
) -> None:
    uri = open_doc(fake_repeating, "/tmp/enclave-actions/repeat.py", INVENTORY, "python")
    result = await fake_repeating.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.review", [{"uri": uri}])
    )
    # Generation stopped at the second copy: nothing after it was read (the made-up quote
    # at the end would have been dropped), and the one finding is published.
    assert result["findings"] == 1 and result["dropped"] == 0
    [diag] = fake_repeating.diagnostics[uri]
    assert diag.message.startswith("t may be a float")


async def test_capabilities_advertise_actions_and_commands(fake_review: LanguageClient) -> None:
    caps = fake_review.init_result.capabilities  # type: ignore[attr-defined]
    assert caps.code_action_provider.resolve_provider is True
    assert types.CodeActionKind.RefactorRewrite in caps.code_action_provider.code_action_kinds
    advertised = set(caps.execute_command_provider.commands)
    assert advertised == {
        "enclave.lsp.explain",
        "enclave.lsp.refactor",
        "enclave.lsp.rewrite",
        "enclave.lsp.review",
        "enclave.lsp.accepted",  # sent by clients when a suggestion is accepted (statistics)
    }
    # VS Code's client registers every advertised command; the extension registers its own
    # (package.json): the two sets must never meet, or the client refuses to start.
    manifest = json.loads((VSCODE_EXTENSION / "package.json").read_text())
    own = {c["command"] for c in manifest["contributes"]["commands"]}
    assert own and not advertised & own, advertised & own


async def test_listing_is_cheap_and_complete(fake_review: LanguageClient) -> None:
    uri = open_doc(fake_review, "/tmp/enclave-actions/list.py", INVENTORY, "python")
    foreign = types.Diagnostic(lsp_range(4, 4, 4, 5), "Name 't' is too short", source="pylint")
    actions = await code_actions(fake_review, uri, lsp_range(3, 0, 8, 0), [foreign])
    titles = [a.title for a in actions]
    assert "Explain with Enclave" in titles
    for title in REFACTOR_TITLES.values():
        action = by_title(actions, title)
        assert action.kind == types.CodeActionKind.RefactorRewrite
        assert action.edit is None and action.data["enclave"]  # the model runs on resolve
    rewrite = by_title(actions, "Enclave: Rewrite with instruction...")
    assert rewrite.command is not None and rewrite.command.command == "enclave.lsp.rewrite"
    fix = next(a for a in actions if a.title.startswith("Fix with Enclave"))
    assert fix.kind == types.CodeActionKind.QuickFix and list(fix.diagnostics or []) == [foreign]
    status = await fake_review.protocol.send_request_async("enclave/getStatus", {})
    assert not status.recent  # listing never called the model


async def test_review_publishes_located_findings_that_follow_edits(
    fake_review: LanguageClient,
) -> None:
    uri = open_doc(fake_review, "/tmp/enclave-actions/review.py", INVENTORY, "python")
    result = await fake_review.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.review", [{"uri": uri}])
    )
    assert result["findings"] == 1 and result["dropped"] == 1  # the made-up quote is gone
    [diag] = fake_review.diagnostics[uri]
    assert diag.source == "enclave" and diag.code == "bug-risk"
    # The model called it a warning; uncorroborated by the slip pass, it is information.
    assert diag.severity == types.DiagnosticSeverity.Information
    assert text_at(INVENTORY, diag.range) == "return t" == diag.data["quote"]

    # Its fix is a quick fix, checked, for this version.
    actions = await code_actions(fake_review, uri, diag.range, [diag])
    [fix] = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.edit is not None
    fixed = apply_workspace_edit(INVENTORY, uri, 1, fix.edit)
    assert "return int(t)" in fixed
    ast.parse(fixed)

    # Two lines inserted above: the finding moves with its text.
    fake_review.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    range=lsp_range(1, 0, 1, 0), text="import math\n\n"
                )
            ],
        )
    )
    await fake_review.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    text2 = INVENTORY.replace('"""\n', '"""\nimport math\n\n', 1)
    [moved] = fake_review.diagnostics[uri]
    assert moved.range.start.line == diag.range.start.line + 2
    assert text_at(text2, moved.range) == "return t"

    # An edit inside the finding's range clears it.
    r = moved.range
    fake_review.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=3, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    range=lsp_range(r.start.line, r.end.character - 1, r.end.line, r.end.character),
                    text="total",
                )
            ],
        )
    )
    await fake_review.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(fake_review.diagnostics[uri]) == []


async def test_explain_sanitizes_writes_private_file_and_shows_it(
    fake_review: LanguageClient,
) -> None:
    uri = open_doc(fake_review, "/tmp/enclave-actions/explain.py", INVENTORY, "python")
    result = await fake_review.workspace_execute_command_async(
        types.ExecuteCommandParams(
            "enclave.lsp.explain", [{"uri": uri, "range": range_json(lsp_range(4, 0, 4, 0))}]
        )
    )
    markdown = result["markdown"]
    assert "`function total`" in markdown
    assert "see docs" in markdown  # link text kept
    assert "http://evil" not in markdown and "evil.example/p.png" not in markdown
    assert "hxxp[:]//evil[.]example/a" in markdown
    path = Path(result["path"])
    assert path.read_text() == markdown
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert path.parent.name == "explanations"
    assert fake_review.shown_documents[-1].uri == path.as_uri()
    begins = [
        v
        for reports in fake_review.progress_reports.values()
        for v in reports
        if isinstance(v, types.WorkDoneProgressBegin) and v.title == "Enclave: explaining"
    ]
    assert begins and begins[-1].cancellable is True


async def test_bidi_answer_is_refused_clearly(fake_bidi: LanguageClient) -> None:
    uri = open_doc(fake_bidi, "/tmp/enclave-actions/bidi.py", INVENTORY, "python")
    actions = await code_actions(fake_bidi, uri, lsp_range(3, 0, 8, 0))
    action = await fake_bidi.code_action_resolve_async(by_title(actions, "Enclave: Simplify"))
    assert action.edit is None
    assert "failed" in action.title and "invisible" in action.data["error"]
    assert any("invisible" in m.message for m in fake_bidi.messages)
    status = await fake_bidi.protocol.send_request_async("enclave/getStatus", {})
    assert len(status.recent) == 2  # tried, retried with the reason, then refused


async def test_network_import_is_refused_for_actions_and_rewrite(
    fake_network: LanguageClient,
) -> None:
    uri = open_doc(fake_network, "/tmp/enclave-actions/net.py", INVENTORY, "python")
    actions = await code_actions(fake_network, uri, lsp_range(3, 0, 8, 0))
    action = await fake_network.code_action_resolve_async(by_title(actions, "Enclave: Simplify"))
    assert action.edit is None and "network" in action.data["error"]
    # Annotations are asked for as a list of types: code in the answer is no answer at all.
    action = await fake_network.code_action_resolve_async(
        by_title(actions, "Enclave: Add type annotations")
    )
    assert action.edit is None and "not a JSON object of types" in action.data["error"]
    result = await fake_network.workspace_execute_command_async(
        types.ExecuteCommandParams(
            "enclave.lsp.rewrite",
            [{"uri": uri, "range": range_json(lsp_range(3, 0, 8, 0)), "instruction": "faster"}],
        )
    )
    assert result["applied"] is False and "network" in result["message"]
    missing = await fake_network.workspace_execute_command_async(
        types.ExecuteCommandParams(
            "enclave.lsp.rewrite", [{"uri": uri, "range": range_json(lsp_range(3, 0, 8, 0))}]
        )
    )
    assert missing["applied"] is False and "instruction" in missing["message"]


DOCUMENTED_TOTAL = (
    'def total(items):\n    """Sum of price times quantity."""\n    t = 0\n'
    '    for i in items:\n        t = t + i["price"] * i["qty"]\n    return t\n'
)


# The server begins the answer with the header and the quotes (features/docstring.py).
@pytest_lsp.fixture(config=fake_config('Sum of price times quantity."""\n    t = 0'))
async def fake_no_resolve(lsp_client: LanguageClient):
    """A client like Eglot 1.9: code actions, applyEdit, but no codeAction/resolve."""
    caps = client_capabilities("visual-studio-code")
    caps.text_document.code_action.resolve_support = None  # type: ignore[union-attr]
    edits: list[types.ApplyWorkspaceEditParams] = []

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)  # type: ignore[untyped-decorator]
    def on_apply(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    lsp_client.applied_edits = edits  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=caps, initialization_options={"model": {"path": FAKE_MODEL}}
        )
    )
    await wait_for_state(lsp_client, {"ready"}, 30)
    yield
    await lsp_client.shutdown_session()


async def test_without_resolve_support_refactors_come_as_commands(
    fake_no_resolve: LanguageClient,
) -> None:
    uri = open_doc(fake_no_resolve, "/tmp/enclave-actions/nores.py", INVENTORY, "python")
    actions = await code_actions(fake_no_resolve, uri, lsp_range(3, 0, 8, 0))
    action = by_title(actions, REFACTOR_TITLES["docstring"])
    assert action.data is None and action.command is not None
    assert action.command.command == "enclave.lsp.refactor"
    result = await fake_no_resolve.workspace_execute_command_async(
        types.ExecuteCommandParams(action.command.command, action.command.arguments)
    )
    assert result["applied"] is True, result
    [applied] = fake_no_resolve.applied_edits  # type: ignore[attr-defined]
    after = apply_workspace_edit(INVENTORY, uri, 1, applied.edit)
    old_total = INVENTORY[INVENTORY.index("def total") : INVENTORY.index("def names")]
    assert after == INVENTORY.replace(old_total, DOCUMENTED_TOTAL + "\n\n")
    # An action listed for an older version is refused, not applied to the new text.
    fake_no_resolve.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [types.TextDocumentContentChangeWholeDocument(text=INVENTORY + "\n")],
        )
    )
    stale = await fake_no_resolve.workspace_execute_command_async(
        types.ExecuteCommandParams(action.command.command, action.command.arguments)
    )
    assert stale["applied"] is False and "changed" in stale["message"]
    assert len(fake_no_resolve.applied_edits) == 1  # type: ignore[attr-defined]


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=fake_env(text="word " * 400, token_s=0.01)
    )
)
async def fake_slow(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_progress_cancel_stops_the_explanation(fake_slow: LanguageClient) -> None:
    uri = open_doc(fake_slow, "/tmp/enclave-actions/slow.py", INVENTORY, "python")
    request = asyncio.ensure_future(
        fake_slow.workspace_execute_command_async(
            types.ExecuteCommandParams(
                "enclave.lsp.explain", [{"uri": uri, "range": range_json(lsp_range(4, 0, 4, 0))}]
            )
        )
    )
    token = None
    for _ in range(100):
        await asyncio.sleep(0.05)
        token = next(
            (
                t
                for t, reports in fake_slow.progress_reports.items()
                if any(getattr(v, "title", "") == "Enclave: explaining" for v in reports)
            ),
            None,
        )
        if token is not None:
            break
    assert token is not None
    await asyncio.sleep(0.3)
    fake_slow.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token)
    )
    with pytest.raises(JsonRpcException, match="cancelled"):
        await asyncio.wait_for(request, 10)
    ends = [
        v for v in fake_slow.progress_reports[token] if isinstance(v, types.WorkDoneProgressEnd)
    ]
    assert ends and ends[-1].message == "cancelled"
