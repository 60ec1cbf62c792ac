""" "Add docstring" writes only the documentation into its slot (features/docstring.py): the
answer is begun for the model, what it writes is placed by the server, and the result still
passes every check. Answers are the ones a model gives after the begun text."""

from __future__ import annotations

import pytest

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.docstring import MAX_TOKENS, doc_slot
from lsp_server.features.edits import Target, check_intent, resolve_target
from lsp_server.features.refactor import refactor
from lsp_server.model.protocol import GenerateJob, GenerationResult, GenerationStats, ScoreJob


def target_at(language: str, text: str, line: int, column: int = 0) -> Target:
    ext = {"python": "py", "typescript": "ts", "go": "go", "rust": "rs", "java": "java"}
    snap = Document(f"file:///w/f.{ext[language]}", language, 1, text).snapshot()
    return resolve_target(snap, Range(Position(line, column), Position(line, column)))


def documented(target: Target, answer: str) -> str:
    slot = doc_slot(target)
    assert slot is not None
    new = slot.assemble(answer)
    if new:
        check_intent(target.snap, target, "docstring", new)  # the structure is unchanged
    return new


PY = (
    "class Shape:\n"
    "    @property\n"
    "    def area(self, w, h):\n"
    "        size = w * h\n"
    "        return size\n"
)


def test_python_the_docstring_goes_under_the_header_at_the_bodys_indentation() -> None:
    target = target_at("python", PY, 2)
    assert target.label == "function area" and target.text.startswith("    @property")
    slot = doc_slot(target)
    assert slot is not None
    assert slot.answer_start == '    @property\n    def area(self, w, h):\n        """'
    one = documented(target, 'The area of a w x h rectangle."""\n        size = w * h')
    assert one.split("\n")[2] == '        """The area of a w x h rectangle."""'
    assert one.endswith("        return size")
    many = documented(
        target, "The area.\n\n        Args:\n            w: the width.\n        \n        "
    )
    assert many.split("\n")[2:7] == [
        '        """The area.',
        "",
        "        Args:",
        "            w: the width.",
        '        """',
    ]
    assert documented(target, "   \n  ") == ""  # nothing written: no edit


@pytest.mark.parametrize(
    "text",
    [
        'def f(x):\n    """Already documented."""\n    return x\n',  # refreshed by a rewrite
        "def f(x): return x\n",  # the body on the header's line
    ],
)
def test_python_without_a_slot_the_model_writes_the_whole_definition(text: str) -> None:
    assert doc_slot(target_at("python", text, 0)) is None


TS = "export function load(s: string): number {\n  return JSON.parse(s);\n}\n"


def test_typescript_a_jsdoc_block_goes_above_the_exported_function() -> None:
    target = target_at("typescript", TS, 0)
    slot = doc_slot(target)
    assert slot is not None and slot.answer_start == "/**\n * " and "*/" in slot.stop
    new = documented(target, "Parses `s` as JSON.\n * @param s the text\n ")
    assert new == (
        "/**\n * Parses `s` as JSON.\n * @param s the text\n */\n"
        "export function load(s: string): number {\n  return JSON.parse(s);\n}"
    )


GO = "package p\n\nfunc (t *T) Delims(left, right string) *T {\n\tt.l = left\n\treturn t\n}\n"


def test_go_the_comment_begins_with_the_name_and_stops_at_the_code() -> None:
    target = target_at("go", GO, 2)
    slot = doc_slot(target)
    assert slot is not None and slot.answer_start == "// Delims "
    answer = "sets the action delimiters.\n// It returns t.\nfunc (t *T) Delims("
    new = documented(target, answer)
    assert new.startswith("// Delims sets the action delimiters.\n// It returns t.\nfunc (t *T)")
    assert documented(target, "\nfunc (t *T) Delims(") == ""  # the name alone is no comment


def test_rust_doc_comments_are_triple_slashed() -> None:
    rust = "impl S {\n    fn get(&self) -> u8 {\n        self.x\n    }\n}\n"
    target = target_at("rust", rust, 1, 4)
    slot = doc_slot(target)
    assert slot is not None and slot.answer_start == "    /// "
    new = documented(target, "The x.\n    fn get(")
    assert new.startswith("    /// The x.\n    fn get(&self)")


async def test_the_refactor_begins_the_answer_and_offers_the_placed_docstring() -> None:
    jobs: list[GenerateJob] = []

    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        assert isinstance(job, GenerateJob)
        jobs.append(job)
        return GenerationResult('The area."""', GenerationStats(stop_reason="stop"))

    target = target_at("python", PY, 2)
    outcome = await refactor(target.snap, target.range, "docstring", "chatml", generate)
    assert outcome.edit is not None and outcome.error == ""
    assert '        """The area."""\n        size = w * h' in outcome.edit.new_text
    [job] = jobs
    assert job.prompt.endswith("<|im_start|>assistant\n```python\n" + doc_slot(target).answer_start)  # type: ignore[union-attr]
    assert job.max_tokens == MAX_TOKENS and not job.lookup and '"""' in job.stop


async def test_a_docstring_cut_by_its_token_limit_is_not_offered() -> None:
    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        return GenerationResult("The area of a", GenerationStats(stop_reason="length"))

    target = target_at("python", PY, 2)
    outcome = await refactor(target.snap, target.range, "docstring", "chatml", generate)
    assert outcome.edit is None and "stopped early (length)" in outcome.error
