"""A stand-in LSP server for the plugin's command plumbing (tests/commands_stub.lua): it offers
enclave.lsp.explain / .review / .rewrite, Enclave code actions (resolved lazily) and
enclave/getStatus with canned answers, the shapes the real server is specified to use, and
textDocument/inlineCompletion answering the items in ENCLAVE_STUB_ITEMS (a JSON list of texts,
or {"automatic": [...], "invoked": [...]} by trigger kind). With ENCLAVE_STUB_LOG set it appends
each initializationOptions, didChangeConfiguration and inline completion request there (one
JSON line each) for the tests."""

from __future__ import annotations

import json
import os
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("enclave-stub", "0")


def _range(raw: dict[str, Any]) -> types.Range:
    s, e = raw["start"], raw["end"]
    return types.Range(
        types.Position(s["line"], s["character"]), types.Position(e["line"], e["character"])
    )


def record(kind: str, value: Any) -> None:
    path = os.environ.get("ENCLAVE_STUB_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({kind: value, "pid": os.getpid()}) + "\n")


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def changed(ls: LanguageServer, params: types.DidChangeConfigurationParams) -> None:
    record("change", params.settings)


@server.feature(types.INITIALIZE)
def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
    record("init", params.initialization_options)


def stub_items(kind: types.InlineCompletionTriggerKind) -> list[str]:
    raw = json.loads(os.environ.get("ENCLAVE_STUB_ITEMS") or "[]")
    if isinstance(raw, dict):
        key = "invoked" if kind == types.InlineCompletionTriggerKind.Invoked else "automatic"
        raw = raw.get(key, [])
    return [str(text) for text in raw]


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION)
def inline_completion(
    ls: LanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    kind = params.context.trigger_kind
    pos = params.position
    record("inline", {"kind": int(kind), "line": pos.line, "character": pos.character})
    items = [types.InlineCompletionItem(insert_text=text) for text in stub_items(kind)]
    return types.InlineCompletionList(items=items)


@server.feature(types.INITIALIZED)
def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    ls.protocol.notify(
        "enclave/status",
        {"state": "ready", "message": "stub", "model": "stub", "lastEmptyReason": ""},
    )


@server.feature("enclave/getStatus")
def get_status(ls: LanguageServer, params: Any) -> dict[str, Any]:
    return {
        "state": "ready",
        "message": "stub",
        "model": "stub",
        "lastEmptyReason": "",
        "recent": [],
    }


@server.command("enclave.lsp.explain")
def explain(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    arg = args[0]
    r = arg["range"]
    lines = f"lines {r['start']['line'] + 1}-{r['end']['line'] + 1}"
    return {"markdown": f"# Explanation\n\nThe code at {lines} of `{arg['uri']}`.", "path": None}


@server.command("enclave.lsp.review")
def review(ls: LanguageServer, *args: Any) -> dict[str, Any]:
    uri = args[0]["uri"]
    diagnostics = [
        types.Diagnostic(
            range=types.Range(types.Position(line, 4), types.Position(line, 10)),
            message=message,
            severity=types.DiagnosticSeverity.Warning,
            source="enclave",
        )
        for line, message in [(1, "stub finding one"), (2, "stub finding two")]
    ]
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics))
    return {"findings": len(diagnostics)}


@server.command("enclave.lsp.rewrite")
async def rewrite(ls: LanguageServer, *args: Any) -> None:
    arg = args[0]
    text = f"# rewritten: {arg['instruction']}\n"
    edit = types.WorkspaceEdit(changes={arg["uri"]: [types.TextEdit(_range(arg["range"]), text)]})
    await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit, label="Enclave"))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.RefactorRewrite], resolve_provider=True
    ),
)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    data = {"uri": params.text_document.uri, "line": params.range.start.line}
    return [
        types.CodeAction("Enclave: simplify", kind=types.CodeActionKind.RefactorRewrite, data=data),
        types.CodeAction("Other: not ours", kind=types.CodeActionKind.RefactorRewrite, data=data),
    ]


@server.feature(types.CODE_ACTION_RESOLVE)
def resolve(ls: LanguageServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data
    line = data["line"]
    here = types.Range(types.Position(line, 0), types.Position(line, 0))
    action.edit = types.WorkspaceEdit(
        changes={data["uri"]: [types.TextEdit(here, "# simplified\n")]}
    )
    return action


if __name__ == "__main__":
    server.start_io()
