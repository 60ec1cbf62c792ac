"""Alternatives with the real model: the engine's branches leave the greedy answer unchanged
and the model's state sound (0.5B, in process), and an invoked request through the real server
with the default model returns several distinct items."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_server.model import provision
from tests.helpers import (
    SERVER_COMMAND,
    get_status,
    inline_params,
    open_doc,
    position_of,
    real_env,
)
from tests.model.test_real_model import require_model, start

pytestmark = pytest.mark.model

FIM = "<|fim_prefix|>{}<|fim_suffix|>{}<|fim_middle|>"
# Single-line positions, as a user types them.
LINES = [
    "def mean(values: list[float]) -> float:\n    total = sum(values)\n    return ",
    "import os\n\n\ndef config_path(name: str) -> str:\n    home = os.path.expanduser('~')\n    ",
    'package main\n\nimport "strings"\n\nfunc clean(s string) string {\n\ts = strings.',
]


def test_branches_leave_the_greedy_answer_and_the_models_state_as_they_were() -> None:
    from lsp_server.model.worker import LlamaEngine

    require_model("0.5b")
    engine = LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 2048, 0)
    for head in LINES:
        prompt = FIM.format(head, "\n")
        greedy = engine.generate(prompt, 24, ["\n"], lambda _prefill: None)
        both = engine.generate(prompt, 24, ["\n"], lambda _prefill: None, alternatives=3)
        assert both.text == greedy.text and greedy.text.strip()
        assert both.stats.generated_tokens == greedy.stats.generated_tokens
        assert both.alternatives, head
        assert len(set(both.alternatives)) == len(both.alternatives)
        assert greedy.text not in both.alternatives
        assert all(a.strip() and "\n" not in a for a in both.alternatives)
        assert both.stats.alternative_tokens >= len(both.alternatives)
        # The branches rewrote the model's cache after the prompt: the same prompt again gives
        # the same greedy answer, evaluating at most the tokens after the shared prompt.
        again = engine.generate(prompt, 24, ["\n"], lambda _prefill: None)
        assert again.text == greedy.text
        assert again.stats.evaluated_tokens <= 2


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env()))
async def default_model(lsp_client: LanguageClient):
    await start(lsp_client, "1.5b")
    yield
    await lsp_client.shutdown_session()


@pytest.mark.slow
async def test_an_invoked_request_returns_distinct_items_with_the_default_model(
    default_model: LanguageClient,
) -> None:
    text = LINES[0] + "\n"
    offset = len(LINES[0])
    uri = open_doc(default_model, Path("/tmp/enclave-alternatives/mean.py"), text, "python")
    line, col = position_of(text, offset)

    async def ask(kind: types.InlineCompletionTriggerKind) -> list[str]:
        params = inline_params(uri, line, col, kind)
        result = await default_model.text_document_inline_completion_async(params)
        assert isinstance(result, types.InlineCompletionList)
        return [str(item.insert_text) for item in result.items]

    first = await ask(types.InlineCompletionTriggerKind.Automatic)
    status = await get_status(default_model)
    assert len(first) == 1, status["lastEmptyReason"]
    items = await ask(types.InlineCompletionTriggerKind.Invoked)
    assert items[0] == first[0]  # the same first answer, with others after it
    assert 2 <= len(items) <= 3 and len(set(items)) == len(items), items
    last = (await get_status(default_model))["recent"][-1]
    assert last["alternative_tokens"] > 0
