"""Review's slip pass without a model: scripted token scores over real tree-sitter trees."""

from __future__ import annotations

import json
import re

import pytest

from lsp_server.context.documents import Document
from lsp_server.errors import Unsupported
from lsp_server.features.review import review
from lsp_server.features.slips import MAX_SLIPS, MIN_GAP, WARNING_GAP, Slip, find_slips, kind_of
from lsp_server.model.protocol import GenerateJob, GenerationResult, ScoreJob, TokenScore
from lsp_server.prompts.actions import Generate


def scores(text: str, doubts: dict[str, str], gap: float = 12.0) -> list[TokenScore]:
    """Tokens cut roughly as BPE does: words, punctuation runs, one punctuation character glued
    to the word after it (`(fmt`), blanks glued to the token after them; every token equal to
    a key of `doubts` (blanks stripped) is doubted by `gap` in favour of its value."""
    out: list[TokenScore] = []
    data = text.encode()
    for m in re.finditer(rb"\s*([^\w\s]?\w+|[^\w\s]+)|\s+", data):
        piece = m.group().decode()
        expected = doubts.get(piece.strip())
        if expected is None:
            out.append(TokenScore(m.start(), m.end(), -0.1, ((piece, -0.1),)))
        else:
            out.append(TokenScore(m.start(), m.end(), -gap - 0.05, ((expected, -0.05),)))
    return out


def slips_of(language: str, text: str, doubts: dict[str, str], gap: float = 12.0) -> list[Slip]:
    snap = Document(f"file:///w/f.{language}", language, 1, text).snapshot()
    return find_slips(snap, 0, text, scores(text, doubts, gap))


@pytest.mark.parametrize(
    ("actual", "expected", "kind"),
    [
        (">=", ">", "comparison"),
        ("===", "!==", "comparison"),
        ("in", "not", "negation"),
        ("or", "and", "boolean"),
        ("||", "&&", "boolean"),
        ("not", "None", "none"),
        ("value", "not", "negation"),
        ("x", "!", "negation"),
        ("True", "False", "literal"),
        ("false", "true", "literal"),
        ("self", "await", "await"),
        ("f", "with", "resource"),
        ("return", "defer", "resource"),
        ("0", "1", "bound"),
        ("+", ")", "bound"),
        (")", "-", "bound"),
        ("True", "false", None),  # two languages' literals
        ("+", "*", None),  # arithmetic is not a slip kind
        ("return", "if", None),  # another statement
        (">", ">", None),
    ],
)
def test_kinds(actual: str, expected: str, kind: str | None) -> None:
    assert kind_of(actual, expected) == kind


def test_an_inverted_none_check_in_python_with_its_odds() -> None:
    text = "def get(d, k):\n    v = d.get(k)\n    if v is not None:\n        return v.strip()\n"
    [slip] = slips_of("python", text, {"not": "None"})
    assert (slip.kind, slip.actual, slip.expected, slip.fix) == ("none", "not", "None", "")
    assert text[slip.start : slip.end] == "not" and text.count("\n", 0, slip.start) == 2
    assert slip.severity == "warning"
    assert slip.message.endswith("(the model: `None` 95%, `not` <1%)")


@pytest.mark.parametrize(
    ("language", "text", "doubts", "line", "fix"),
    [
        (
            "typescript",
            "function same(a: string, b: string): boolean {\n  return a !== b;\n}\n",
            {"!==": "==="},
            1,
            "===",
        ),
        (
            "go",
            "func sum(xs []int) int {\n\tt := 0\n\tfor i := 0; i <= len(xs); i++ {\n"
            "\t\tt += xs[i]\n\t}\n\treturn t\n}\n",
            {"<=": "<"},
            2,
            "<",
        ),
        (
            "rust",
            "fn done(a: bool, b: bool) -> bool {\n    a || b\n}\n",
            {"||": "&&"},
            1,
            "&&",
        ),
        ("javascript", "function ok() {\n  return false;\n}\n", {"false": "true"}, 1, "true"),
    ],
)
def test_operator_slips_in_each_language(
    language: str, text: str, doubts: dict[str, str], line: int, fix: str
) -> None:
    [slip] = slips_of(language, text, doubts)
    assert text.count("\n", 0, slip.start) == line and slip.fix == fix
    assert text[slip.start : slip.end] == slip.actual


@pytest.mark.parametrize(
    ("language", "text"),
    [
        (
            "python",
            'def f(a, b):\n    """a >= b"""\n    # a >= b\n    s = "a >= b"\n    return s\n',
        ),
        ("typescript", "function f(a: number) {\n  // a >= 1\n  return `a >= ${a}`;\n}\n"),
        ("go", 'func f() string {\n\t/* a >= b */\n\treturn `a >= b` + "a >= b"\n}\n'),
    ],
)
def test_strings_and_comments_are_never_slips(language: str, text: str) -> None:
    assert slips_of(language, text, {">=": ">"}) == []


def test_a_read_of_another_variable_names_the_one_bound_before() -> None:
    text = (
        "def f(count, total):\n"
        "    ratio = total / count\n"
        "    return ratio + self.total + total(1)\n"
    )
    found = slips_of("python", text, {"ratio": "tot", "total": "cou"})
    # `ratio` read on line 2 -> `total` (a unique prefix, bound before); the parameter
    # `total`, the attribute `.total` and the call `total(1)` are not variable reads; the read
    # `total` on line 1 -> `count`.
    got = sorted((text.count("\n", 0, s.start), s.actual, s.expected, s.fix) for s in found)
    assert got == [(1, "total", "count", "count"), (2, "ratio", "total", "total")]


