"""Review's slip pass with the real models: the worker's scores (0.5B, in process) cover the
text and reuse the context, and the default model finds a seeded slip through the real server
(a range on the seeded token, the model's odds in the message, a checked fix)."""

from __future__ import annotations

import itertools

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_server.model import provision
from tests.helpers import open_doc
from tests.model.test_actions_model import default_model  # noqa: F401 (a fixture)
from tests.model.test_real_model import require_model
from tests.server.test_actions import ACTIONS, apply_workspace_edit, code_actions, text_at

pytestmark = pytest.mark.model

SLIPS = (ACTIONS / "slips.py").read_text()
SEEDED = 'if order["id"] != order_id:'  # inverted: `==` was meant


def test_scores_cover_the_text_and_the_context_is_reused() -> None:
    from lsp_server.model.worker import LlamaEngine

    require_model("0.5b")
    engine = LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 4096, 0)
    at = SLIPS.index("def order_total")
    context, text = SLIPS[:at], SLIPS[at:]
    first = engine.score(context, text, 3, lambda _p: None)
    data = text.encode()
    spans = [(s.start, s.end) for s in first.scores]
    assert spans[0][0] == 0 and spans[-1][1] == len(data)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    for s in first.scores:
        assert s.logprob <= 0 and len(s.likely) == 4
        assert [lp for _, lp in s.likely] == sorted((lp for _, lp in s.likely), reverse=True)
        assert s.logprob <= s.likely[0][1] + 1e-6
    again = engine.score(context, text, 3, lambda _p: None)
    assert again.stats.reused_tokens >= first.stats.prompt_tokens - len(first.scores) - 1
    for a, b in zip(first.scores, again.scores, strict=True):
        assert abs(a.logprob - b.logprob) < 0.05 and a.likely[0][0] == b.likely[0][0]
    # A cancel between batches: the job ends with what it has, marked cancelled.
    calls = iter(range(10_000))
    stopped = engine.score(
        context, text * 4, 3, lambda _p: "cancelled" if next(calls) > 3 else None
    )
    assert stopped.stats.stop_reason == "cancelled" and len(stopped.scores) < len(first.scores)
    # No context (a whole file's review) and no BOS token (Qwen): all but the first token.
    bare = engine.score("", text, 3, lambda _p: None)
    assert bare.scores[0].start > 0 and bare.scores[-1].end == len(data)
    assert [(s.start, s.end) for s in bare.scores] == spans[1:]
    # The engine generates as before afterwards.
    assert engine.generate("def add(a, b):\n    return", 4, ("\n",), lambda _p: None).text


@pytest.mark.slow
async def test_the_default_model_finds_a_seeded_slip(default_model: LanguageClient) -> None:  # noqa: F811
    client = default_model
    uri = open_doc(client, ACTIONS / "slips.py", SLIPS, "python")
    line = SLIPS[: SLIPS.index(SEEDED)].count("\n")
    function = {
        "start": {"line": line - 2, "character": 0},
        "end": {"line": line + 3, "character": 0},
    }
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("enclave.lsp.review", [{"uri": uri, "range": function}])
    )
    diags = client.diagnostics.get(uri, [])
    assert len(diags) == result["findings"]
    [slip] = [d for d in diags if d.data["basis"] == "slip" and d.range.start.line == line]
    assert text_at(SLIPS, slip.range) == slip.data["quote"] == "!="
    assert "`!=` may be the wrong comparison here: `==` fits the code around it" in slip.message
    actions = await code_actions(client, uri, slip.range, [slip])
    [fix] = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert fix.edit is not None
    fixed = apply_workspace_edit(SLIPS, uri, 1, fix.edit)
    assert fixed == SLIPS.replace(SEEDED, SEEDED.replace("!=", "=="))
