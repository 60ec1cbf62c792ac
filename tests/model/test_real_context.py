"""Repository context with the real default model: a sibling file written like the current one
shows how the code goes on, and the model follows it (similar-code retrieval, docs/context.md).

The 1.5B model must have been provisioned (`make test` does it)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.helpers import (
    SERVER_COMMAND,
    end_of,
    get_status,
    inline_params,
    open_doc,
    real_env,
    wait_for_state,
)
from tests.model.test_real_model import require_model

pytestmark = pytest.mark.model

HOOKS = [
    "converter.register_structure_hook(bytes, hooks.bytes_from_hex)",
    "converter.register_unstructure_hook(bytes, hooks.bytes_to_hex)",
    "converter.register_structure_hook(datetime, hooks.datetime_from_iso)",
    "converter.register_unstructure_hook(datetime, hooks.datetime_to_iso)",
    "converter.register_structure_hook(date, hooks.date_from_iso)",
    "converter.register_unstructure_hook(date, hooks.date_to_iso)",
]
# What the sibling does next: nothing in the current file hints at it.
NEXT = "converter.register_structure_hook(Decimal, hooks.decimal_from_text)"
HEAD = (
    "from . import hooks\nfrom .base import Converter\n\n\n"
    "def configure_{}(converter: Converter) -> None:\n"
)
SIBLING = HEAD.format("toml") + "".join(f"    {h}\n" for h in [*HOOKS, NEXT]) + "    return None\n"
CURRENT = HEAD.format("yaml") + "".join(f"    {h}\n" for h in HOOKS) + "    \n"


def env() -> dict[str, str]:
    e = real_env()
    e["ENCLAVE_DEBUG_PROMPTS"] = "1"
    return e


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=env()))
async def workspace_model(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    require_model("1.5b")
    root = tmp_path_factory.mktemp("conv")
    for name, text in {"toml.py": SIBLING, "base.py": "class Converter: ...\n"}.items():
        (root / name).write_text(text)
    (root / "hooks.py").write_text("def bytes_from_hex(v): ...\n")
    lsp_client.root = root  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
            initialization_options={"model": {"size": "1.5b"}, "completion": {"cache": False}},
        )
    )
    status = await wait_for_state(lsp_client, {"ready", "error"}, 180)
    assert status["state"] == "ready", status
    yield
    await lsp_client.shutdown_session()


async def first_line(client: LanguageClient, uri: str) -> tuple[str, str]:
    """The suggestion's first line at the empty line, and the prompt the model saw."""
    line, col = end_of(CURRENT, "date_to_iso)\n    ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    status: dict[str, Any] = await get_status(client)
    assert isinstance(result, types.InlineCompletionList) and result.items, status
    text = result.items[0].insert_text
    assert isinstance(text, str)
    return text.split("\n")[0].strip(), status["lastPrompts"][-1]["prompt"]


async def test_the_model_follows_a_sibling_file_written_alike(
    workspace_model: LanguageClient,
) -> None:
    client = workspace_model
    root: Path = client.root  # type: ignore[attr-defined]
    for _ in range(100):
        index = (await get_status(client))["index"]
        if not index["building"] and index["files"] >= 3:
            break
        await asyncio.sleep(0.1)
    uri = open_doc(client, root / "yaml.py", CURRENT, "python")
    answer, prompt = await first_line(client, uri)
    # The sibling's lines, with what came after them, are the file next to the current one.
    assert f"<|file_sep|>toml.py\n    {HOOKS[1]}\n" in prompt
    assert f"    {HOOKS[-1]}\n    {NEXT}\n" in prompt
    assert prompt.index(NEXT) < prompt.index("<|file_sep|>yaml.py")
    assert answer == NEXT

    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"context": {"enabled": False}, "completion": {"cache": False}}
        )
    )
    await asyncio.sleep(0.1)
    answer_off, prompt_off = await first_line(client, uri)
    assert NEXT not in prompt_off and "decimal_from_text" not in answer_off
