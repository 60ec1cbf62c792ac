"""Review's slip pass: places where the code says one thing and the model, reading the code up
to there, is confident it says another of the same kind: a comparison or boolean operator, a
negation, None, a boolean literal, an `await`, a `with`/`defer`, a bound, another variable.

One scoring pass over the reviewed code (a ScoreJob: no generation) gives each token's
log-probability and the model's likeliest tokens there; a slip is a token of code (not of a
string or comment) whose likeliest replacement is of the same kind and at least MIN_GAP more
likely (log scale). The gap is the confidence: WARNING_GAP and more is a warning. Measured on the
actions bench's tune half (docs/actions.md): seeded bugs are usually the least likely token of
their function, and the kinds keep most other surprising tokens (new names, other statements)
out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.features.edits import char_offset
from lsp_server.features.structure import field_of
from lsp_server.model.protocol import TokenScore

MIN_GAP = 4.0  # natural log: the replacement at least e^4 (55) times likelier
WARNING_GAP = 8.0
MAX_SLIPS = 3
CONTEXT_CHARS = 1000  # of the file before the target, scored as context (not reviewed)

COMPARISONS = frozenset({"<", ">", "<=", ">=", "==", "!=", "===", "!==", "in"})
BOOLEAN_OPERATORS = frozenset({"and", "or", "&&", "||"})
NEGATIONS = frozenset({"not", "!"})
NONE = frozenset({"None", "null", "nil", "undefined"})
BOOLEAN_LITERALS = (frozenset({"True", "False"}), frozenset({"true", "false"}))
AWAIT = frozenset({"await"})
RESOURCE = frozenset({"with", "defer"})
BOUND_CLOSERS = frozenset({")", "]", ":"})
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Slip:
    start: int  # str offsets of the token's text (blanks stripped) in the document
    end: int
    kind: str
    actual: str
    expected: str  # the model's likeliest token there (for `name`: the whole variable)
    logprob: float  # of the actual token
    expected_logprob: float

    @property
    def gap(self) -> float:
        return self.expected_logprob - self.logprob

    @property
    def severity(self) -> str:
        return "warning" if self.gap >= WARNING_GAP else "information"

    @property
    def message(self) -> str:
        a, b = f"`{self.actual}`", f"`{self.expected}`"
        odds = f"(the model: {b} {_percent(self.expected_logprob)}, {a} {_percent(self.logprob)})"
        what = {
            "comparison": f"{a} may be the wrong comparison here: {b} fits the code around it",
            "boolean": f"{a} may be the wrong operator here: {b} fits the code around it",
            "negation": f"A negation may be missing or wrong here: {b} fits before {a}",
            "none": f"This check may be inverted: {b} fits here rather than {a}",
            "literal": f"{a} may be the wrong value here: {b} fits the code around it",
            "await": f"This call may need {b}: its result may be a coroutine or promise",
            "resource": f"What is opened here may never be closed: {b} fits here",
            "bound": f"Possible off-by-one: {b} fits here rather than {a}",
            "name": f"{a} may be the wrong variable here: {b} fits the code around it",
        }[self.kind]
        return f"{what} {odds}"

    @property
    def fix(self) -> str:
        """The replacement for the slip's text, when it is a plain swap ("" otherwise)."""
        swaps = ("comparison", "boolean", "literal", "name")
        return self.expected if self.kind in swaps else ""


def _percent(logprob: float) -> str:
    p = math.exp(logprob) * 100
    return f"{p:.0f}%" if p >= 1 else "<1%"


def kind_of(actual: str, expected: str) -> str | None:
    """The slip kind of a token (`actual`, stripped) where the model expected `expected`."""
    if actual == expected:
        return None
    if actual in COMPARISONS and expected in COMPARISONS:
        return "comparison"
    if actual in BOOLEAN_OPERATORS and expected in BOOLEAN_OPERATORS:
        return "boolean"
    if actual in NEGATIONS and expected in NONE:
        return "none"  # `is not None` where `is None` fits
    if expected in NEGATIONS:
        return "negation"
    if any({actual, expected} == pair for pair in BOOLEAN_LITERALS):
        return "literal"
    if expected in AWAIT:
        return "await"
    if expected in RESOURCE:
        return "resource"
    if actual.isdigit() and expected.isdigit():
        return "bound"
    plus_minus = {"+", "-"}
    if (actual in plus_minus and expected in BOUND_CLOSERS) or (
        expected in plus_minus and actual in BOUND_CLOSERS
    ):
        return "bound"
    return None


