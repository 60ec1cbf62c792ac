"""The actions bench's side of the protocol: one `enclave serve`, driven as VS Code drives it.

Review and explain are the server's commands (their names taken from executeCommandProvider at
initialize, matched by suffix, so `enclave.review` and `enclave.lsp.review` both work); review
findings are the diagnostics the server publishes. Refactors are its code actions of kind
refactor.rewrite, resolved through codeAction/resolve; the fix is its quick fix for a
diagnostic of another tool. Every request's model jobs are read back from enclave/getStatus
(`recent`: tokens and times; `lastPrompts`: the answer's raw text)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.lsp_client import BenchServer, plain
from lsp_server.context.documents import Document, Position
from lsp_server.context.languages import lsp_language_id

CAPABILITIES = types.ClientCapabilities(
    text_document=types.TextDocumentClientCapabilities(
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]
                )
            ),
            data_support=True,
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
        ),
        publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
    ),
)


@dataclass
class Jobs:
    """The model jobs one request caused."""

    stats: list[dict[str, Any]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # raw model text, job by job

    @property
    def generated_tokens(self) -> int:
        return sum(int(s.get("generated_tokens", 0)) for s in self.stats)

    @property
    def generate_ms(self) -> float:
        return sum(float(s.get("generate_ms", 0.0)) for s in self.stats)

    def summary(self) -> dict[str, Any]:
        keys = ("prompt_tokens", "reused_tokens", "generated_tokens", "prompt_ms", "generate_ms")
        out: dict[str, Any] = {
            k: round(sum(float(s.get(k, 0)) for s in self.stats), 1) for k in keys
        }
        out["jobs"] = len(self.stats)
        out["stop_reasons"] = [s.get("stop_reason", "") for s in self.stats]
        return out


def lsp_range(start_line: int, end_line: int, text: str) -> types.Range:
    """Whole lines start..end (0-based) of `text`."""
    lines = text.split("\n")
    last = lines[end_line] if end_line < len(lines) else ""
    return types.Range(
        types.Position(start_line, 0),
        types.Position(end_line, len(last.encode("utf-16-le")) // 2),
    )


def apply_workspace_edit(text: str, uri: str, edit: types.WorkspaceEdit) -> tuple[str, list[str]]:
    """The document after the edit's text edits for `uri`, and the inserted texts."""
    doc = Document(uri, lsp_language_id(uri), 0, text)
    edits: list[Any] = [
        e
        for change in edit.document_changes or []
        if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri
        for e in change.edits
    ]
    edits += (edit.changes or {}).get(uri, [])
    spans: list[tuple[int, int, str]] = []
    for e in edits:
        r = e.range
        start = doc.offset_at(Position(r.start.line, r.start.character))
        end = doc.offset_at(Position(r.end.line, r.end.character))
        new = e.new_text if isinstance(e, types.TextEdit) else str(getattr(e, "snippet", ""))
        spans.append((start, end, new))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text, [new for _, _, new in sorted(spans)]


class ActionsServer(BenchServer):
    def __init__(self, root: Path, size: str, threads: int = 0) -> None:
        options = {
            "model": {"size": size, "threads": threads},
            # Actions only: no completions, no index, nothing in the background.
            "completion": {"enabled": False, "prefetch": False},
            "context": {"enabled": False},
        }
        super().__init__(
            root,
            options,
            name="enclave-actions-bench",
            capabilities=CAPABILITIES,
            wait_for_index=False,
        )
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.messages: list[str] = []
        self.commands: dict[str, str] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def _on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
        def _on_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

    async def start(self) -> types.ServerCapabilities:
        caps = await super().start()
        provider = caps.execute_command_provider
        listed = list(provider.commands) if provider is not None else []
        for action in ("explain", "review"):
            # `enclave.review` today, `enclave.lsp.review` after the rename: match the suffix.
            found = [c for c in listed if str(c).endswith(f".{action}")]
            if not found:
                raise RuntimeError(f"the server lists no *.{action} command: {listed}")
            self.commands[action] = str(found[0])
        return caps

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.version += 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, lsp_language_id(str(path)), self.version, text)
            )
        )
        return uri

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        self.diagnostics.pop(uri, None)

    async def jobs(self) -> Jobs:
        recent, prompts = await self.new_jobs()
        actions = [r for r in recent if r.get("kind") == "action"]
        ids = {r.get("job_id") for r in actions}
        return Jobs(actions, [str(p.get("text", "")) for p in prompts if p.get("job_id") in ids])

    async def command(self, action: str, argument: dict[str, Any]) -> tuple[Any, float, Jobs]:
        start = time.monotonic()
        result = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(self.commands[action], [argument])
        )
        seconds = time.monotonic() - start
        return plain(result), seconds, await self.jobs()

    async def code_actions(
        self,
        uri: str,
        rng: types.Range,
        kind: str,
        diagnostics: list[types.Diagnostic] | None = None,
    ) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                rng,
                types.CodeActionContext(diagnostics=diagnostics or [], only=[kind]),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def resolve(self, action: types.CodeAction) -> tuple[types.CodeAction, float, Jobs]:
        start = time.monotonic()
        resolved = await self.client.code_action_resolve_async(action)
        return resolved, time.monotonic() - start, await self.jobs()
