"""Helpers the tests share: the server command, the fake model and its environment, waiting
for the server's state, and building LSP requests. Fixtures and hooks live in conftest.py."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fake_engine import FakeScript

DATA = Path(__file__).parent / "data"

# Where the egress guard (egress_guard/sitecustomize.py) records refused connections; conftest.py
# hands it to every process of the run through the environment.
EGRESS_LOG = Path(tempfile.gettempdir()) / f"enclave-egress-{os.getpid()}.log"

SERVER_COMMAND = [sys.executable, "-m", "lsp_server", "serve", "--log-level", "debug"]


def _make_fake_model() -> str:
    """A file that passes the GGUF shape check (magic, size); the fake engine never reads it."""
    path = Path(tempfile.gettempdir()) / "enclave-tests" / "fake-model.gguf"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(b"GGUF\x03\x00\x00\x00")
        f.truncate(2 << 20)  # sparse: no disk used
    return str(path)


FAKE_MODEL = _make_fake_model()


def fake_env(**script: Any) -> dict[str, str]:
    """Environment for a server whose worker runs the scripted fake engine (tests/fake_engine.py,
    loaded by the worker's test hook); the script's keys are FakeScript's fields."""
    FakeScript(**script)  # a typo fails here, not as a load failure in the server
    env = dict(os.environ)
    env["ENCLAVE_FAKE_MODEL"] = json.dumps(script)
    return env


def real_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ENCLAVE_FAKE_MODEL", None)
    return env


async def start_in_workspace(client: Any, root: Path) -> None:
    """Initialize with `root` as the workspace folder and the fake model; wait until ready."""
    from pytest_lsp import client_capabilities

    client.root = root
    # VS Code's capabilities say it registers watched files dynamically: answer as it does (an
    # unanswered request fails whichever test is running when it arrives).
    if types.CLIENT_REGISTER_CAPABILITY not in client.protocol.fm.features:

        @client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def _register(params: types.RegistrationParams) -> None:
            client.registrations = [*getattr(client, "registrations", []), *params.registrations]

    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
            initialization_options={"model": {"path": FAKE_MODEL}},
        )
    )
    await wait_for_state(client, {"ready"}, 30)


async def get_status(client: Any) -> dict[str, Any]:
    result = await client.protocol.send_request_async("enclave/getStatus", {})
    return _to_dict(result)


def _to_dict(obj: Any) -> Any:
    if hasattr(obj, "_asdict"):
        return _to_dict(obj._asdict())
    if isinstance(obj, dict):
        return {k: _to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_to_dict(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: _to_dict(v) for k, v in vars(obj).items()}
    return obj


async def wait_for_state(client: Any, states: set[str], timeout: float = 120.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await get_status(client)
        if status.get("state") in states:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"server never reached {states}: {status}")
        await asyncio.sleep(0.1)


def open_doc(client: Any, path: Path | str, text: str, language_id: str, version: int = 1) -> str:
    uri = Path(path).resolve().as_uri() if not str(path).startswith("file:") else str(path)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language_id, version, text))
    )
    return uri


def inline_params(
    uri: str,
    line: int,
    character: int,
    kind: types.InlineCompletionTriggerKind = types.InlineCompletionTriggerKind.Automatic,
) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(trigger_kind=kind),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character),
    )


def position_of(text: str, offset: int) -> tuple[int, int]:
    """(line, UTF-16 character) of a str offset."""
    head = text[:offset]
    col = head[head.rfind("\n") + 1 :]
    return head.count("\n"), len(col.encode("utf-16-le")) // 2


def end_of(text: str, marker: str) -> tuple[int, int]:
    """(line, UTF-16 character) just after the first occurrence of `marker`."""
    return position_of(text, text.index(marker) + len(marker))


# The file the editor tests (Neovim, Emacs) open: an empty `return` to complete, a function to
# refactor or explain, and a division by zero for the review.
EDITOR_SAMPLE = '''\
def area(width, height):
    """Return the area of a width x height rectangle."""
    return


def average(values):
    total = 0
    for v in values:
        total += v
    return total / 0
'''


def enclave_command() -> list[str]:
    """`enclave serve` as an editor starts it: the venv's script, else the module."""
    beside = Path(sys.executable).parent / "enclave"
    if beside.exists():
        return [str(beside), "serve"]
    return [sys.executable, "-m", "lsp_server", "serve"]
