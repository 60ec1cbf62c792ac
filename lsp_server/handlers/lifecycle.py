"""initialize, initialized, workspace/didChangeConfiguration, shutdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from lsp_server.handlers.lsp import client_features, workspace_folders

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer


def initialize(ls: EnclaveServer, params: types.InitializeParams) -> None:
    folders = workspace_folders(params)
    features = client_features(params.capabilities)
    ls.session.initialize(features, params.initialization_options, folders.named, folders.indexed)


def initialized(ls: EnclaveServer, params: types.InitializedParams) -> None:
    ls.session.initialized()


def did_change_configuration(ls: EnclaveServer, params: types.DidChangeConfigurationParams) -> None:
    ls.session.change_settings(params.settings)


async def shutdown(ls: EnclaveServer, params: None) -> None:
    await ls.session.shutdown()
