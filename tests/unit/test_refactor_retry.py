"""The refactor's one retry: after an answer that changed nothing it asks for a change of
the action's kind (prompts/actions.json, "unchanged"); after any other rejection it says why."""

from __future__ import annotations

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.refactor import RefactorOutcome, refactor
from lsp_server.model.protocol import GenerateJob, GenerationResult, GenerationStats, ScoreJob
from lsp_server.prompts.actions import load_actions

TEXT = "def f(a):\n    if a:\n        b = a\n        return b\n    return None\n"
SIMPLER = "def f(a):\n    if a:\n        return a\n    return None\n"


async def run(answers: list[str]) -> tuple[list[str], RefactorOutcome]:
    prompts: list[str] = []

    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        assert isinstance(job, GenerateJob)
        prompts.append(job.prompt)
        return GenerationResult(answers[len(prompts) - 1], GenerationStats(stop_reason="stop"))

    snap = Document("file:///w/f.py", "python", 1, TEXT).snapshot()
    at = Range(Position(1, 4), Position(1, 4))
    return prompts, await refactor(snap, at, "simplify", "chatml", generate)


async def test_an_unchanged_answer_is_asked_again_for_a_change() -> None:
    hint = load_actions().actions["simplify"].unchanged
    prompts, outcome = await run([f"```python\n{TEXT}```", f"```python\n{SIMPLER}```"])
    assert hint not in prompts[0]
    assert f"rejected: the model proposed no change. {hint}" in prompts[1]
    assert outcome.edit is not None and outcome.attempts == 2
    assert outcome.edit.new_text == SIMPLER.rstrip("\n")  # the target ends before it


async def test_twice_unchanged_is_no_edit_and_says_so() -> None:
    prompts, outcome = await run([f"```python\n{TEXT}```"] * 2)
    assert len(prompts) == 2
    assert outcome.edit is None
    assert outcome.error == "the model proposed no change"


async def test_another_rejection_gets_no_hint() -> None:
    hint = load_actions().actions["simplify"].unchanged
    broken = "def f(a):\n    if a\n        return a\n"
    prompts, _ = await run([f"```python\n{broken}```", f"```python\n{SIMPLER}```"])
    assert "rejected: the edited code does not parse" in prompts[1]
    assert hint not in prompts[1]
