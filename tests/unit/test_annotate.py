""" "Add type annotations" asks for types, not code (features/annotate.py): the job lists the
parameters without a type and the return, the answer is a JSON object of type texts, the server
writes each where it goes, and whatever the answer holds an offered edit only adds
annotations."""

from __future__ import annotations

import ast
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.annotate import type_slot
from lsp_server.features.edits import resolve_target
from lsp_server.features.refactor import RefactorOutcome
from lsp_server.model.protocol import GenerateJob
from lsp_server.prompts.actions import load_actions
from tests.refactor_helpers import applied, scripted

PY = (
    "class Cart:\n"
    "    def total(self, items, tax=0.2, *args, key: str = 'p', **kw):\n"
    "        t = sum(i[key] for i in items)\n"
    "        return t * (1 + tax)\n"
)
TS = (
    "export class Cart {\n"
    "  constructor(items) {\n"
    "    this.items = items;\n"
    "  }\n"
    "  set size(n) {\n"
    "    this.n = n;\n"
    "  }\n"
    "  total(tax?, rate = 2, { a }: Opts): number {\n"
    "    return tax * rate + a;\n"
    "  }\n"
    "}\n"
    "const twice = (x) => x * 2;\n"
)


async def run(
    language: str, text: str, line: int, answers: list[str]
) -> tuple[list[GenerateJob], RefactorOutcome]:
    return await scripted("annotate", language, text, Position(line, 6), answers)


def keys(language: str, text: str, line: int) -> list[str]:
    snap = Document(f"file:///w/f.{language}", language, 1, text).snapshot()
    slot = type_slot(resolve_target(snap, Range(Position(line, 6), Position(line, 6))))
    return [] if slot is None else list(slot.names)


async def test_python_types_are_written_where_they_go() -> None:
    answer = {
        "items": "list[dict[str, float]]",
        "tax": "float",
        "*args": "object",
        "**kw": "str",
        "return": "float",
    }
    jobs, outcome = await run("python", PY, 2, [json.dumps(answer)])
    [job] = jobs
    assert job.json_schema is not None and list(job.json_schema["properties"]) == list(answer)
    assert "items, tax, *args, **kw, return" in job.prompt and not job.lookup
    assert job.max_tokens < 200 and "fenced code block" not in job.prompt
    assert applied(PY, outcome).split("\n")[1] == (
        "    def total(self, items: list[dict[str, float]], tax: float = 0.2, *args: object,"
        " key: str = 'p', **kw: str) -> float:"
    )


def test_what_is_listed_in_typescript() -> None:
    assert keys("typescript", TS, 1) == ["items"]  # a constructor has no return type
    assert keys("typescript", TS, 4) == ["n"]  # nor a setter
    assert keys("typescript", TS, 7) == ["tax", "rate"]  # typed and destructured: left
    assert keys("typescript", TS, 11) == ["x", "return"]


async def test_typescript_types_follow_the_optional_marker_and_precede_defaults() -> None:
    _, outcome = await run("typescript", TS, 7, ['{"tax": "number", "rate": "number"}'])
    assert "  total(tax?: number, rate: number = 2, { a }: Opts): number {" in applied(
        TS, outcome
    ).split("\n")


async def test_no_type_given_is_asked_again_then_says_so() -> None:
    hint = load_actions().actions["annotate"].unchanged
    empty = '{"items": "", "tax": "", "*args": "", "**kw": "", "return": ""}'
    jobs, outcome = await run("python", PY, 2, [empty, empty])
    assert f"rejected: the model proposed no change. {hint}" in jobs[1].prompt
    assert outcome.edit is None and outcome.error == "the model proposed no change"


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("items: list", "not a JSON object of types"),
        ('{"items": "int = 3"}', "is not a type"),
        ('{"items": "int\\nimport os"}', "is not a type"),
        ('{"items": "int  # ignore"}', "is not a type"),
        ('{"items": "int, int"}', "changed the code itself"),  # a new parameter
        ('{"items": "function"}', "function, which the file does not define or import"),
        ('{"items": "Any"}', "Any, which the file does not define or import"),
        ('{"return": "Optional[float]"}', "Optional"),
        ('{"return": "int:\\n    pass"}', "is not a type"),
        ('{"items": "int)"}', ""),  # does not parse
    ],
)
async def test_a_bad_answer_is_refused_and_says_why(answer: str, why: str) -> None:
    jobs, outcome = await run("python", PY, 2, [answer, answer])
    assert outcome.edit is None and len(jobs) == 2
    assert why in outcome.error


async def test_a_type_the_file_lacks_is_left_and_the_others_apply() -> None:
    # The 1.5B's answer for cattrs' `is_bare(type)`: `function` is no Python type.
    _, outcome = await run("python", PY, 2, [json.dumps({"items": "function", "tax": "float"})])
    assert "(self, items, tax: float = 0.2, *args" in applied(PY, outcome)


async def test_a_type_may_use_what_the_file_imports_or_defines() -> None:
    text = (
        "from typing import Any\nfrom lsprotocol import types as lsp\nimport os.path\n"
        "if True:\n    Alias = int\n\n\n" + PY
    )
    answer = {
        "items": "list[Any]",
        "tax": "lsp.Position | Alias",
        "*args": "'Cart'",
        "**kw": "os.PathLike[str]",
        "return": "Cart",
    }
    _, outcome = await run("python", text, 9, [json.dumps(answer)])
    line = applied(text, outcome).split("\n")[8]
    assert "items: list[Any], tax: lsp.Position | Alias = 0.2, *args: 'Cart'" in line
    assert line.endswith("**kw: os.PathLike[str]) -> Cart:")


def _without_annotations(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            node.annotation = None
        if isinstance(node, ast.FunctionDef):
            node.returns = None
    return ast.dump(tree)


@settings(max_examples=80, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["items", "tax", "*args", "**kw", "return", "self", "key"]),
        st.one_of(
            st.sampled_from(["int", "list[str]", "None", "int, b", "int)", "lambda: 0", "'x'"]),
            st.text(max_size=20),
        ),
    )
)
async def test_whatever_the_answer_an_edit_only_adds_annotations(answer: dict[str, str]) -> None:
    _, outcome = await run("python", PY, 2, [json.dumps(answer)] * 2)
    if outcome.edit is None:
        return
    assert _without_annotations(applied(PY, outcome)) == _without_annotations(PY)


def test_no_slot_where_types_cannot_be_listed() -> None:
    assert keys("python", "def f(self):\n    return 1\n", 1) == ["return"]
    assert keys("python", "def f(a: int) -> int:\n    return a\n", 1) == []
    assert keys("rust", "fn f(a: i32) -> i32 {\n    let b = a;\n    b\n}\n", 1) == []
