"""Explain completes its Parameters list and Returns line from the syntax tree: the signature
reading per language, where the added lines go, and the whole explain with a scripted model."""

from __future__ import annotations

import asyncio

import pytest
import tree_sitter

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features import signature
from lsp_server.features.explain import explain
from lsp_server.features.explain_sections import MAX_ADDED, complete, find_gap
from lsp_server.model.protocol import GenerateJob, GenerationResult, GenerationStats, ScoreJob
from lsp_server.prompts.actions import ChatPrompt

PROMPT = ChatPrompt("<|im_start|>assistant\n", ("<|im_end|>",), 384)


def first_function(source: str, language: str) -> tree_sitter.Node:
    snap = Document(f"file:///w/f.{language}", language, 1, source).snapshot()
    assert snap.tree is not None
    stack = [snap.tree.root_node]
    while stack:
        node = stack.pop(0)
        fn = signature.function_node(node) if node.type != "program" else None
        if fn is not None and node.type not in ("module", "source_file", "program"):
            return fn
        stack.extend(node.named_children)
    raise AssertionError("no function")


@pytest.mark.parametrize(
    ("language", "source", "params", "returns"),
    [
        ("rust", "fn f(&self, mut a: u8, (b, c): (u8, u8)) -> u8 { a }\n", None, True),
        ("rust", "fn f(&mut self, a: u8, b: &str) { g(a) }\n", ["a", "b"], False),
        ("rust", "fn f(a: u8) -> () { g(a) }\n", ["a"], False),
        ("javascript", "function f(a, b = 2, ...rest) { return a }\n", ["a", "b", "rest"], True),
        ("javascript", "const f = ({a}) => a\n", None, True),
        ("typescript", "const f = async (a: string): Promise<void> => { g(a) }\n", ["a"], False),
        ("python", "def f(a, /, b: int = 1, *args, c, **kw) -> None:\n    g(a)\n",
         ["a", "b", "args", "c", "kw"], False),
        ("python", "def f(x):\n    yield x\n", ["x"], True),
        ("go", "package p\nfunc f(int, string) (n int) { return }\n", [], True),
        ("java", "class C { int f(int a, String... b) { return a; } }\n", ["a", "b"], True),
    ],
)  # fmt: skip
def test_signatures_per_language(
    language: str, source: str, params: list[str] | None, returns: bool
) -> None:
    fn = first_function(source, language)
    assert signature.parameters(fn, is_method=True) == params
    assert signature.returns_something(fn, language) is returns


def test_a_class_is_not_a_function() -> None:
    snap = Document("file:///w/f.py", "python", 1, "class C:\n    def m(self):\n        pass\n")
    tree = snap.snapshot().tree
    assert tree is not None
    cls = tree.root_node.named_children[0]
    assert signature.function_node(cls) is None
    decorated = Document("file:///w/g.py", "python", 1, "@d\ndef f(a):\n    pass\n").snapshot()
    assert decorated.tree is not None
    fn = signature.function_node(decorated.tree.root_node.named_children[0])
    assert fn is not None and fn.type == "function_definition"


ANSWER = """Reads the settings file.

**Parameters**
- `path`: where the file is.
  It may be relative.
- `strict`: fail on unknown keys.

It loops over the lines."""


def test_the_gap_is_at_the_end_of_the_list_with_its_marker() -> None:
    gap = find_gap(ANSWER, ["path", "strict", "encoding"], returns=True)
    assert gap is not None
    assert gap.missing == ("encoding",) and gap.needs_returns and gap.marker == "-"
    assert gap.head.endswith("- `strict`: fail on unknown keys.\n")
    assert gap.tail == "\nIt loops over the lines."
    assert gap.opening == ""
    # A parameter named only outside the list is still missing from it.
    assert find_gap(ANSWER + " Uses `encoding`.", ["encoding"], False) is not None
    assert find_gap(ANSWER, ["path", "strict"], returns=False) is None
    assert find_gap(ANSWER + "\nReturns the dict.", ["path"], returns=True) is None


@pytest.mark.parametrize(
    "heading", ["**Parameters:**", "### Parameters", "Parameters:", "**Arguments**:", "__Args__"]
)
def test_headings_models_write(heading: str) -> None:
    answer = f"Sum.\n\n{heading}\n* `a`: one\n\n**Returns**: a number"
    gap = find_gap(answer, ["a", "b"], returns=True)
    assert gap is not None and gap.missing == ("b",) and gap.marker == "*"
    assert gap.tail == "\n**Returns**: a number" and not gap.needs_returns


def test_no_list_starts_one_after_the_summary() -> None:
    answer = "Adds two numbers\nand logs them.\n\nFirst it checks `a`."
    gap = find_gap(answer, ["a", "b"], returns=False)
    assert gap is not None
    assert gap.missing == ("b",)  # with no list, `a` named anywhere counts
    assert gap.head == "Adds two numbers\nand logs them.\n"
    assert gap.opening == "\n**Parameters**\n"
    assert gap.tail == "\nFirst it checks `a`."


class Scripted:
    """A model that writes `lines` in order, one per job, and records the prompts."""

    def __init__(self, *lines: str) -> None:
        self.lines = list(lines)
        self.jobs: list[GenerateJob] = []

    async def __call__(self, job: GenerateJob | ScoreJob) -> GenerationResult:
        assert isinstance(job, GenerateJob)
        self.jobs.append(job)
        return GenerationResult(self.lines.pop(0), GenerationStats(stop_reason="stop"))


