"""A refactor run against scripted answers, for the tests of how answers are read and checked
(the list answers of features/rename.py and features/annotate.py, the retry)."""

from __future__ import annotations

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.refactor import RefactorOutcome, refactor
from lsp_server.model.protocol import GenerateJob, GenerationResult, GenerationStats, ScoreJob


async def scripted(
    action: str, language: str, text: str, at: Position, answers: list[str]
) -> tuple[list[GenerateJob], RefactorOutcome]:
    """The refactor of the definition at `at`, the model answering `answers` in turn; the
    jobs it was given."""
    jobs: list[GenerateJob] = []

    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        assert isinstance(job, GenerateJob)
        jobs.append(job)
        return GenerationResult(answers[len(jobs) - 1], GenerationStats(stop_reason="stop"))

    snap = Document(f"file:///w/f.{language}", language, 1, text).snapshot()
    return jobs, await refactor(snap, Range(at, at), action, "chatml", generate)


def applied(text: str, outcome: RefactorOutcome) -> str:
    """`text` with the outcome's edit (there must be one)."""
    edit = outcome.edit
    assert edit is not None, outcome.error
    return text[: edit.start] + edit.new_text + text[edit.end :]
