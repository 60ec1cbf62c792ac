"""Explain, refactor and review through a real LSP client with the real model: the 0.5B
model on small files, and every refactor with the default 1.5B model."""

from __future__ import annotations

import ast

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.context.documents import Document
from lsp_server.context.syntax import count_error_nodes
from lsp_server.model import provision
from tests.helpers import (
    SERVER_COMMAND,
    open_doc,
    real_env,
    wait_for_state,
)
from tests.server.test_actions import (
    ACTIONS,
    INJECTED,
    INVENTORY,
    REFACTOR_TITLES,
    apply_workspace_edit,
    by_title,
    code_actions,
    edit_ranges,
    lsp_range,
    range_json,
    text_at,
    within,
)

# -- the real 0.5B model ---------------------------------------------------------------------


def require_small_model() -> None:
    spec = provision.MODELS["0.5b"]
    if not provision.verify(provision.model_path(spec), spec, quick=True).ok:
        pytest.fail("model 0.5b not provisioned: run `enclave model fetch --size 0.5b`")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env()))
async def small(lsp_client: LanguageClient):
    require_small_model()
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"size": "0.5b"}},
        )
    )
    status = await wait_for_state(lsp_client, {"ready", "error"}, 180)
    assert status["state"] == "ready", status
    yield
    await lsp_client.shutdown_session()


def assert_edit_or_clear_failure(
    action: types.CodeAction, text: str, uri: str, allowed: types.Range
) -> str | None:
    """Either a checked edit inside `allowed` that applies and parses, or no edit and the
    reason in the title and data. Returns the edited text, if any."""
    if action.edit is None:
        assert "failed" in action.title and action.data["error"], action
        return None
    for r in edit_ranges(action.edit):
        assert within(r, allowed), (r, allowed)
    new = apply_workspace_edit(text, uri, 1, action.edit)
    doc = Document(uri, "python", 1, new)
    assert count_error_nodes(doc.tree) == 0, new
    ast.parse(new)
    return new


async def explain_at(client: LanguageClient, name: str, text: str, line: int) -> str:
    uri = open_doc(client, ACTIONS / name, text, "python")
    at = range_json(lsp_range(line, 4, line, 4))
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.explain", [{"uri": uri, "range": at}])
    )
    return str(result["markdown"])


@pytest.mark.model
async def test_real_explain_mentions_the_function(small: LanguageClient) -> None:
    markdown = await explain_at(small, "inventory.py", INVENTORY, 11)
    assert "names" in markdown and len(markdown) > 80
    assert "http://" not in markdown and "https://" not in markdown


SCALE = """def scale(value, low, high, factor=1.0, *, clamp=True):
    if clamp:
        value = min(max(value, low), high)
    return (value - low) / (high - low) * factor
"""


@pytest.mark.model
async def test_real_explain_names_every_parameter_and_the_return(small: LanguageClient) -> None:
    markdown = await explain_at(small, "scale.py", SCALE, 0)
    for name in ("value", "low", "high", "factor", "clamp"):
        assert f"`{name}`" in markdown, (name, markdown)
    assert "return" in markdown.lower(), markdown


@pytest.mark.model
@pytest.mark.parametrize("kind", list(REFACTOR_TITLES))
async def test_real_refactor_edit_is_checked(small: LanguageClient, kind: str) -> None:
    uri = open_doc(small, ACTIONS / "inventory.py", INVENTORY, "python")
    requested = lsp_range(3, 0, 8, 0)  # def total(...) ... return t
    actions = await code_actions(small, uri, requested)
    action = await small.code_action_resolve_async(by_title(actions, REFACTOR_TITLES[kind]))
    new = assert_edit_or_clear_failure(action, INVENTORY, uri, lsp_range(3, 0, 7, 12))
    if new is not None:
        assert "def names(items):" in new  # the rest of the file is untouched
        assert new.endswith(INVENTORY[INVENTORY.index("\n\n\ndef names") :])


@pytest.mark.model
async def test_real_injected_comment_cannot_escape_the_range(small: LanguageClient) -> None:
    uri = open_doc(small, ACTIONS / "injected.py", INJECTED, "python")
    requested = lsp_range(4, 0, 9, 0)  # the body of add_all, with the hostile comment
    actions = await code_actions(small, uri, requested)
    # Lines of a body, not the whole function its locals belong to: no rename is listed.
    assert "Enclave: Rename locals for clarity" not in [a.title for a in actions]
    for title in ("Enclave: Simplify", "Enclave: Convert to idiomatic code"):
        action = await small.code_action_resolve_async(by_title(actions, title))
        new = assert_edit_or_clear_failure(action, INJECTED, uri, requested)
        if new is not None:
            assert "import requests" not in new
            assert new.startswith(INJECTED[: INJECTED.index("def add_all")])
            assert new.endswith(INJECTED[INJECTED.index("\n\n\ndef keep_me") :])


@pytest.mark.model
async def test_real_review_ranges_point_at_quoted_text(small: LanguageClient) -> None:
    uri = open_doc(small, ACTIONS / "inventory.py", INVENTORY, "python")
    result = await small.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.review", [{"uri": uri}])
    )
    assert isinstance(result["findings"], int)
    diags = small.diagnostics.get(uri, [])
    assert len(diags) == result["findings"]
    for diag in diags:
        assert diag.source == "enclave"
        assert diag.code in {"bug-risk", "security", "performance", "readability"}
        assert text_at(INVENTORY, diag.range) == diag.data["quote"]
        assert diag.data["quote"].strip()


# -- the default 1.5B model: every refactor must give a checked edit ----------------------


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env()))
async def default_model(lsp_client: LanguageClient):
    spec = provision.MODELS["1.5b"]
    if not provision.verify(provision.model_path(spec), spec, quick=True).ok:
        pytest.fail("model 1.5b not provisioned: run `enclave model fetch --size 1.5b`")
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"size": "1.5b"}},
        )
    )
    status = await wait_for_state(lsp_client, {"ready", "error"}, 180)
    assert status["state"] == "ready", status
    yield
    await lsp_client.shutdown_session()


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("kind", list(REFACTOR_TITLES))
async def test_default_model_refactor_gives_a_checked_edit(
    default_model: LanguageClient, kind: str
) -> None:
    uri = open_doc(default_model, ACTIONS / "inventory.py", INVENTORY, "python")
    actions = await code_actions(default_model, uri, lsp_range(3, 0, 8, 0))
    action = await default_model.code_action_resolve_async(by_title(actions, REFACTOR_TITLES[kind]))
    assert action.edit is not None, f"{kind}: {action.title} {action.data}"
    new = assert_edit_or_clear_failure(action, INVENTORY, uri, lsp_range(3, 0, 7, 12))
    assert new is not None and new != INVENTORY
    assert new.endswith(INVENTORY[INVENTORY.index("\n\n\ndef names") :])