def _in_code(node: tree_sitter.Node) -> bool:
    current: tree_sitter.Node | None = node
    while current is not None:
        if "comment" in current.type or "string" in current.type:
            return False
        current = current.parent
    return True


def variables(root: tree_sitter.Node, start: int, end: int) -> dict[str, int]:
    """The names bound in bytes [start, end) (assigned, declared, parameters), with the line
    where each is first bound."""
    found: dict[str, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.type == "identifier" and _bound(node):
            found.setdefault((node.text or b"").decode("utf-8", "replace"), node.start_point.row)
        stack.extend(reversed(node.children))
    return found


def _bound(node: tree_sitter.Node) -> bool:
    parent = node.parent
    for _ in range(4):
        if parent is None:
            return False
        kind = parent.type
        if "parameter" in kind or kind in ("assignment", "short_var_declaration", "for_statement"):
            return field_of(node) not in ("right", "value", "body", "type")
        if kind in ("variable_declarator", "var_spec", "const_spec", "let_declaration"):
            return field_of(node) in ("name", "pattern", "")
        if kind not in ("pattern_list", "tuple_pattern", "expression_list", "identifier_list"):
            return False
        node, parent = parent, parent.parent
    return False


def _name_slip(
    root: tree_sitter.Node, byte: int, actual: str, expected: str, names: dict[str, int]
) -> tuple[tree_sitter.Node, str] | None:
    """The identifier read at `byte` (the token `actual`, perhaps after punctuation: `(ctx`)
    and the other variable the model expected (`expected` starts its name), or None."""
    word_a, word_e = WORD.search(actual), WORD.search(expected)
    if word_a is None or word_e is None:
        return None
    if actual[: word_a.start()] != expected[: word_e.start()]:
        return None  # `(ctx` against `(formatter`: the same punctuation before the names
    at = byte + len(actual[: word_a.start()].encode("utf-8"))
    node = root.named_descendant_for_byte_range(at, at)
    if node is None or node.type != "identifier" or node.start_byte != at:
        return None
    if field_of(node) in ("name", "function", "attribute", "field"):
        return None
    name = (node.text or b"").decode("utf-8", "replace")
    if name not in names or _bound(node):
        return None  # not a variable of the target, or this is where it is bound
    prefix = word_e.group()
    if name.startswith(prefix):
        return None
    row = node.start_point.row
    matches = [n for n, first in names.items() if n.startswith(prefix) and first < row]
    return (node, matches[0]) if len(matches) == 1 else None


def find_slips(
    snap: DocumentSnapshot, start: int, text: str, scores: Sequence[TokenScore]
) -> list[Slip]:
    """The slips of `text` (the document's text from str offset `start`), given its scores;
    the likeliest first, at most MAX_SLIPS."""
    tree = snap.tree
    data = text.encode("utf-8")
    if tree is None or not scores or scores[-1].end != len(data):
        return []  # no tree, or the text the model scored is not this one (a redaction)
    base = len(snap.text[:start].encode("utf-8"))
    root = tree.root_node
    names = variables(root, base, base + len(data))
    found: list[Slip] = []
    for score in scores:
        if not score.likely or score.likely[0][1] - score.logprob < MIN_GAP:
            continue
        slip = _slip(snap, root, base, data, score, names)
        if slip is not None and not any(s.start == slip.start for s in found):
            found.append(slip)
    found.sort(key=lambda s: -s.gap)
    return found[:MAX_SLIPS]


def _slip(
    snap: DocumentSnapshot,
    root: tree_sitter.Node,
    base: int,
    data: bytes,
    score: TokenScore,
    names: dict[str, int],
) -> Slip | None:
    try:
        piece = data[score.start : score.end].decode("utf-8")
    except UnicodeDecodeError:
        return None  # a token that cuts a character: never an operator or a name
    expected_raw, expected_logprob = score.likely[0]
    actual, expected = piece.strip(), expected_raw.strip()
    if not actual or not expected:
        return None
    byte = base + score.start + len(piece[: len(piece) - len(piece.lstrip())].encode("utf-8"))
    node = root.descendant_for_byte_range(byte, byte + 1)
    if node is None or not _in_code(node):
        return None
    kind = kind_of(actual, expected)
    if kind is None:
        named = _name_slip(root, byte, actual, expected, names)
        if named is None:
            return None
        node, expected = named
        byte, kind = node.start_byte, "name"
        actual = (node.text or b"").decode("utf-8", "replace")
    begin = char_offset(snap, byte)
    return Slip(begin, begin + len(actual), kind, actual, expected, score.logprob, expected_logprob)
