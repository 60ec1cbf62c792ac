"""Redaction through the real server and worker (fake engine), read from the prompt the
worker really built (ENCLAVE_DEBUG_PROMPTS): every secret kind, the cursor inside a secret
with text typed there, repository context holding secrets, and explain / review on a
selection cut through a private key.

The property: no substring of 8 characters or more of a secret is in the prompt."""

from __future__ import annotations

import contextlib
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.helpers import (
    DATA,
    end_of,
    get_status,
    inline_params,
    open_doc,
    position_of,
    start_in_workspace,
)
from tests.server.test_privacy import env  # the fake engine, prompts kept for reading

with (DATA / "secrets" / "kinds.toml").open("rb") as f:
    KINDS: list[dict[str, Any]] = tomllib.load(f)["kind"]
BATCH = 12
PLACEHOLDER = "<redacted-secret>"

STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
PEM_LINES = [
    "MIIEowIBAAKCAQEAuJ1c5tY2m0v4wq8f3HkqP0vJ7n2xR9sT6yU1bC4dE5fG6hI7",
    "jK8lM9nO0pQ1rS2tU3vW4xY5zA6bB7cC8dD9eE0fF1gG2hH3iI4jJ5kK6lL7mM8n",
    "N9oO0pP1qQ2rR3sS4tT5uU6vV7wW8xX9yY0zZ1aA2bB3cC4dD5eE6fF7gG8hH9i+",
    "I0jJ1kK2lL3mM4nN5oO6pP7qQ8rR9sS0tT1uU2vV3wW4xX5yY6zZ7aA8bB9cC0/",
]
BILLING = (
    "def make_client():\n"
    f'    return Client(api_key="{STRIPE}", region="eu")\n'
    "\n\n"
    "def signing_key():\n"
    '    return """-----BEGIN RSA PRIVATE KEY-----\n' + "\n".join(PEM_LINES) + "\n"
    '-----END RSA PRIVATE KEY-----"""\n'
)


def leaks(secrets: list[str], text: str) -> list[str]:
    return [s[i : i + 8] for s in secrets for i in range(len(s) - 7) if s[i : i + 8] in text]


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "lsp_server", "serve"], server_env=env()
    )
)
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ws")
    (root / "billing.py").write_text(BILLING)
    await start_in_workspace(lsp_client, root)
    # A window wide enough for a batch of kinds; the fake engine's context is 4096 tokens.
    lsp_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"completion": {"contextTokens": 3000}})
    )
    yield
    await lsp_client.shutdown_session()


async def last_prompt(client: LanguageClient) -> str:
    prompts = (await get_status(client))["lastPrompts"]
    assert prompts, "no prompt was built"
    prompt: str = prompts[-1]["prompt"]
    return prompt


@pytest.mark.parametrize("batch", range(0, len(KINDS), BATCH))
async def test_every_kind_is_redacted_in_the_built_prompt(
    client: LanguageClient, batch: int
) -> None:
    root: Path = client.root  # type: ignore[attr-defined]
    kinds = KINDS[batch : batch + BATCH]
    text = "".join(f"== kind {k['id']} ==\n{k['text']}\n" for k in kinds) + "next: "
    uri = open_doc(client, root / f"secrets{batch}.txt", text, "plaintext")
    line, col = end_of(text, "next: ")
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = await last_prompt(client)
    for k in kinds:
        assert f"== kind {k['id']} ==" in prompt  # the kind was in the window
        assert not leaks(k["secrets"], prompt), k["id"]
    assert PLACEHOLDER in prompt


def inside_positions(text: str, secret: str) -> list[int]:
    """Offsets inside `secret` where a completion may be asked (the next character is not a
    word character, so the position is not inside an identifier)."""
    at = text.index(secret)
    return [
        i for i in range(at + 8, at + len(secret) - 8) if not (text[i].isalnum() or text[i] == "_")
    ]


CURSOR_KINDS = [
    k for k in KINDS if any(inside_positions(k["text"], s) for s in k["secrets"] if s in k["text"])
]


