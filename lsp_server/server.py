"""Builds the language server and registers every handler from one table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, BinaryIO

from lsprotocol import types
from lsprotocol.types import ErrorCodes
from pygls.io_ import StdinAsyncReader, StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lsp_server import __version__
from lsp_server.handlers import (
    code_action,
    commands,
    completion,
    focus,
    inline_completion,
    lifecycle,
    status,
    text_sync,
    workspace,
)
from lsp_server.handlers.boundary import converting_errors
from lsp_server.handlers.lsp import LspClient
from lsp_server.session import Session
from lsp_server.transport import read_messages, send_error

logger = logging.getLogger(__name__)


class EnclaveProtocol(LanguageServerProtocol):
    """pygls' protocol with Enclave's own document store in place of pygls' workspace copy
    (which drops bad edits silently), and positions always in UTF-16."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = [types.PositionEncodingKind.Utf16]
        return (yield from super().lsp_initialize(params))

    _initialized = False

    def handle_message(self, message: Any) -> None:
        method = getattr(message, "method", None)
        if method == types.INITIALIZE:
            self._initialized = True
        elif not self._initialized and method is not None and hasattr(message, "id"):
            send_error(self, message.id, ErrorCodes.ServerNotInitialized, "initialize first")
            return
        super().handle_message(message)

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    def invalid_notification(self, method: str, params: Any) -> None:
        """A notification whose params could not be read (transport.py): a document change
        that was dropped leaves its document out of sync."""
        if method == types.TEXT_DOCUMENT_DID_CHANGE and isinstance(params, dict):
            doc = params.get("textDocument")
            uri = doc.get("uri") if isinstance(doc, dict) else None
            if isinstance(uri, str) and isinstance(self._server, EnclaveServer):
                self._server.session.reject_change(uri, "a change could not be read")

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: Any) -> Generator[Any, Any, None]:
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)


class EnclaveServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "enclave",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=EnclaveProtocol,
        )
        self.session = Session(LspClient(self))

    # pygls' start_io/start_tcp, with Enclave's message loop (transport.py) in place of
    # pygls' own, which leaves malformed requests unanswered.

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = threading.Event()
        reader = StdinAsyncReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(read_messages(self._stop_event, reader, self.protocol))
        except BrokenPipeError:
            logger.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)
            await read_messages(stop_event, reader, self.protocol)
            self.shutdown()  # type: ignore[no-untyped-call]

        async def serve() -> None:
            server = await asyncio.start_server(connection, host, port)
            logger.info("serving LSP on %s:%s", host, port)
            async with server:
                await server.serve_forever()

        with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
            asyncio.run(serve())


@dataclass(frozen=True)
class Route:
    method: str  # an LSP method, or a command's name (workspace/executeCommand)
    handler: Callable[..., Any]
    options: Any = None
    command: bool = False


def _command(name: str, handler: Callable[..., Awaitable[Any]]) -> Route:
    # pygls reads a command handler's annotations at run time (typing.get_type_hints) to convert
    # its arguments; these resolve, and `*arguments` passes the JSON values through as they are.
    async def run(ls: Any, *arguments: Any) -> Any:
        return await handler(ls, *arguments)

    run.__name__ = run.__qualname__ = handler.__name__
    return Route(name, run, command=True)


ROUTES: tuple[Route, ...] = (
    Route(types.INITIALIZE, lifecycle.initialize),
    Route(types.INITIALIZED, lifecycle.initialized),
    Route(types.WORKSPACE_DID_CHANGE_CONFIGURATION, lifecycle.did_change_configuration),
    Route(types.SHUTDOWN, lifecycle.shutdown),
    Route(types.TEXT_DOCUMENT_DID_OPEN, text_sync.did_open),
    Route(types.TEXT_DOCUMENT_DID_CHANGE, text_sync.did_change),
    Route(types.TEXT_DOCUMENT_DID_CLOSE, text_sync.did_close),
    Route(focus.FOCUS_NOTIFICATION, focus.did_focus),
    Route(types.TEXT_DOCUMENT_DID_SAVE, workspace.did_save),
    Route(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, workspace.did_change_watched_files),
    Route(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, workspace.did_change_workspace_folders),
    Route(
        types.TEXT_DOCUMENT_INLINE_COMPLETION,
        inline_completion.inline_completion,
        types.InlineCompletionOptions(),
    ),
    Route(
        types.TEXT_DOCUMENT_COMPLETION,
        completion.completion,
        types.CompletionOptions(trigger_characters=[".", "(", " "]),
    ),
    Route(status.STATUS_REQUEST, status.get_status),
    Route(status.DOCUMENT_STATE_REQUEST, status.document_state),
    Route(types.TEXT_DOCUMENT_CODE_ACTION, code_action.code_actions, code_action.OPTIONS),
    Route(types.CODE_ACTION_RESOLVE, code_action.resolve),
    _command(commands.EXPLAIN, commands.explain),
    _command(commands.REWRITE, commands.rewrite),
    _command(commands.REFACTOR, commands.refactor),
    _command(commands.REVIEW, commands.review),
    _command(commands.ACCEPTED, commands.accepted),
)


def build_server() -> EnclaveServer:
    server = EnclaveServer()
    for route in ROUTES:
        handler = converting_errors(route.handler)
        if route.command:
            server.command(route.method)(handler)  # listed in executeCommandProvider
        elif route.options is None:
            server.feature(route.method)(handler)
        else:
            server.feature(route.method, route.options)(handler)
    return server
