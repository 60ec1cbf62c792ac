"""A small LSP client that starts `enclave serve` and asks for one inline completion: what
`enclave complete` runs, and the quickest check that the whole path works."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from lsp_server import __version__
from lsp_server.context.languages import lsp_language_id
from lsp_server.errors import EnclaveError


def _field(params: Any, name: str) -> Any:
    if isinstance(params, dict):
        return params.get(name)
    return getattr(params, name, None)


def utf16_column(line_text: str, column: int) -> int:
    """1-based code-point column -> 0-based UTF-16 character offset."""
    head = line_text[: max(0, column - 1)]
    return len(head.encode("utf-16-le")) // 2


async def complete_at(
    file: Path, line: int, column: int, settings: dict[str, Any], timeout: float
) -> str:
    text = file.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise EnclaveError(f"{file} has {len(lines)} lines; line {line} is outside it")
    position = types.Position(line - 1, utf16_column(lines[line - 1], column))
    uri = file.resolve().as_uri()

    client = LanguageClient("enclave-complete", __version__)
    status: dict[str, Any] = {}
    settled = asyncio.Event()

    @client.feature("enclave/status")  # type: ignore[untyped-decorator]
    def on_status(params: Any) -> None:
        for key in ("state", "message", "lastEmptyReason"):
            status[key] = _field(params, key)
        if status["state"] in ("ready", "error"):
            settled.set()

    await client.start_io(sys.executable, "-m", "lsp_server", "serve", "--log-level", "warning")
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options=settings,
                root_uri=file.resolve().parent.as_uri(),
            )
        )
        client.initialized(types.InitializedParams())
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, lsp_language_id(uri), 1, text)
            )
        )
        print("enclave: loading the model...", file=sys.stderr)
        await asyncio.wait_for(settled.wait(), timeout)
        if status.get("state") == "error":
            raise EnclaveError(str(status.get("message")))
        result = await asyncio.wait_for(
            client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                    text_document=types.TextDocumentIdentifier(uri),
                    position=position,
                )
            ),
            timeout,
        )
        items = result.items if isinstance(result, types.InlineCompletionList) else result or []
        if not items:
            reason = status.get("lastEmptyReason") or "no reason given"
            print(f"enclave: no suggestion: {reason}", file=sys.stderr)
            return ""
        insert = items[0].insert_text
        return insert if isinstance(insert, str) else insert.value
    finally:
        try:
            await asyncio.wait_for(client.shutdown_async(None), 10)
            client.exit(None)
        except Exception:
            pass
        await client.stop()  # type: ignore[no-untyped-call]
