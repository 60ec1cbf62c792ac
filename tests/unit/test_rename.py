""" "Rename locals" asks for names, not code (features/rename.py): the job lists the target's
locals and holds the answer to a JSON object of exactly those keys; the server renames every
use itself, and whatever the answer holds, the only change an edit can make is those names."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.refactor import RefactorOutcome, refactor
from lsp_server.features.rename import name_slot
from lsp_server.model.protocol import GenerateJob, GenerationResult, GenerationStats, ScoreJob
from lsp_server.prompts.actions import load_actions
from tests.refactor_helpers import applied, scripted

PY = (
    "import os\n\n\n"
    "def total(items, tax):\n"
    "    t = 0\n"
    "    for i in items:\n"
    '        t = t + i["price"] * tax\n'
    "    n = len(items)\n"
    "    return t, n, os.sep\n"
)
TS = (
    "export function total(items: Item[]): number {\n"
    "  let t = 0;\n"
    "  for (const x of items) {\n"
    "    t += x.price;\n"
    "  }\n"
    "  return t;\n"
    "}\n"
)
TS_LINES = ("  let sum = 0;", "    sum += item.price;")
GO = (
    "package p\n\n"
    "func Total(items []Item) int {\n"
    "\tt := 0\n"
    "\tfor _, x := range items {\n"
    "\t\tt += x.Price\n"
    "\t}\n"
    "\treturn t\n"
    "}\n"
)


async def run(
    language: str, text: str, answers: list[str], line: int = 4
) -> tuple[list[GenerateJob], RefactorOutcome]:
    return await scripted("rename_locals", language, text, Position(line, 4), answers)


async def test_the_job_lists_the_locals_and_asks_for_names_only() -> None:
    jobs, outcome = await run("python", PY, ['{"t": "subtotal", "i": "item", "n": "count"}'])
    [job] = jobs
    schema = job.json_schema
    assert schema is not None and list(schema["properties"]) == ["t", "i", "n"]
    assert schema["required"] == ["t", "i", "n"] and schema["additionalProperties"] is False
    assert "maps each of these local variables" in job.prompt
    assert "t, i, n" in job.prompt and "fenced code block" not in job.prompt
    assert not job.lookup and job.max_tokens < 100  # a few names, not the whole code
    assert applied(PY, outcome) == (
        PY.replace("t = 0", "subtotal = 0")
        .replace("for i in", "for item in")
        .replace('t = t + i["price"]', 'subtotal = subtotal + item["price"]')
        .replace("n = len", "count = len")
        .replace("return t, n,", "return subtotal, count,")
    )


@pytest.mark.parametrize(
    ("language", "text", "line", "answer", "expected"),
    [
        (
            "typescript",
            TS,
            1,
            {"t": "sum", "x": "item"},
            ("  let sum = 0;", "    sum += item.price;"),
        ),
        ("go", GO, 3, {"t": "sum", "x": "item"}, ("\tsum := 0", "\t\tsum += item.Price")),
    ],
)
async def test_every_use_is_renamed_in_each_language(
    language: str, text: str, line: int, answer: dict[str, str], expected: tuple[str, ...]
) -> None:
    jobs, outcome = await run(language, text, [json.dumps(answer)], line)
    assert jobs[0].json_schema is not None
    assert list(jobs[0].json_schema["properties"]) == list(answer)
    new = applied(text, outcome)
    for line_text in expected:
        assert line_text in new.split("\n"), new
    assert "items" in new  # the parameter is never a key, never renamed


async def test_a_predeclared_name_is_left_and_the_others_apply() -> None:
    # The 1.5B's answer for a Go function: `err` -> `error`, the builtin interface.
    _, outcome = await run("go", GO, [json.dumps({"t": "error", "x": "item"})], 3)
    new = applied(GO, outcome)
    assert "\tt := 0" in new and "\t\tt += item.Price" in new


async def test_keeping_every_name_is_asked_again_for_a_change() -> None:
    hint = load_actions().actions["rename_locals"].unchanged
    same = '{"t": "t", "i": "i", "n": "n"}'
    jobs, outcome = await run("python", PY, [same, '{"t": "subtotal", "i": "i", "n": "n"}'])
    assert f"rejected: the model proposed no change. {hint}" in jobs[1].prompt
    assert "subtotal = subtotal" in applied(PY, outcome) and outcome.attempts == 2
    jobs, outcome = await run("python", PY, [same, same])
    assert outcome.edit is None and outcome.error == "the model proposed no change"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("t -> subtotal", "not a JSON object of names"),
        ('["subtotal"]', "not a JSON object of names"),
        ('{"t": "return"}', ""),  # a keyword: the edit does not parse
        ('{"t": "tax"}', "already uses the new names (t -> tax)"),  # onto the parameter
        ('{"t": "n"}', "already uses"),  # onto another local
        ('{"t": "os"}', "already uses"),  # onto the module the code reads
        ('{"t": "total"}', "already uses"),  # onto the function's own name
        ('{"t": "list"}', "language already uses"),  # a builtin it would shadow
        ('{"t": "match"}', "language already uses"),  # a soft keyword
        ('{"t": "x; import shutil"}', "is not a name"),
        ('{"t": "a\\u202eb"}', "is not a name"),
    ],
)
async def test_a_bad_answer_is_refused_and_says_why(answer: str, why: str) -> None:
    jobs, outcome = await run("python", PY, [answer, answer])
    assert outcome.edit is None and len(jobs) == 2
    assert why in outcome.error
    assert f"rejected: {outcome.error}" in jobs[1].prompt


async def test_a_taken_name_is_left_and_the_others_apply() -> None:
    # The 1.5B's answer for inventory.py's `total`: the function's own name for `t`.
    _, outcome = await run("python", PY, ['{"t": "total", "i": "item", "n": "n"}'])
    new = applied(PY, outcome)
    assert 'for item in items:\n        t = t + item["price"]' in new
    # Two onto one: the first keeps it.
    _, outcome = await run("python", PY, ['{"t": "count", "i": "i", "n": "count"}'])
    assert "count = 0" in applied(PY, outcome) and "n = len" in applied(PY, outcome)
    _, outcome = await run("python", PY, ['{"t": "total", "i": "item", "n": "n"}'])
    new = applied(PY, outcome)
    assert 'for item in items:\n        t = t + item["price"]' in new
    assert "def total(items, tax):\n    t = 0" in new


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["t", "i", "n", "items", "tax", "os", "total", "extra"]),
        st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True), st.text()),
    )
)
async def test_whatever_the_answer_an_edit_changes_only_local_names(
    answer: dict[str, str],
) -> None:
    _, outcome = await run("python", PY, [json.dumps(answer)] * 2)
    if outcome.edit is None:
        return
    new = applied(PY, outcome)
    words = re.findall(r"\w+|[^\w\s]", PY)
    after = re.findall(r"\w+|[^\w\s]", new)
    assert len(words) == len(after)
    changed = {a: b for a, b in zip(words, after, strict=True) if a != b}
    assert set(changed) <= {"t", "i", "n"}  # never a parameter, a module, the function
    assert len(set(changed.values())) == len(changed)
    assert not set(changed.values()) & set(words)


def test_no_slot_without_locals_or_a_tree() -> None:
    snap = Document("file:///w/f.py", "python", 1, "def f(a):\n    return a\n").snapshot()
    from lsp_server.features.edits import resolve_target

    at = Range(Position(1, 4), Position(1, 4))
    assert name_slot(resolve_target(snap, at)) is None
    text = Document("file:///w/f.txt", "plaintext", 1, "t = 1\n").snapshot()
    assert name_slot(resolve_target(text, Range(Position(0, 0), Position(0, 0)))) is None


async def test_a_backend_without_schemas_gets_the_whole_code_question() -> None:
    from lsp_server.errors import Unsupported

    jobs: list[GenerateJob] = []
    code = PY.replace("    t = 0", "    subtotal = 0").replace("t = t +", "subtotal = subtotal +")
    code = code.replace("return t,", "return subtotal,")

    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        assert isinstance(job, GenerateJob)
        jobs.append(job)
        if job.json_schema is not None:
            raise Unsupported("JSON-constrained output needs backend.kind llama-server")
        return GenerationResult(f"```python\n{code}```", GenerationStats(stop_reason="stop"))

    snap = Document("file:///w/f.py", "python", 1, PY).snapshot()
    at = Range(Position(4, 4), Position(4, 4))
    outcome = await refactor(snap, at, "rename_locals", "chatml", generate)
    assert [job.json_schema is None for job in jobs] == [False, True]
    assert "fenced code block" in jobs[1].prompt
    assert "subtotal = subtotal" in applied(PY, outcome) and outcome.attempts == 1
