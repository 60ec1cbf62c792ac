"""A stand-in server for the real-editor test (run.mjs): it advertises commands the extension
registers itself (enclave.refactor, enclave.explainSelection) besides one of its own, says it
is ready, and appends every workspace/executeCommand it gets to $ENCLAVE_CLASH_LOG. The
extension must start anyway (issue 18), and its own commands must stay its own. Its
enclave.lsp.review publishes one fixed finding, so the way from a review to VS Code's Problems
view is tested whatever a model finds."""

from __future__ import annotations

import json
import os
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("enclave-clash-stub", "0")
STATUS = {"state": "ready", "message": "stub", "model": "clash-stub.gguf", "lastEmptyReason": ""}


def record(command: str) -> dict[str, Any]:
    with open(os.environ["ENCLAVE_CLASH_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"command": command}) + "\n")
    return {}


def handler(name: str) -> Any:
    def run(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
        return record(name)

    return run


for name in ("enclave.refactor", "enclave.explainSelection"):
    server.command(name)(handler(name))


@server.command("enclave.lsp.review")
def review(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
    record("enclave.lsp.review")
    uri = arguments[0]["uri"]
    finding = types.Diagnostic(
        range=types.Range(types.Position(0, 0), types.Position(0, 6)),
        message="stub finding: the first line is reviewed",
        severity=types.DiagnosticSeverity.Warning,
        source="enclave",
    )
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, [finding]))
    return {"findings": 1, "dropped": 0}


@server.feature(types.INITIALIZED)
def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    ls.protocol.notify("enclave/status", STATUS)


@server.feature("enclave/getStatus")
def get_status(ls: LanguageServer, params: Any) -> dict[str, Any]:
    return {**STATUS, "recent": []}


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    return []


if __name__ == "__main__":
    server.start_io()