def test_complete_asks_one_line_per_missing_name_and_keeps_the_rest() -> None:
    model = Scripted("the text encoding.", "", "the settings as a dict.")
    out = asyncio.run(complete(ANSWER, PROMPT, ["path", "encoding", "mode"], True, model))
    assert out == (
        "Reads the settings file.\n\n**Parameters**\n- `path`: where the file is.\n"
        "  It may be relative.\n- `strict`: fail on unknown keys.\n"
        "- `encoding`: the text encoding.\n"  # `mode`'s empty line is left out
        "\n**Returns**: the settings as a dict.\n\nIt loops over the lines."
    )
    first, second, third = model.jobs
    assert first.prompt == PROMPT.text + ANSWER.split("\n\nIt loops")[0] + "\n- `encoding`: "
    assert second.prompt.endswith("- `encoding`: the text encoding.\n- `mode`: ")
    assert third.prompt.endswith("- `encoding`: the text encoding.\n\n**Returns**: ")
    assert all("\n" in j.stop and "<|im_end|>" in j.stop for j in model.jobs)


def test_complete_opens_a_list_only_for_a_line_the_model_wrote() -> None:
    model = Scripted("", "the second.")
    out = asyncio.run(complete("Sum.\n\nMore.", PROMPT, ["a", "b"], False, model))
    assert out == "Sum.\n\n**Parameters**\n- `b`: the second.\n\nMore."
    assert model.jobs[0].prompt.endswith("Sum.\n\n**Parameters**\n- `a`: ")
    model = Scripted("")
    assert asyncio.run(complete("Sum.", PROMPT, ["a"], False, model)) == "Sum.\n"


def test_a_long_signature_gets_at_most_max_added_lines() -> None:
    names = [f"p{i}" for i in range(MAX_ADDED + 3)]
    gap = find_gap("Sum.", names, returns=False)
    assert gap is not None and len(gap.missing) == MAX_ADDED


SOURCE = """import os


def load(path, strict=False, *, encoding="utf-8"):
    if strict:
        os.stat(path)
    return open(path, encoding=encoding).read()


class Box:
    def put(self, item):
        self.items.append(item)
"""


def run_explain(line: int, model: Scripted, end_line: int | None = None) -> str:
    snap = Document("file:///w/load.py", "python", 1, SOURCE).snapshot()
    start = Position(line, 8)
    end = Position(end_line, 0) if end_line is not None else start
    result = asyncio.run(explain(snap, Range(start, end), "qwen2", model))
    return result.markdown


def test_explain_of_a_function_adds_what_the_model_left_out() -> None:
    model = Scripted(
        "Loads a file.\n\n**Parameters**\n- `path`: the file.\n\nSteps follow.",
        "check the file exists first.",
        "the text encoding.",
        "the file's text.",
    )
    markdown = run_explain(3, model)
    assert "- `strict`: check the file exists first.\n- `encoding`: the text encoding." in markdown
    assert "**Returns**: the file's text." in markdown
    assert markdown.rstrip().endswith("Steps follow.")
    assert len(model.jobs) == 4


def test_a_method_skips_self_and_a_few_lines_are_not_completed() -> None:
    model = Scripted("Appends.", "the thing to store.")
    markdown = run_explain(10, model)
    assert "- `item`: the thing to store." in markdown and "`self`" not in markdown
    assert len(model.jobs) == 2  # no Returns line: put returns nothing
    model = Scripted("Two lines.")
    run_explain(4, model, end_line=6)  # a part of load: nothing to complete
    assert len(model.jobs) == 1


def test_a_cut_answer_is_not_completed() -> None:
    class Cut(Scripted):
        async def __call__(self, job: GenerateJob | ScoreJob) -> GenerationResult:
            assert isinstance(job, GenerateJob)
            self.jobs.append(job)
            return GenerationResult("Loads a", GenerationStats(stop_reason="length"))

    model = Cut()
    assert "_(cut short)_" in run_explain(3, model)
    assert len(model.jobs) == 1


TS = """/** Adds. */
export const add = (a: number, b: number): number => a + b;

export function tryResolve(modulePath: string): string | undefined {
  return lookup(modulePath);
}

export const handler = register((event) => event.id);
"""


def explain_lines(first: int, last: int, model: Scripted) -> str:
    """Explain lines first..last (whole lines, as a selection of them is sent)."""
    snap = Document("file:///w/m.ts", "typescript", 1, TS).snapshot()
    rng = Range(Position(first, 0), Position(last + 1, 0))
    return asyncio.run(explain(snap, rng, "qwen2", model)).markdown


def test_exported_and_const_functions_are_completed_but_not_a_call_taking_one() -> None:
    model = Scripted("Adds two numbers.", "the first.", "the second.", "their sum.")
    markdown = explain_lines(1, 1, model)
    assert (
        "- `a`: the first.\n- `b`: the second." in markdown
        and "**Returns**: their sum." in markdown
    )
    model = Scripted("Resolves a module.", "the module's path.", "its file, or undefined.")
    markdown = explain_lines(3, 5, model)
    assert "- `modulePath`: the module's path." in markdown
    assert "**Returns**: its file, or undefined." in markdown
    model = Scripted("Registers a handler.")
    explain_lines(7, 7, model)
    assert len(model.jobs) == 1  # `register(...)` is a call, not a function to list
