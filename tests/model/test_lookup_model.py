"""Prompt-lookup drafts with the real model (0.5B, in process): drafted tokens are kept,
the answer is the model's own (the same with drafts twice, and all but the same as without:
a token checked in a batch of several has the batch's arithmetic, which can break a near tie
the other way; bench/rewrite_speed.py counts how often), and the model's state stays sound
for the next job."""

from __future__ import annotations

import difflib

import pytest

from lsp_server.model import provision
from lsp_server.model.draft_policy import DraftPolicy
from lsp_server.prompts.actions import build_prompt
from tests.helpers import DATA
from tests.model.test_real_model import require_model

pytestmark = pytest.mark.model


def test_drafts_change_nothing_but_the_number_of_decode_calls() -> None:
    from lsp_server.model.worker import LlamaEngine

    require_model("0.5b")
    engine = LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 4096, 0)
    engine.drafts = DraftPolicy(6, learn=False)  # the same draft lengths each time
    code = (DATA / "actions" / "inventory.py").read_text()
    for action in ("rename_locals",):
        job = build_prompt(
            action,
            "chatml",
            language="python",
            path="inventory.py",
            context=code,
            target=code,
            instruction="",
            diagnostic="",
            retry_error="",
        ).job(300.0)
        plain = engine.generate(job.prompt, job.max_tokens, job.stop, lambda _p: None)
        drafted = engine.generate(
            job.prompt, job.max_tokens, job.stop, lambda _p: None, lookup=True
        )
        twice = engine.generate(job.prompt, job.max_tokens, job.stop, lambda _p: None, lookup=True)
        assert twice.text == drafted.text and plain.text.strip()
        similar = difflib.SequenceMatcher(None, drafted.text, plain.text).ratio()
        assert similar > 0.9, (drafted.text, plain.text)
        assert drafted.stats.drafted_tokens > 0
        assert drafted.stats.accepted_tokens > 0
        again = engine.generate(job.prompt, job.max_tokens, job.stop, lambda _p: None)
        assert again.text == plain.text and again.stats.evaluated_tokens <= 2
        # The worker's own policy measures this machine's decode calls as it writes.
        engine.drafts = DraftPolicy()
        learned = engine.generate(
            job.prompt, job.max_tokens, job.stop, lambda _p: None, lookup=True
        )
        assert difflib.SequenceMatcher(None, learned.text, plain.text).ratio() > 0.9
        assert 1 in engine.drafts.cost and len(engine.drafts.cost) >= 2, engine.drafts.cost


def test_a_lazy_grammar_writes_the_chains_answer() -> None:
    """A review's JSON answer, its grammar checked on the likeliest token first
    (model/grammar.py), is token for token the one llama-cpp-python's sampler chain writes."""
    import json

    from lsp_server.features.review import FINDINGS_SCHEMA
    from lsp_server.model.worker import LlamaEngine

    require_model("0.5b")
    engine = LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 4096, 0)
    engine.drafts = DraftPolicy(6, learn=False)  # the same draft lengths each time
    code = (DATA / "actions" / "inventory.py").read_text()
    job = build_prompt(
        "review", "chatml", language="python", path="inventory.py", context=code, target=code
    ).job(300.0, json_schema=FINDINGS_SCHEMA)
    answers = {}
    for lazy in (True, False):
        engine.lazy_grammar = lazy
        answers[lazy] = engine.generate(
            job.prompt, 160, job.stop, lambda _p: None, json_schema=job.json_schema
        )
    assert answers[True].text == answers[False].text
    assert answers[True].stats.generated_tokens == answers[False].stats.generated_tokens > 10
    if answers[True].stats.stop_reason == "eos":  # complete: the grammar's JSON
        assert "findings" in json.loads(answers[True].text)
