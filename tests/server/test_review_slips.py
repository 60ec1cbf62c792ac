"""Review's slip pass through a real LSP client (fake engine: the tokens it doubts are
scripted): a slip in code becomes a located diagnostic with a checked quick fix; the same
token in a string or a comment, or where the variable is bound, is not reported."""

from __future__ import annotations

import ast

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.helpers import SERVER_COMMAND, fake_env, open_doc
from tests.server.test_actions import apply_workspace_edit, code_actions, start_fake, text_at

CLAMP = '''def clamp(value, low, high):
    """Keep value within [low, high]; "value >= high" in a string is not code."""
    # value >= high in a comment is not code either
    if value < low:
        return low
    if value >= high:
        return high
    return value
'''


def slip_config(*doubts: str) -> ClientServerConfig:
    env = fake_env(text="[]", token_s=0.0005, doubts=list(doubts))
    return ClientServerConfig(server_command=SERVER_COMMAND, server_env=env)


@pytest_lsp.fixture(config=slip_config(">= -> >"))
async def operator_client(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=slip_config("value -> low"))
async def name_client(lsp_client: LanguageClient):
    await start_fake(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def review(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.review", [{"uri": uri}])
    )
    diags = list(client.diagnostics.get(uri, []))
    assert (result["findings"], result["dropped"]) == (len(diags), 0)
    return diags


async def test_a_slip_in_code_is_a_located_warning_with_a_checked_fix(
    operator_client: LanguageClient,
) -> None:
    uri = open_doc(operator_client, "/tmp/enclave-slips/clamp.py", CLAMP, "python")
    # ">=" is doubted in the docstring, the comment and the code: only the code is reported.
    [diag] = await review(operator_client, uri)
    assert diag.range.start.line == 5 and text_at(CLAMP, diag.range) == ">="
    assert diag.code == "bug-risk" and diag.severity == types.DiagnosticSeverity.Warning
    assert "`>=` may be the wrong comparison here: `>` fits" in diag.message
    actions = await code_actions(operator_client, uri, diag.range, [diag])
    [fix] = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert fix.edit is not None
    fixed = apply_workspace_edit(CLAMP, uri, 1, fix.edit)
    assert fixed == CLAMP.replace("    if value >= high:", "    if value > high:")
    ast.parse(fixed)


async def test_a_read_of_the_wrong_variable_names_the_one_that_fits(
    name_client: LanguageClient,
) -> None:
    uri = open_doc(name_client, "/tmp/enclave-slips/name.py", CLAMP, "python")
    diags = await review(name_client, uri)
    # Reads of `value` in code (lines 3, 5, 7), at most three slips; never the parameter,
    # the docstring or the comment.
    assert diags and {d.range.start.line for d in diags} <= {3, 5, 7}
    for diag in diags:
        assert text_at(CLAMP, diag.range) == "value"
        assert "`value` may be the wrong variable here: `low` fits" in diag.message
