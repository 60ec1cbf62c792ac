"""Repository context through the real server and worker (fake engine): the workspace is
indexed in the background and the prompt carries another file's definition used at the
cursor, in the model's multi-file format."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.helpers import (
    end_of,
    fake_env,
    get_status,
    inline_params,
    open_doc,
    start_in_workspace,
)

LIB = '''def polygon_area(points: list[tuple[float, float]]) -> float:
    """Area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        total += x1 * y2 - x2 * y1
        total += 0
    return abs(total) / 2
'''
MAIN = (
    """from geometry import polygon_area


def field_size(corners):
    area = polygon_area(corners)
    return """
    + " \n"
)
SECRET_VALUE = "sk_live_context_canary_0042"


def env() -> dict[str, str]:
    e = fake_env(text="area\n")
    e["ENCLAVE_DEBUG_PROMPTS"] = "1"
    return e


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "lsp_server", "serve"], server_env=env()
    )
)
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("repo")
    (root / "geometry.py").write_text(LIB)
    (root / "main.py").write_text(MAIN)
    (root / ".env.py").write_text(f"polygon_area = '{SECRET_VALUE}'\n")
    await start_in_workspace(lsp_client, root)
    yield
    await lsp_client.shutdown_session()


async def wait_indexed(client: LanguageClient, files: int) -> dict[str, object]:
    for _ in range(100):
        status = await get_status(client)
        index = status["index"]
        if not index["building"] and index["files"] >= files:
            return index  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError(f"workspace never indexed: {status}")


async def test_prompt_contains_another_files_definition(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    index = await wait_indexed(client, 2)
    assert index["files"] == 2  # the .env file is never indexed
    uri = open_doc(client, root / "main.py", MAIN, "python")
    line, col = end_of(MAIN, "return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList)
    assert [i.insert_text for i in result.items] == ["area"]
    prompts = (await get_status(client))["lastPrompts"]
    prompt = prompts[-1]["prompt"]
    assert prompt.startswith(f"<|repo_name|>{root.name}\n<|file_sep|>geometry.py\n")
    assert "def polygon_area(points: list[tuple[float, float]]) -> float:" in prompt
    assert "Area of a simple polygon" in prompt
    assert "<|file_sep|>main.py\n<|fim_prefix|>from geometry import polygon_area" in prompt
    assert SECRET_VALUE not in prompt


async def test_context_can_be_turned_off(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    await wait_indexed(client, 2)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"context": {"enabled": False}})
    )
    uri = open_doc(client, root / "main.py", MAIN, "python")
    line, col = end_of(MAIN, "return ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = (await get_status(client))["lastPrompts"][-1]["prompt"]
    assert "polygon_area(points" not in prompt and "<|repo_name|>" not in prompt


async def test_saved_and_watched_files_update_the_index(client: LanguageClient) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    await wait_indexed(client, 2)
    (root / "extra.py").write_text("def triangle_area(a: float, b: float) -> float:\n    ...\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent((root / "extra.py").as_uri(), types.FileChangeType.Created)]
        )
    )
    await wait_indexed(client, 3)
    text = "from extra import triangle_area\n\nx = triangle_area(1, 2)\ny = \n"
    uri = open_doc(client, root / "use.py", text, "python")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    line, col = end_of(text, "y = ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = (await get_status(client))["lastPrompts"][-1]["prompt"]
    assert "<|file_sep|>extra.py\ndef triangle_area(a: float, b: float) -> float:" in prompt


async def test_a_base_class_method_reached_through_self_is_in_the_prompt(
    client: LanguageClient,
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    await wait_indexed(client, 2)
    files = {
        "transport.py": "class Transport:\n    def send_request(self, method: str) -> int:\n"
        '        """Send a request, return its id."""\n        return 0\n',
        "session.py": "from transport import Transport\n\n\nclass Session(Transport):\n    pass\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent((root / n).as_uri(), types.FileChangeType.Created) for n in files]
        )
    )
    await wait_indexed(client, 4)
    # client.py never imports transport.py: send_request is found through Session's base.
    text = (
        "from session import Session\n\n\nclass Client(Session):\n    def ping(self):\n"
        "        self.send_request('ping')\n        return \n"
    )
    uri = open_doc(client, root / "client.py", text, "python")
    line, col = end_of(text, "return ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = (await get_status(client))["lastPrompts"][-1]["prompt"]
    assert (
        "<|file_sep|>transport.py\nclass Transport:\n    def send_request(self, method: str)"
        in (prompt)
    )


async def test_workspace_folders_added_and_removed_are_indexed_and_dropped(
    client: LanguageClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    await wait_indexed(client, 2)
    other = tmp_path_factory.mktemp("shapes")
    (other / "circle.py").write_text("def circle_area(r: float) -> float:\n    ...\n")
    (other / "square.py").write_text("def square_area(a: float) -> float:\n    ...\n")
    folder = types.WorkspaceFolder(other.as_uri(), other.name)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent([folder], []))
    )
    index = await wait_indexed(client, 4)
    assert index["files"] == 4 and str(other) in index["roots"]

    text = "from circle import circle_area\n\nx = circle_area(2)\ny = \n"
    uri = open_doc(client, root / "use.py", text, "python")
    line, col = end_of(text, "y = ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = (await get_status(client))["lastPrompts"][-1]["prompt"]
    assert "def circle_area(r: float) -> float:" in prompt

    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(types.WorkspaceFoldersChangeEvent([], [folder]))
    )
    for _ in range(100):
        index = (await get_status(client))["index"]
        if index["files"] == 2 and not index["building"]:
            break
        await asyncio.sleep(0.1)
    assert index["files"] == 2 and str(other) not in index["roots"]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=uri),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(3, 4), types.Position(3, 4)), text=" "
                )
            ],
        )
    )
    await client.text_document_inline_completion_async(inline_params(uri, line, col + 1))
    prompt = (await get_status(client))["lastPrompts"][-1]["prompt"]
    assert "def circle_area" not in prompt  # its folder is no longer part of the workspace