def test_a_name_slip_needs_one_variable_with_the_expected_start_bound_before() -> None:
    text = "def f(ab, ac, x):\n    y = x\n    return y + x\n"
    assert slips_of("python", text, {"x": "a"}) == []  # `a` starts ab and ac: ambiguous
    assert slips_of("python", text, {"y": "z"}) == []  # no variable starts with z
    # Expected `y` for the read of x on line 1: y is bound on that line, not before it.
    found = slips_of("python", text, {"x": "y"})
    assert [(text.count("\n", 0, s.start), s.expected) for s in found] == [(2, "y")]


def test_punctuation_before_the_names_must_match() -> None:
    text = "def f(ctx, fmt):\n    g(ctx, fmt)\n    h(fmt)\n"
    found = slips_of("python", text, {"(fmt": "(ctx"})
    assert [(s.actual, s.expected) for s in found] == [("fmt", "ctx")]
    assert slips_of("python", text, {"(fmt": "ctx"}) == []


def test_confidence_floor_severity_order_and_limit() -> None:
    text = "def f(a, b, c, d, e):\n    return a < b and b < c and c < d and d < e\n"
    assert slips_of("python", text, {"<": ">="}, gap=MIN_GAP - 0.5) == []
    found = slips_of("python", text, {"<": ">="}, gap=MIN_GAP + 0.5)
    assert len(found) == MAX_SLIPS and {s.severity for s in found} == {"information"}
    assert [s.severity for s in slips_of("python", text, {"<": ">="}, gap=WARNING_GAP)] == [
        "warning"
    ] * MAX_SLIPS
    mixed = scores(text, {"<": ">="})
    best = [i for i, s in enumerate(mixed) if s.logprob < -1][2]
    mixed[best] = TokenScore(mixed[best].start, mixed[best].end, -30.0, mixed[best].likely)
    snap = Document("file:///w/f.py", "python", 1, text).snapshot()
    first = find_slips(snap, 0, text, mixed)[0]
    assert first.logprob == -30.0  # the least likely first


def test_scores_of_another_text_are_not_used() -> None:
    text = "def f(a, b):\n    return a >= b\n"
    snap = Document("file:///w/f.py", "python", 1, text).snapshot()
    redacted = scores(text + "<redacted>", {">=": ">"})
    assert find_slips(snap, 0, text, redacted) == []
    assert find_slips(snap, 0, text, scores(text, {">=": ">"})) != []


def test_a_target_inside_the_document_maps_to_document_offsets() -> None:
    text = "x = 'é'\n\n\ndef f(a, b):\n    return a >= b\n"
    start = text.index("def")
    snap = Document("file:///w/f.py", "python", 1, text).snapshot()
    [slip] = find_slips(snap, start, text[start:], scores(text[start:], {">=": ">"}))
    assert text[slip.start : slip.end] == ">="


# -- in review, with a scripted model -------------------------------------------------------

CODE = "def f(a, b):\n    if a >= b:\n        return a\n    return open(b)\n"
ANSWER = json.dumps(
    [
        {
            "category": "bug-risk",
            "severity": "warning",
            "message": "the file is never closed",
            "snippet": "open(b)",
            "fix": "",
        }
    ]
)


def scripted(slip_scores: list[TokenScore] | Exception) -> Generate:
    async def generate(job: GenerateJob | ScoreJob) -> GenerationResult:
        if isinstance(job, ScoreJob):
            assert job.text == CODE and job.context == ""  # nothing before the target
            if isinstance(slip_scores, Exception):
                raise slip_scores
            return GenerationResult("", scores=tuple(slip_scores))
        return GenerationResult(ANSWER)

    return generate


async def test_review_reports_the_models_findings_and_the_slips() -> None:
    snap = Document("file:///w/f.py", "python", 1, CODE).snapshot()
    outcome = await review(snap, None, "chatml", scripted(scores(CODE, {">=": ">"})))
    got = [(f.snippet, f.category, f.severity, f.fix, f.basis) for f in outcome.findings]
    # The model's "warning" on a line the slip pass did not flag is information.
    assert got == [
        ("open(b)", "bug-risk", "information", "", "model"),
        (">=", "bug-risk", "warning", ">", "slip"),
    ]


async def test_review_without_scores_still_reports_the_models_findings() -> None:
    snap = Document("file:///w/f.py", "python", 1, CODE).snapshot()
    outcome = await review(snap, None, "chatml", scripted(Unsupported("no scores here")))
    assert [f.snippet for f in outcome.findings] == ["open(b)"]


async def test_the_models_severity_stands_where_a_slip_corroborates_it() -> None:
    snap = Document("file:///w/f.py", "python", 1, CODE).snapshot()
    outcome = await review(snap, None, "chatml", scripted(scores(CODE, {"open": "with"})))
    got = [(f.snippet, f.severity, f.basis) for f in outcome.findings]
    assert got == [("open(b)", "warning", "model"), ("open", "warning", "slip")]
