"""Ignore rules through the real server and worker (fake engine), read off the prompts the
worker really built: a workspace named each of the four ways, an ignored file opened by every
path form and symlink, rules re-read on change however the client reports it (or does not).
An ignored file is never completed, never warmed, never indexed, never a context piece."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.helpers import (
    FAKE_MODEL,
    _to_dict,
    end_of,
    fake_env,
    get_status,
    inline_params,
    open_doc,
    wait_for_state,
)

CANARY = "canary_ignored_4d1f"
LIB = "def polygon_area(points):\n    return 0.5 * len(points)\n"
PRIVATE = f'def leaked_helper():\n    return "{CANARY}_private"\n'
NESTED = f'def nested_helper():\n    return "{CANARY}_nested"\n'
MAIN = (
    "from geometry import polygon_area\n"
    "from private.keys import leaked_helper\n"
    "from app.local_secrets import nested_helper\n\n\n"
    "def total(corners):\n"
    "    a = polygon_area(corners) + leaked_helper() + nested_helper()\n"
    "    return \n"
)
INDEXED = 2  # geometry.py, main.py


def env() -> dict[str, str]:
    e = fake_env(text="a")
    e["ENCLAVE_DEBUG_PROMPTS"] = "1"
    return e


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "lsp_server", "serve"], server_env=env()
    )
)
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        lsp_client.registrations = [  # type: ignore[attr-defined]
            *getattr(lsp_client, "registrations", []),
            *params.registrations,
        ]

    base = tmp_path_factory.mktemp("ignore")
    root = base / "ws"
    for rel, text in {
        ".enclaveignore": "private/\n",
        "app/.enclaveignore": "/local_secrets.py\n",
        "private/keys.py": PRIVATE,
        "app/local_secrets.py": NESTED,
        "geometry.py": LIB,
        "main.py": MAIN,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    lsp_client.root = root  # type: ignore[attr-defined]
    lsp_client.base = base  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def initialize(client: LanguageClient, naming: str) -> Path:
    """Initialize naming the workspace one way; returns its root."""
    root: Path = client.root  # type: ignore[attr-defined]
    namings: dict[str, dict[str, Any]] = {
        "rootPath": {"root_path": str(root)},
        "rootUri": {"root_uri": root.as_uri()},
        "workspaceFolders": {"workspace_folders": [types.WorkspaceFolder(root.as_uri(), "ws")]},
        "added later": {},
    }
    named = namings[naming]
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"path": FAKE_MODEL}},
            **named,
        )
    )
    if naming == "added later":
        client.workspace_did_change_workspace_folders(
            types.DidChangeWorkspaceFoldersParams(
                types.WorkspaceFoldersChangeEvent(
                    added=[types.WorkspaceFolder(root.as_uri(), "ws")], removed=[]
                )
            )
        )
    await wait_for_state(client, {"ready"}, 30)
    await wait_indexed(client)
    return root


async def wait_indexed(client: LanguageClient) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for _ in range(100):
        index = (await get_status(client))["index"]
        if index["roots"] and not index["building"] and index["files"] >= INDEXED:
            return index
        await asyncio.sleep(0.1)
    raise AssertionError(f"never indexed: {index}")


async def prompts(client: LanguageClient, after: int = -1) -> list[str]:
    """The prompts of the jobs after job `after`."""
    status = await client.protocol.send_request_async("enclave/getStatus", {"after": after})
    return [p["prompt"] for p in _to_dict(status).get("lastPrompts", [])]


async def last_job(client: LanguageClient) -> int:
    recent = (await get_status(client)).get("lastPrompts", [])
    return int(recent[-1]["job_id"]) if recent else -1


async def complete_main(client: LanguageClient, root: Path, text: str = MAIN) -> str:
    """Complete in main.py (not ignored); returns the prompt the worker built."""
    uri = (root / "main.py").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    line, col = end_of(text, "    return ")
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList)
    assert [i.insert_text for i in result.items] == ["a"]
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    return (await prompts(client))[-1]


async def assert_left_alone(client: LanguageClient, uri: str, text: str) -> None:
    """Open, edit, focus and complete an ignored document: empty with the reason, no warm-up,
    and its text in no prompt."""
    after = await last_job(client)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    edited = text + "x = \n"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(2, 0), types.Position(2, 0)), text="x = \n"
                )
            ],
        )
    )
    line, col = end_of(edited, "x = ")
    client.protocol.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
    )
    result = await client.text_document_inline_completion_async(inline_params(uri, line, col))
    assert isinstance(result, types.InlineCompletionList) and not result.items, uri
    status = await get_status(client)
    assert "ignore rules" in status["lastEmptyReason"], uri
    await asyncio.sleep(0.3)  # a warm-up, if one were started, would be done by now
    assert all(CANARY not in p for p in await prompts(client, after)), uri
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )


@pytest.mark.parametrize("naming", ["rootPath", "rootUri", "workspaceFolders", "added later"])
async def test_rules_hold_however_the_workspace_is_named(
    client: LanguageClient, naming: str
) -> None:
    root = await initialize(client, naming)
    index = await wait_indexed(client)
    assert index["files"] == INDEXED  # neither ignored file was indexed
    prompt = await complete_main(client, root)
    assert "def polygon_area(points):" in prompt  # the context works ...
    assert CANARY not in prompt and "leaked_helper():" not in prompt  # ... without them
    assert "nested_helper():" not in prompt
    for rel, text in (("private/keys.py", PRIVATE), ("app/local_secrets.py", NESTED)):
        await assert_left_alone(client, (root / rel).as_uri(), text)
    assert CANARY not in await complete_main(client, root)


def uri_forms(root: Path, base: Path) -> dict[str, str]:
    """The ignored private/keys.py (or an ignored file) named every way a client might."""
    keys = root / "private" / "keys.py"
    plain = keys.as_uri()
    (root / "alias.py").symlink_to(keys)
    (root / "view").symlink_to(root / "private")
    (base / "outside.py").symlink_to(keys)
    (root / "chain.py").symlink_to(root / "alias.py")
    return {
        "plain": plain,
        "percent-encoded": plain.replace("/private/", "/%70%72ivate/"),
        "encoded dot-dot": plain.replace("/private/", "/app/%2E%2e/private/"),
        "encoded slash": plain.replace("/private/keys", "/private%2Fkeys"),
        "dot segments": plain.replace("/private/", "/./app/../private/"),
        "double slashes": plain.replace("/private/", "//private//"),
        "localhost host": plain.replace("file:///", "file://localhost/"),
        "other host": plain.replace("file:///", "file://build-host/"),
        "scheme case": plain.replace("file:", "FILE:"),
        "query and fragment": plain + "?v=1#L1",
        "file symlink": (root / "alias.py").as_uri(),
        "folder symlink": (root / "view" / "keys.py").as_uri(),
        "symlink from outside": (base / "outside.py").as_uri(),
        "symlink chain": (root / "chain.py").as_uri(),
        "nested rule": (root / "app" / "local_secrets.py").as_uri(),
        "upper-case built-in": (root / "deploy" / "ID_RSA.py").as_uri(),
        "upper-case .env": (root / ".ENV").as_uri(),
        "kube config": (root / ".kube" / "config").as_uri(),
        "git diff view": f"git:{keys}?%7B%22ref%22%3A%22HEAD%22%7D",
    }


async def test_no_path_form_walks_around_a_rule(client: LanguageClient) -> None:
    root = await initialize(client, "workspaceFolders")
    forms = uri_forms(root, client.base)  # type: ignore[attr-defined]
    for name, uri in forms.items():
        await assert_left_alone(client, uri, f"TOKEN = '{CANARY}_{name}'\n\n")
    # Nothing of theirs became a context piece (recent edits) for a file that is not ignored.
    prompt = await complete_main(client, root)
    assert CANARY not in prompt and "def polygon_area(points):" in prompt
    assert (await get_status(client))["index"]["files"] == INDEXED


@pytest.mark.parametrize("report", ["didChangeWatchedFiles", "didSave", "neither"])
async def test_rules_are_re_read_when_they_change(client: LanguageClient, report: str) -> None:
    # A rule added in a new nested ignore file, in a folder no request goes through: only the
    # report (or, with none, the server's own re-stat of ignore files) can tell the server.
    root = await initialize(client, "workspaceFolders")
    helper = f'def shared_helper():\n    return "{CANARY}_later"\n'
    main = "from lib.shared import shared_helper\n" + MAIN.replace(
        "    return ", "    s = shared_helper()\n    return "
    )
    (root / "lib").mkdir()
    (root / "lib" / "shared.py").write_text(helper)
    (root / "main.py").write_text(main)  # what the index knows of main.py between requests
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [
                types.FileEvent((root / "lib/shared.py").as_uri(), types.FileChangeType.Created),
                types.FileEvent((root / "main.py").as_uri(), types.FileChangeType.Changed),
            ]
        )
    )
    for _ in range(200):  # not ignored yet: its definition is context for main.py
        if f"{CANARY}_later" in await complete_main(client, root, main):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("lib/shared.py never reached the context")
    ignore_file = root / "lib" / ".enclaveignore"
    rules = "/shared.py\n"
    ignore_file.write_text(rules)
    if report == "didChangeWatchedFiles":
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                [types.FileEvent(ignore_file.as_uri(), types.FileChangeType.Created)]
            )
        )
    elif report == "didSave":
        open_doc(client, ignore_file, rules, "ignore")
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(ignore_file.as_uri()))
        )
    else:
        await asyncio.sleep(1.1)  # the server re-stats ignore files at most once a second
    prompt = await complete_main(client, root, main + "\n")
    assert f"{CANARY}_later" not in prompt and "def polygon_area(points):" in prompt
    await assert_left_alone(client, (root / "lib" / "shared.py").as_uri(), helper)
    index = await wait_indexed(client)
    assert index["files"] == INDEXED
