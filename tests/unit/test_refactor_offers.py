"""The refactors the code actions list: each only where it can do something."""

from __future__ import annotations

import pytest

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.refactor import REFACTORS
from lsp_server.features.refactor_offers import applicable

ALL = set(REFACTORS)


def offered(
    language: str, text: str, line: int, end_line: int | None = None, column: int = 0
) -> set[str]:
    snap = Document(f"file:///w/f.{language}", language, 1, text).snapshot()
    start = Position(line, column)
    end = Position(end_line, 0) if end_line is not None else start
    return set(applicable(snap, Range(start, end), REFACTORS))


PY = """def total(items):
    t = 0
    for i in items:
        t += i
    return t


def first(items):
    return items[0] if items else None
"""

STRAIGHT = ("simplify", "idiomatic", "extract_function")
EXTRACT = {"extract_function"}


def test_python_definitions() -> None:
    assert offered("python", PY, 0) == ALL
    # Only a parameter to rename; one statement: nothing to extract from it.
    assert offered("python", PY, 7) == ALL - {"rename_locals", "extract_function"}
    # Lines inside a body: no docstring for them, and their locals live on after them.
    assert offered("python", PY, 1, 4) == ALL - {"docstring", "rename_locals"}


def test_a_docstring_that_exists_is_not_added_again() -> None:
    documented = 'def f(a):\n    """Twice a."""\n    b = a * 2\n    return b\n'
    assert "docstring" not in offered("python", documented, 0)
    undocumented = documented.replace('    """Twice a."""\n', "")
    assert "docstring" in offered("python", undocumented, 0)


def test_straight_code_has_nothing_to_simplify_or_extract() -> None:
    four = "def f(a):\n    b = a\n    c = b\n    d = c\n    return d\n"
    assert offered("python", four, 0) == ALL - set(STRAIGHT)
    # A fifth statement is enough to extract a part, and to tidy.
    five = four.replace("    return d", "    e = d\n    return e")
    assert offered("python", five, 0) == ALL
    # A docstring and comments are not statements.
    commented = four.replace("def f(a):\n", 'def f(a):\n    """Doc."""\n    # note\n')
    assert offered("python", commented, 0) == ALL - set(STRAIGHT) - {"docstring"}


@pytest.mark.parametrize(
    ("language", "decision"),
    [
        ("python", "    if a:\n        b = 1\n"),
        ("python", "    b = a or 1\n"),
        ("python", "    b = [x for x in a]\n"),
        ("typescript", "  const b = a ? 1 : 2;\n"),
        ("typescript", "  const b = a ?? 1;\n"),
        ("go", "\tfor _, x := range a {\n\t\t_ = x\n\t}\n"),
        ("go", "\tb := a > 0 && a < 9\n"),
        ("rust", "    let b = match a { 1 => 2, _ => 3 };\n"),
    ],
)
def test_a_decision_is_something_to_simplify(language: str, decision: str) -> None:
    heads = {
        "python": ("def f(a):\n", "    return a\n"),
        "typescript": ("function f(a) {\n", "  return a;\n}\n"),
        "go": ("package p\n\nfunc f(a int) int {\n", "\treturn a\n}\n"),
        "rust": ("fn f(a: u8) -> u8 {\n", "    a\n}\n"),
    }
    head, tail = heads[language]
    line = 2 if language == "go" else 0
    assert {"simplify", "idiomatic"} <= offered(language, head + decision + tail, line)


def test_a_branch_among_three_statements_is_worth_extracting() -> None:
    two = "def f(a):\n    b = a or 1\n    return b\n"
    assert "extract_function" not in offered("python", two, 0)
    three = "def f(a):\n    if a:\n        a = 1\n    return a\n"
    assert "extract_function" in offered("python", three, 0)


GO = """package p

// Delims sets the delimiters.
func (t *T) Delims(left, right string) *T {
\tt.left = left
\treturn t
}

func (b *B) String() string {
\tvar sb strings.Builder
\tb.writeTo(&sb)
\treturn sb.String()
}
"""


def test_go_has_no_optional_types_and_keeps_its_doc_comment_above() -> None:
    # Short straight methods (the actions bench's `Template.Delims`, `BranchNode.String`).
    assert offered("go", GO, 3) == set()
    assert offered("go", GO, 8) == {"docstring", "rename_locals"}


TS = """/** The i-th element. */
export function get<T>(xs: T[], i?: number): T | undefined {
  const at = i ?? 0;
  return xs[at];
}

export function last(xs) {
  return xs[xs.length - 1];
}
"""


def test_typescript_exported_functions() -> None:
    at_function = len("export ")
    # (Two or three statements, one decision at most: never anything to extract.)
    # Its parameters and return typed: nothing for "Add type annotations" either.
    assert offered("typescript", TS, 1, column=at_function) == ALL - {
        "docstring",
        "annotate",
        *EXTRACT,
    }
    assert offered("typescript", TS, 6, column=at_function) == {"docstring", "annotate"}
    arrow = "export const f = (a: number) => {\n  const b = a ?? 1;\n  return b;\n};\n"
    assert offered("typescript", arrow, 1, column=2) == ALL - EXTRACT  # the cursor in its body
    js = "export function last(xs) {\n  return xs[xs.length - 1] || null;\n}\n"
    assert offered("javascript", js, 0, column=at_function) == ALL - {
        "rename_locals",
        "annotate",
        *EXTRACT,
    }


@pytest.mark.parametrize(
    ("language", "text", "wanted"),
    [
        ("python", "def f(a: int, *, b: str = 'x') -> int:\n    return a\n", False),
        ("python", "class C:\n    def f(self, a: int) -> int:\n        return a\n", False),
        ("python", "def f(a: int, b) -> int:\n    return a\n", True),
        ("python", "def f(a: int, *rest) -> int:\n    return a\n", True),
        ("python", "def f(a: int):\n    return a\n", True),
        ("typescript", "function f(a: number, b?: string): number {\n  return a;\n}\n", False),
        ("typescript", "function f(a: number, b?): number {\n  return a;\n}\n", True),
        ("typescript", "function f(a: number) {\n  return a;\n}\n", True),
        ("typescript", "export const f = async (a: number): Promise<number> => a;\n", False),
        ("typescript", "export const f = async (a): Promise<number> => a;\n", True),
        ("typescript", "export const f = async (a: number) => a;\n", True),
    ],
)
def test_annotations_are_offered_where_a_type_is_missing(
    language: str, text: str, wanted: bool
) -> None:
    line = 1 if text.startswith("class") else 0
    column = 4 if line else 0
    assert ("annotate" in offered(language, text, line, column=column)) is wanted


def test_a_decorated_definition_is_one_definition() -> None:
    decorated = "@cache\ndef f(a):\n    b = a * 2\n    return b\n"
    assert offered("python", decorated, 1) == ALL - set(STRAIGHT)


def test_rust_may_annotate_its_lets() -> None:
    rust = "fn f(a: u8) -> u8 {\n    let b = a + 1;\n    b\n}\n"
    assert offered("rust", rust, 0) == ALL - set(STRAIGHT)


@pytest.mark.parametrize(
    ("language", "text", "line"),
    [("plaintext", "just words\n", 0), ("python", PY, 40)],
)
def test_without_a_tree_or_past_the_end_everything_is_listed(
    language: str, text: str, line: int
) -> None:
    assert offered(language, text, line) == ALL
