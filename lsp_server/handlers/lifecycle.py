"""initialize, initialized, workspace/didChangeConfiguration, shutdown."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from lsp_server import log
from lsp_server.handlers import workspace
from lsp_server.model.backend import ModelState
from lsp_server.settings import Source, parse_settings, refusal_message, refused_changes

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

logger = logging.getLogger(__name__)


def _apply_settings(ls: EnclaveServer, raw: Any, source: Source) -> None:
    session = ls.session
    settings, warnings = parse_settings(raw, session.settings, source)
    if source != "init":
        # Said once per key: clients send their whole configuration on every change.
        for key in refused_changes(raw, session.settings):
            if key not in session.refused_settings:
                session.refused_settings.add(key)
                warnings.append(refusal_message(key))
    session.settings = settings
    log_problem = log.configure(settings.log.level, settings.log.file)  # logged there
    for warning in warnings:
        logger.warning("%s", warning)
    for warning in [*warnings, *([log_problem] if log_problem else [])]:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=warning)
        )


def initialize(ls: EnclaveServer, params: types.InitializeParams) -> None:
    ls.session.pending_init_options = params.initialization_options
    for folder in workspace.named_folders(params):
        ls.session.ignore.add_root(folder)
    ls.session.context.set_roots(workspace.folders_of(params))


def initialized(ls: EnclaveServer, params: types.InitializedParams) -> None:
    _apply_settings(ls, ls.session.pending_init_options, "init")
    ls.session.on_model_state = _progress_reporter(ls)
    ls.session.start_model()
    workspace.start_indexing(ls)


def did_change_configuration(ls: EnclaveServer, params: types.DidChangeConfigurationParams) -> None:
    _apply_settings(ls, params.settings, "change")
    ls.session.start_model()


async def shutdown(ls: EnclaveServer, params: None) -> None:
    await ls.session.shutdown()


def _progress_reporter(ls: EnclaveServer) -> Callable[[ModelState, str], None]:
    """Work-done progress for model loading, when the client supports it."""
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        return lambda state, reason: None
    current: list[tuple[asyncio.Event, list[str], asyncio.Task[None]]] = []

    async def run(done: asyncio.Event, final: list[str], reason: str) -> None:
        token = f"enclave-load-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception:  # the client may refuse; loading goes on regardless
            logger.debug("client refused a progress token")
            return
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="Enclave", message=reason)
        )
        await done.wait()
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=final[0]))

    def on_state(state: ModelState, reason: str) -> None:
        if state is ModelState.LOADING and not current:
            done, final = asyncio.Event(), [""]
            current.append((done, final, asyncio.ensure_future(run(done, final, reason))))
        elif state is not ModelState.LOADING and current:
            done, final, _ = current.pop()
            final[0] = reason
            done.set()

    return on_state
