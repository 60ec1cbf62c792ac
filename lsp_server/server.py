"""Builds the language server and registers every handler from one table."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from lsp_server import __version__
from lsp_server.handlers import completion, inline_completion, lifecycle, status, text_sync
from lsp_server.handlers.boundary import converting_errors
from lsp_server.session import Session

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

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

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
        self.session = Session(self.protocol.notify)


@dataclass(frozen=True)
class Route:
    method: str
    handler: Callable[..., Any]
    options: Any = None


ROUTES: tuple[Route, ...] = (
    Route(types.INITIALIZE, lifecycle.initialize),
    Route(types.INITIALIZED, lifecycle.initialized),
    Route(types.WORKSPACE_DID_CHANGE_CONFIGURATION, lifecycle.did_change_configuration),
    Route(types.SHUTDOWN, lifecycle.shutdown),
    Route(types.TEXT_DOCUMENT_DID_OPEN, text_sync.did_open),
    Route(types.TEXT_DOCUMENT_DID_CHANGE, text_sync.did_change),
    Route(types.TEXT_DOCUMENT_DID_CLOSE, text_sync.did_close),
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
)


def build_server() -> EnclaveServer:
    server = EnclaveServer()
    for route in ROUTES:
        handler = converting_errors(route.handler)
        if route.options is None:
            server.feature(route.method)(handler)
        else:
            server.feature(route.method, route.options)(handler)
    return server
