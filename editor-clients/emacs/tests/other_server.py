"""A stand-in for the language's own server (pyright, ruff, ...) beside Enclave in lsp-mode.

It publishes a warning on each opened file's first line, answers hover, completion and code
actions (resolved lazily, as ruff's are) and has a command of its own, so lsp-mode sends it
what it sends such servers. Every message it gets is appended to $OTHER_SERVER_LOG as one JSON
line {method, command?, data?}: the tests read there that Enclave's requests, commands and
actions never reach it."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

HOVER = "other server: hover on `{}`"
COMPLETION = "other_completion"
ACTION = "Other: sort imports"
DIAGNOSTIC = "other server: check this line"
COMMAND = "other.sortImports"


class RecordingProtocol(LanguageServerProtocol):
    def handle_message(self, message: Any) -> None:
        path = os.environ.get("OTHER_SERVER_LOG")
        method = getattr(message, "method", None)
        if path and method:
            params = getattr(message, "params", None)
            entry: dict[str, Any] = {"method": method}
            for field in ("command", "data"):
                value = getattr(params, field, None)
                if value is not None:
                    entry[field] = self._converter.unstructure(value)
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, default=str) + "\n")
        super().handle_message(message)


server = LanguageServer("other-server", "0", protocol_cls=RecordingProtocol)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """One warning on the first line, as a linter would publish."""
    first = types.Range(types.Position(0, 0), types.Position(0, 3))
    warning = types.Diagnostic(
        first, DIAGNOSTIC, severity=types.DiagnosticSeverity.Warning, source="other"
    )
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(params.text_document.uri, [warning])
    )


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    line = ls.workspace.get_text_document(params.text_document.uri).lines[params.position.line]
    for m in re.finditer(r"\w+", line):
        if m.start() <= params.position.character <= m.end():
            return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, HOVER.format(m[0])))
    return None


@server.feature(types.TEXT_DOCUMENT_COMPLETION)
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    item = types.CompletionItem(COMPLETION, kind=types.CompletionItemKind.Variable)
    return types.CompletionList(is_incomplete=False, items=[item])


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.Source], resolve_provider=True),
)
def code_action(ls: LanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    data = {"source": "other", "uri": params.text_document.uri}
    return [types.CodeAction(ACTION, kind=types.CodeActionKind.Source, data=data)]


@server.feature(types.CODE_ACTION_RESOLVE)
def resolve(ls: LanguageServer, action: types.CodeAction) -> types.CodeAction:
    # Any action, its own or not (the worst case for a client that asks every server): a
    # command of its own.
    action.command = types.Command(ACTION, COMMAND, arguments=[])
    return action


@server.command(COMMAND)
def sort_imports(ls: LanguageServer, *args: Any) -> None:
    return None


if __name__ == "__main__":
    server.start_io()
