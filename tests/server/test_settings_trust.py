"""Settings that decide where code goes, which model file is parsed or where files are written
are the user's: honoured from initializationOptions, ignored (and said so once) in
workspace/didChangeConfiguration, in every shape the parser accepts. Through the real server
and worker (fake engine); a trap listener on loopback sees whether code was ever sent."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.settings import USER_ONLY
from tests.helpers import (
    FAKE_MODEL,
    end_of,
    fake_env,
    get_status,
    inline_params,
    open_doc,
    wait_for_state,
)

SERVER = [sys.executable, "-m", "lsp_server", "serve"]


class Trap:
    """A loopback listener that counts connections (and answers none of them)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=fake_env(text="1")))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    lsp_client.root = tmp_path_factory.mktemp("trust")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def initialize(client: LanguageClient, options: dict[str, Any]) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options=options,
        )
    )


def attacks(trap_url: str, other_model: str, log_file: str) -> list[dict[str, Any]]:
    """One change per shape: nested, dotted, under `enclave` (both), keys in another case."""
    values = {
        "backend.kind": "openai",
        "backend.url": trap_url,
        "backend.allowHosts": ["127.0.0.1", "attacker.example"],
        "backend.model": "an-upstream-of-the-attackers-choice",
        "model.path": other_model,
        "log.file": log_file,
        "model.stateCacheOnDisk": False,
    }
    nested: dict[str, Any] = {}
    for key, value in values.items():
        section, name = key.split(".")
        nested.setdefault(section, {})[name] = value
    return [
        nested,
        dict(values),
        {"enclave": nested},
        {"enclave": dict(values)},
        {"enclave": {"backend": {"kind": "openai"}, "backend.url": trap_url}},
        {k.upper(): v for k, v in values.items()},
        {"Enclave": nested},
        {"BACKEND": {"URL": trap_url, "Kind": "openai"}},
    ]


async def test_init_options_choose_the_backend(client: LanguageClient, trap: Trap) -> None:
    await initialize(client, {"backend": {"kind": "openai", "url": trap.url}})
    for _ in range(100):
        if trap.connections:
            break
        await asyncio.sleep(0.05)
    assert trap.connections  # honoured: the server went to the backend the user chose


async def test_a_change_cannot_choose_where_code_goes(
    client: LanguageClient,
    trap: Trap,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    await initialize(client, {"model": {"path": FAKE_MODEL}})
    before = await wait_for_state(client, {"ready"}, 30)
    # Not a model: were it loaded, the server would say so (state "error").
    other_model = tmp_path / "other.gguf"
    other_model.write_bytes(b"not a model" * 1000)
    log_file = tmp_path / "enclave.log"
    for raw in attacks(trap.url, str(other_model), str(log_file)) * 2:
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(raw))
    # A completion after the changes is answered by the model the user chose.
    root: Path = client.root  # type: ignore[attr-defined]
    text = "def f():\n    return \n"
    uri = open_doc(client, root / "a.py", text, "python")
    line, col = end_of(text, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList)
    assert [i.insert_text for i in result.items] == ["1"]
    after = await get_status(client)
    assert after["state"] == "ready" and after["message"] == before["message"]
    assert after["workerPid"] == before["workerPid"]
    assert after["modelInfo"] == before["modelInfo"]
    await asyncio.sleep(0.5)  # room for a connection or a log file that should not come
    assert trap.connections == 0
    assert not log_file.exists()
    # Said once per key (the log and the user), though every change was sent twice.
    err = capfd.readouterr().err
    for key in USER_ONLY:
        said = f"'{key}' is taken from initializationOptions only"
        assert err.count(said) == 1, key
        assert sum(said in m.message for m in client.messages) == 1, key


async def test_a_change_cannot_widen_the_allowed_hosts(client: LanguageClient) -> None:
    # A public address the user did not allow: refused before any connection. A change that
    # allows it must not make the server try it (the egress guard fails the test if it does).
    public = "http://203.0.113.7:9"
    await initialize(client, {"backend": {"kind": "openai", "url": public}})
    before = await wait_for_state(client, {"error"}, 30)
    assert "host policy" in before["message"]
    for raw in (
        {"backend": {"allowHosts": ["203.0.113.7"]}},
        {"backend.allowHosts": ["203.0.113.7"]},
        {"enclave": {"backend": {"allowHosts": ["203.0.113.7"], "url": public}}},
    ):
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(raw))
    await asyncio.sleep(0.5)
    after = await get_status(client)
    assert after["state"] == "error" and "host policy" in after["message"]