@pytest.mark.parametrize("kind", CURSOR_KINDS, ids=[k["id"] for k in CURSOR_KINDS])
async def test_cursor_inside_a_secret_then_typing_there(
    client: LanguageClient, kind: dict[str, Any]
) -> None:
    """Completion asked with the cursor inside a secret, then again after typing at that
    point (the typed text is the job's `middle`, the secret on both sides of it)."""
    root: Path = client.root  # type: ignore[attr-defined]
    text = f"before = 1\n{kind['text']}\nafter = 2\n"
    secret = next(s for s in kind["secrets"] if s in text and inside_positions(text, s))
    cursor = inside_positions(text, secret)[0]
    uri = open_doc(client, root / f"cursor-{kind['id']}.txt", text, "plaintext")
    line, col = position_of(text, cursor)
    await client.text_document_inline_completion_async(inline_params(uri, line, col))
    prompt = await last_prompt(client)
    assert "before = 1" in prompt and not leaks([secret], prompt)
    typed = "Zq9"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(line, col), types.Position(line, col)),
                    text=typed,
                )
            ],
        )
    )
    await client.text_document_inline_completion_async(inline_params(uri, line, col + len(typed)))
    prompt = await last_prompt(client)
    left, right = secret[: cursor - text.index(secret)], secret[cursor - text.index(secret) :]
    assert not leaks([left, right, left + typed + right], prompt)
    assert PLACEHOLDER in prompt


async def test_repository_context_with_secrets_is_redacted(client: LanguageClient) -> None:
    """billing.py's small definitions, whole in the prompt as context, hold a Stripe key and
    a private key: the prompt has the definitions and neither secret."""
    root: Path = client.root  # type: ignore[attr-defined]
    text = "from billing import make_client, signing_key\n\nclient = make_client()\nkey = \n"
    uri = open_doc(client, root / "main.py", text, "python")
    for _ in range(50):  # the index is built in the background
        line, col = end_of(text, "key = ")
        await client.text_document_inline_completion_async(inline_params(uri, line, col))
        prompt = await last_prompt(client)
        if "<|file_sep|>billing.py" in prompt:
            break
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        uri = open_doc(client, root / "main.py", text, "python")
    assert "def make_client():" in prompt and "def signing_key():" in prompt
    assert not leaks([STRIPE, *PEM_LINES], prompt)


@pytest.mark.parametrize("command", ["enclave.lsp.explain", "enclave.lsp.review"])
async def test_explain_and_review_of_a_selection_through_a_key(
    client: LanguageClient, command: str
) -> None:
    """The selection starts in the middle of a private key's body (its BEGIN line outside)
    and holds tokens; the action's prompt has none of them."""
    root: Path = client.root  # type: ignore[attr-defined]
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    uri = open_doc(client, root / "keys.py", BILLING + f'\nTOKEN = "{token}"\n', "python")
    start = types.Position(7, 10)  # inside the second body line
    end = types.Position(13, 0)
    # The fake answer is no review (an error then): the prompt was built and sent all the same.
    with contextlib.suppress(Exception):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=command,
                arguments=[
                    {
                        "uri": uri,
                        "range": {
                            "start": {"line": start.line, "character": start.character},
                            "end": {"line": end.line, "character": end.character},
                        },
                    }
                ],
            )
        )
    prompt = await last_prompt(client)
    assert 'TOKEN = "<redacted-secret>"' in prompt and "<<<TARGET\n<redacted-secret>" in prompt
    assert not leaks([token, STRIPE, *PEM_LINES], prompt)
    # Review's slip pass scores the selection after the file before it: that job too.
    every = [p["prompt"] for p in (await get_status(client))["lastPrompts"]]
    assert not leaks([token, STRIPE, *PEM_LINES], every)
    if command.endswith("review"):
        scored = every[-2]  # the scoring job, then the model pass
        assert 'TOKEN = "<redacted-secret>"' in scored and "<<<" not in scored  # the file's text
