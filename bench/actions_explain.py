"""Scoring an explanation: the function's doc is removed before the server sees it; then does
the explanation name every parameter and say what is returned, and which identifiers does it
mention that exist nowhere (not in the function, not in its file, not in the language's
builtins and keywords): hallucinations.

Identifiers of an explanation: every name in its code (fenced blocks and `inline spans`,
string literals left out) and, in its prose, the words shaped like identifiers: camelCase,
PascalCase with two humps or more, snake_case and _private names. The server's own title line
("## Explanation: `...` (file, line N)") is not the model's and is left out."""

from __future__ import annotations

import builtins
import keyword
import re

import tree_sitter

from bench.actions_tasks import words
from lsp_server.context.documents import Document
from lsp_server.features.signature import inner

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
STRINGS = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
PROSE_IDENT = re.compile(
    r"(?<![\w.])(?:"
    r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+"  # camelCase
    r"|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+"  # PascalCase, two humps or more
    r"|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+"  # snake_case
    r"|_+[A-Za-z0-9]\w*"  # _private, __dunder__
    r")(?![\w])"
)
RETURN_WORDS = re.compile(
    r"\b(returns?|returned|returning|yields?|yielded|gives back|evaluates to)\b", re.IGNORECASE
)
# The server's own words: the title, and what it writes when the answer was cut or empty.
TITLE = re.compile(
    r"^## Explanation: .*$|^_\(cut short\)_$|^_The model gave no explanation\._$", re.MULTILINE
)
EMPHASIS = re.compile(r"(?<![\w`])_([^_`\n]+)_(?![\w`])")  # _italics_: prose, not a name
# Words of ordinary technical prose shaped like identifiers.
PROSE_WORDS = words("JavaScript TypeScript GitHub PyPI NodeJS MacOS iOS README JSDoc GoDoc")

_PY_TYPES = (str, bytes, list, dict, set, frozenset, tuple, int, float, object, type)
PYTHON_KNOWN = frozenset(
    [*keyword.kwlist, *keyword.softkwlist, *dir(builtins)]
    + [name for t in _PY_TYPES for name in dir(t)]
)
TYPESCRIPT_KNOWN = words(
    """
    break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw
    true try typeof var void while with as implements interface let package private protected
    public static yield any boolean constructor declare get module require number set string
    symbol type from of async await keyof readonly unknown never undefined abstract is infer
    satisfies override Array Object String Number Boolean Symbol BigInt Promise Map Set WeakMap
    WeakSet Date RegExp Error TypeError RangeError SyntaxError JSON Math console globalThis
    Function Record Partial Required Readonly Pick Omit Exclude Extract NonNullable ReturnType
    Parameters Awaited Iterable Iterator AsyncIterable ArrayLike PromiseLike parseInt parseFloat
    isNaN isFinite encodeURIComponent decodeURIComponent length push pop shift unshift slice
    splice concat join indexOf lastIndexOf includes find findIndex filter map reduce forEach
    some every sort reverse keys values entries has add delete clear size toString valueOf
    hasOwnProperty startsWith endsWith trim trimStart trimEnd split replace replaceAll match
    test exec toLowerCase toUpperCase charAt charCodeAt codePointAt fromCharCode padStart padEnd
    repeat substring substr then catch finally resolve reject all allSettled race assign
    freeze fromEntries getOwnPropertyNames defineProperty isArray from of stringify parse
    """
)
GO_KNOWN = words(
    """
    break case chan const continue default defer else fallthrough for func go goto if import
    interface map package range return select struct switch type var append cap clear close
    complex copy delete imag len make max min new panic print println real recover bool byte
    comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune
    string uint uint8 uint16 uint32 uint64 uintptr any true false iota nil Error String
    """
)
KNOWN = {"python": PYTHON_KNOWN, "typescript": TYPESCRIPT_KNOWN, "go": GO_KNOWN}


def body_of_explanation(markdown: str) -> str:
    return TITLE.sub("", markdown)


def mentioned(markdown: str) -> set[str]:
    """The identifiers an explanation mentions (see the module's doc)."""
    body = body_of_explanation(markdown)
    found: set[str] = set()
    code_parts: list[str] = []
    for m in FENCE.finditer(body):
        code_parts.append(m.group(2))
    prose = FENCE.sub(" ", body)
    code_parts += SPAN.findall(prose)
    prose = EMPHASIS.sub(r"\1", SPAN.sub(" ", prose))
    for code in code_parts:
        found |= set(IDENT.findall(STRINGS.sub(" ", code)))
    found |= {w for w in PROSE_IDENT.findall(prose) if w not in PROSE_WORDS}
    return found


def hallucinations(markdown: str, file_text: str, language: str) -> list[str]:
    """Identifiers of the explanation that exist neither in the file the server saw (the
    function included) nor among the language's builtins and keywords."""
    known = set(IDENT.findall(file_text)) | KNOWN.get(language, frozenset())
    return sorted(name for name in mentioned(markdown) if name not in known)


def missing_parameters(markdown: str, params: list[str]) -> list[str]:
    body = body_of_explanation(markdown)
    return [
        p
        for p in params
        if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(p)}(?![A-Za-z0-9_])", body)
    ]


def says_what_is_returned(markdown: str) -> bool:
    return RETURN_WORDS.search(body_of_explanation(markdown)) is not None


# -- reading the function -----------------------------------------------------------------------


def remove_doc(doc: Document, span: tree_sitter.Node) -> tuple[str, bool] | None:
    """The file's text without the function's docstring (Python) or the comment block right
    above it (TypeScript, Go), and whether there was one; None when the docstring is all the
    function has."""
    lines = doc.text.split("\n")
    fn = inner(span)
    rows: tuple[int, int] | None = None
    if doc.language is not None and doc.language.name == "python":
        body = fn.child_by_field_name("body")
        first = body.named_children[0] if body is not None and body.named_children else None
        if (
            first is not None
            and first.type == "expression_statement"
            and first.named_child_count == 1
            and first.named_children[0].type == "string"
        ):
            if (
                body is not None
                and len([c for c in body.named_children if c.type != "comment"]) == 1
            ):
                return None
            rows = (first.start_point.row, first.end_point.row)
    else:
        top = span
        prev = top.prev_named_sibling
        start = top.start_point.row
        while prev is not None and prev.type == "comment" and prev.end_point.row == start - 1:
            start = prev.start_point.row
            prev = prev.prev_named_sibling
        if start < top.start_point.row:
            rows = (start, top.start_point.row - 1)
    if rows is None:
        return doc.text, False
    return "\n".join(lines[: rows[0]] + lines[rows[1] + 1 :]), True
