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
    return items[0]
"""


def test_python_definitions() -> None:
    assert offered("python", PY, 0) == ALL
    assert offered("python", PY, 7) == ALL - {"rename_locals"}  # only a parameter
    # Lines inside a body: no docstring for them, and their locals live on after them.
    assert offered("python", PY, 1, 4) == ALL - {"docstring", "rename_locals"}


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
    assert offered("go", GO, 3) == ALL - {"annotate", "rename_locals", "docstring"}
    assert offered("go", GO, 8) == ALL - {"annotate"}


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
    assert offered("typescript", TS, 1, column=at_function) == ALL - {"docstring"}
    assert offered("typescript", TS, 6, column=at_function) == ALL - {"rename_locals"}
    arrow = "export const f = (a: number) => {\n  const b = a;\n  return b;\n};\n"
    assert offered("typescript", arrow, 1, column=2) == ALL  # the cursor in its body
    js = "export function last(xs) {\n  return xs[xs.length - 1];\n}\n"
    assert offered("javascript", js, 0, column=at_function) == ALL - {"rename_locals", "annotate"}


def test_a_decorated_definition_is_one_definition() -> None:
    decorated = "@cache\ndef f(a):\n    b = a * 2\n    return b\n"
    assert offered("python", decorated, 1) == ALL


def test_rust_may_annotate_its_lets() -> None:
    rust = "fn f(a: u8) -> u8 {\n    let b = a + 1;\n    b\n}\n"
    assert offered("rust", rust, 0) == ALL


@pytest.mark.parametrize(
    ("language", "text", "line"),
    [("plaintext", "just words\n", 0), ("python", PY, 40)],
)
def test_without_a_tree_or_past_the_end_everything_is_listed(
    language: str, text: str, line: int
) -> None:
    assert offered(language, text, line) == ALL
