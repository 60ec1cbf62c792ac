"""Seeded bugs for the review bench: mutation operators on code, picked with tree-sitter.

Every site is a node of the code itself: subtrees of strings and comments are never entered, so
a mutation can't land in either. A mutation is one replacement of a byte range of the original
text; the bench keeps it only if the mutant still parses (`still_parses`). `line` is the 0-based
line the bug is on; it is the same line in the original and in the mutant (a dropped line's bug
is reported on the line that acquired the resource, which comes before it)."""

from __future__ import annotations

import ast
import itertools
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

from lsp_server.context.documents import Document
from lsp_server.context.languages import LanguageInfo
from lsp_server.context.syntax import count_error_nodes
from lsp_server.features.structure import field_of

OPERATORS = (
    "comparison",  # `<` <-> `>=`, `==` <-> `!=`, `in` <-> `not in`
    "none_check",  # `is None` <-> `is not None`, `== nil` <-> `!= nil`, `=== null` <-> `!== null`
    "bool_op",  # `and` <-> `or`, `&&` <-> `||`
    "off_by_one",  # `range(n)` -> `range(n - 1)`, `[i+1:]` -> `[i:]`, `< len` -> `<= len`
    "negation",  # `not x` -> `x`, `!x` -> `x`
    "swap_args",  # f(a, b) -> f(b, a), arguments that look alike
    "wrong_variable",  # a read of one local/parameter replaced by another
    "resource_leak",  # `with open() as f:` -> `f = open()`; `defer f.Close()` dropped
    "missing_await",  # `await g()` -> `g()`
    "bool_literal",  # `return True` -> `return False`
)

FLIP = {
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "==": "!=",
    "!=": "==",
    "===": "!==",
    "!==": "===",
    "in": "not in",
    "not in": "in",
    "is": "is not",
    "is not": "is",
}
PYTHON_ONLY = frozenset({"in", "not in", "is", "is not"})  # typescript's `in` has no negation
BOUNDARY = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
NULLS = frozenset({"none", "null", "undefined", "nil"})
NUMBERS = frozenset({"integer", "number", "int_literal"})
BOOLS = {"true": "false", "false": "true", "True": "False", "False": "True"}
AND_OR = {"and": "or", "or": "and", "&&": "||", "||": "&&"}
# Arguments that look alike: swapping two of them is a plausible slip.
ALIKE = frozenset(
    {"identifier", "attribute", "member_expression", "selector_expression", *NUMBERS, "float"}
)
ARGUMENT_LISTS = frozenset({"argument_list", "arguments"})
LENGTH = re.compile(r"\blen\(|\.length\b|\.size\b|\.Len\(\)")
CLOSERS = frozenset({"close", "Close"})


@dataclass(frozen=True)
class Mutation:
    operator: str
    start: int  # byte offsets of the replaced range in the original text
    end: int
    replacement: str
    line: int  # 0-based line of the bug
    original: str  # the replaced text, for the record

    def apply(self, text: str) -> str:
        data = text.encode("utf-8")
        return (data[: self.start] + self.replacement.encode("utf-8") + data[self.end :]).decode(
            "utf-8"
        )

    def line_delta(self) -> int:
        """Lines the mutant has more (+) or fewer (-) than the original."""
        return self.replacement.count("\n") - self.original.count("\n")


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def code_nodes(
    node: tree_sitter.Node, info: LanguageInfo, start: int, end: int
) -> Iterator[tree_sitter.Node]:
    """Nodes overlapping [start, end) bytes, never entering strings or comments."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.end_byte <= start or n.start_byte >= end:
            continue
        if n.type in info.string_types or n.type in info.comment_types:
            continue
        if start <= n.start_byte and n.end_byte <= end:
            yield n
        stack.extend(reversed(n.children))


def _binary(
    node: tree_sitter.Node,
) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node, tree_sitter.Node]]:
    """(operator token, left operand, right operand) of a binary or (chained) comparison."""
    if node.type == "comparison_operator":  # python; `a < b <= c` has two
        kids = node.children
        for i, kid in enumerate(kids):
            if node.field_name_for_child(i) == "operators" and 0 < i < len(kids) - 1:
                yield kid, kids[i - 1], kids[i + 1]
    elif node.type in ("binary_expression", "boolean_operator"):
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op is not None and left is not None and right is not None:
            yield op, left, right


def _replace(operator: str, node: tree_sitter.Node, new: str) -> Mutation:
    return Mutation(
        operator, node.start_byte, node.end_byte, new, node.start_point.row, _text(node)
    )


def _bump(node: tree_sitter.Node, direction: int) -> str:
    """The bound moved by one: `x + 1` -> `x`, `x - 1` -> `x`, `3` -> `4` (direction 1),
    `x` -> `x + 1` or `x - 1`."""
    if node.type in ("binary_operator", "binary_expression"):
        op = node.child_by_field_name("operator")
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        plus_minus_one = op is not None and _text(op) in ("+", "-")
        if plus_minus_one and left is not None and right is not None and _text(right) == "1":
            return _text(left)
    if node.type in NUMBERS and _text(node).isdigit():
        return str(max(0, int(_text(node)) + direction)) if int(_text(node)) else "1"
    return f"{_text(node)} {'+' if direction > 0 else '-'} 1"


def _off_by_one(node: tree_sitter.Node) -> Iterator[Mutation]:
    op = "off_by_one"
    if node.type == "call":  # python range(): its end bound
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        if fn is not None and _text(fn) == "range" and args is not None:
            positional = [a for a in args.named_children if a.type not in _NOT_POSITIONAL]
            if 1 <= len(positional) <= 3 and len(positional) == len(args.named_children):
                stop = positional[0] if len(positional) == 1 else positional[1]
                yield _replace(op, stop, _bump(stop, -1))
    elif node.type == "slice":  # python x[a:b]
        colons, bounds = 0, {}
        for kid in node.children:
            if kid.type == ":":
                colons += 1
            elif kid.is_named and colons < 2:
                bounds[colons] = kid
        for which, bound in bounds.items():
            yield _replace(op, bound, _bump(bound, 1 if which == 0 else -1))
    elif node.type == "slice_expression":  # go x[a:b]
        for field, direction in (("start", 1), ("end", -1)):
            go_bound = node.child_by_field_name(field)
            if go_bound is not None:
                yield _replace(op, go_bound, _bump(go_bound, direction))
    elif node.type == "call_expression":  # typescript x.slice(a) / x.substring(a)
        fn, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
        prop = fn.child_by_field_name("property") if fn is not None else None
        if prop is not None and _text(prop) in ("slice", "substring", "substr") and args:
            first = args.named_children[0] if args.named_children else None
            if first is not None and first.type != "spread_element":
                yield _replace(op, first, _bump(first, 1))
    elif node.type in ("subscript", "subscript_expression", "index_expression"):
        index = node.child_by_field_name("subscript") or node.child_by_field_name("index")
        if index is not None and index.type in ("binary_operator", "binary_expression"):
            bumped = _bump(index, 1)
            if bumped != f"{_text(index)} + 1":  # only `x - 1` / `x + 1` indexes
                yield _replace(op, index, bumped)
    for tok, left, right in _binary(node):
        sym = _text(tok)
        if sym in BOUNDARY and any(
            LENGTH.search(_text(side)) or side.type in NUMBERS for side in (left, right)
        ):
            yield _replace(op, tok, BOUNDARY[sym])


_NOT_POSITIONAL = frozenset(
    {"keyword_argument", "list_splat", "dictionary_splat", "spread_element", "comment"}
)


def _operators(node: tree_sitter.Node) -> Iterator[Mutation]:
    for tok, left, right in _binary(node):
        sym = _text(tok)
        if sym in AND_OR:
            yield _replace("bool_op", tok, AND_OR[sym])
        elif sym in FLIP and (node.type == "comparison_operator" or sym not in PYTHON_ONLY):
            nullish = left.type in NULLS or right.type in NULLS
            if nullish and sym not in ("in", "not in"):
                yield _replace("none_check", tok, FLIP[sym])
            elif not nullish:
                yield _replace("comparison", tok, FLIP[sym])
    if node.type == "not_operator" or (
        node.type == "unary_expression" and _text(node).startswith("!")
    ):
        arg = node.child_by_field_name("argument") or node.child_by_field_name("operand")
        if arg is not None:
            yield _replace("negation", node, _text(arg))
    if node.type in ("await", "await_expression") and node.named_children:
        yield _replace("missing_await", node, _text(node.named_children[-1]))
    if node.type == "return_statement":
        for value in node.named_children:
            values = value.named_children if value.type == "expression_list" else [value]
            for v in values:
                if _text(v) in BOOLS and v.type in ("true", "false"):
                    yield _replace("bool_literal", v, BOOLS[_text(v)])
    if node.type in ARGUMENT_LISTS:
        args = [a for a in node.named_children if a.type != "comment"]
        for a, b in itertools.pairwise(args):
            if a.type == b.type and a.type in ALIKE and _text(a) != _text(b):
                between = (node.text or b"")[
                    a.end_byte - node.start_byte : b.start_byte - node.start_byte
                ]
                new = _text(b) + between.decode("utf-8", "replace") + _text(a)
                yield Mutation(
                    "swap_args",
                    a.start_byte,
                    b.end_byte,
                    new,
                    a.start_point.row,
                    _text(a) + between.decode("utf-8", "replace") + _text(b),
                )


# -- wrong variable --------------------------------------------------------------------------

_PATTERNS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "expression_list",
        "parenthesized_expression",
        "list_splat_pattern",
        "dictionary_splat_pattern",
        "as_pattern_target",
    }
)
_PARAMS = frozenset(
    {
        "parameters",
        "default_parameter",
        "typed_parameter",
        "typed_default_parameter",
        "required_parameter",
        "optional_parameter",
        "parameter_declaration",
        "variadic_parameter_declaration",
    }
)
_LOCALS = {  # container type -> the field whose identifiers it binds
    "assignment": "left",
    "augmented_assignment": "left",
    "for_statement": "left",
    "for_in_statement": "left",
    "as_pattern": "alias",
    "named_expression": "name",
    "variable_declarator": "name",
    "short_var_declaration": "left",
    "var_spec": "name",
    "range_clause": "left",
}
_WRITES = {
    "assignment_expression": "left",
    "augmented_assignment_expression": "left",
    "assignment_statement": "left",
    "inc_statement": None,
    "dec_statement": None,
    "update_expression": None,
}
_NOT_READS = {
    "attribute": "attribute",
    "keyword_argument": "name",
    "call": "function",
    "call_expression": "function",
    "default_parameter": "name",
    "typed_default_parameter": "name",
}
SKIP_NAMES = frozenset({"self", "cls", "_", "this"})


def _role(node: tree_sitter.Node, params: tree_sitter.Node | None) -> str:
    """`param`, `local` (a binding), `write`, `other` (a name that is no variable read) or
    `read`, for an identifier node."""
    child, parent = node, node.parent
    while parent is not None and parent.type in _PATTERNS:
        child, parent = parent, parent.parent
    if parent is None or parent.type == "lambda_parameters":
        return "other"
    field = field_of(child) or None
    if parent.type in _PARAMS:
        owner = parent if parent.type == "parameters" else parent.parent
        if params is None or owner != params or field in ("value", "type"):
            return "other" if field == "type" else ("read" if field == "value" else "other")
        return "param"
    if parent.type in _LOCALS and field == _LOCALS[parent.type]:
        return "local"
    if parent.type in _WRITES and field in (_WRITES[parent.type], None):
        return "write"
    if parent.type in _NOT_READS and field == _NOT_READS[parent.type]:
        return "other"
    if parent.type in ("type", "type_annotation", "generic_type", "type_identifier"):
        return "other"
    return "read"


def _wrong_variable(fn: tree_sitter.Node, nodes: list[tree_sitter.Node]) -> Iterator[Mutation]:
    params = fn.child_by_field_name("parameters")
    if params is None:  # a const arrow function: its value holds the parameters
        value = next(
            (n for n in nodes if n.type in ("arrow_function", "function_expression")), None
        )
        params = value.child_by_field_name("parameters") if value is not None else None
    first_bound: dict[str, int] = {}  # name -> row where it is first bound (-1: a parameter)
    kinds: dict[str, str] = {}
    reads: list[tree_sitter.Node] = []
    for n in nodes:
        if n.type != "identifier" or _text(n) in SKIP_NAMES:
            continue
        role, name = _role(n, params), _text(n)
        if role == "param":
            first_bound[name], kinds[name] = -1, "param"
        elif role == "local" and name not in first_bound:
            first_bound[name], kinds[name] = n.start_point.row, "local"
        elif role == "read":
            reads.append(n)
    counts = Counter(_text(r) for r in reads if _text(r) in first_bound)
    for read in reads:
        name = _text(read)
        if counts[name] < 2 or first_bound.get(name, read.start_point.row) >= read.start_point.row:
            continue
        others = [b for b, row in first_bound.items() if b != name and row < read.start_point.row]
        if not others:
            continue
        same = [b for b in others if kinds[b] == kinds[name]]
        for other in same or others:
            yield _replace("wrong_variable", read, other)


# -- resources ---------------------------------------------------------------------------------


def _line_span(source: bytes, node: tree_sitter.Node) -> tuple[int, int]:
    """Bytes of the whole lines the node is on, newline included."""
    start = source.rfind(b"\n", 0, node.start_byte) + 1
    end = source.find(b"\n", node.end_byte)
    return start, len(source) if end < 0 else end + 1


def _alone_on_its_lines(source: bytes, node: tree_sitter.Node) -> bool:
    start, end = _line_span(source, node)
    rest = source[start : node.start_byte] + source[node.end_byte : end]
    return not rest.strip(b" \t\r\n;")


def _acquired_row(source: bytes, fn: tree_sitter.Node, name: str, before_row: int) -> int | None:
    """The last line of the function before `before_row` that assigns `name`."""
    lines = source.decode("utf-8", "replace").split("\n")
    word = re.escape(name)
    # `name = ...`, `a, name := ...`, `const name = ...`: the name on the left of an assignment.
    assign = re.compile(
        rf"^\s*(?:(?:var|let|const)\s+)?(?:\w+\s*,\s*)*{word}\s*(?:,\s*\w+\s*)*(?::=|=(?!=))"
    )
    for row in range(before_row - 1, fn.start_point.row - 1, -1):
        if assign.search(lines[row]):
            return row
    return None


def _resource_leaks(
    source: bytes, fn: tree_sitter.Node, node: tree_sitter.Node
) -> Iterator[Mutation]:
    if node.type == "with_statement":  # python: `with open(p) as f:` -> `f = open(p)`
        yield from _with_to_assignment(source, node)
        return
    # go `defer f.Close()`; python/typescript `f.close()`
    closing = node.type in ("defer_statement", "expression_statement")
    call = node.named_children[0] if closing and node.named_children else None
    if call is None or call.type not in ("call", "call_expression"):
        return
    callee = call.child_by_field_name("function")
    if callee is None or callee.type not in MEMBER_ACCESS:
        return
    member = (
        callee.child_by_field_name("attribute")
        or callee.child_by_field_name("property")
        or callee.child_by_field_name("field")
    )
    obj = callee.child_by_field_name("object") or callee.child_by_field_name("operand")
    if member is None or obj is None or _text(member) not in CLOSERS:
        return
    if not _alone_on_its_lines(source, node):
        return
    if obj.type != "identifier" or _text(obj) in SKIP_NAMES:
        return  # `self._f.close()`: acquired elsewhere, not a local resource
    row = _acquired_row(source, fn, _text(obj), node.start_point.row)
    if row is None:
        return
    start, end = _line_span(source, node)
    original = source[start:end].decode("utf-8", "replace")
    yield Mutation("resource_leak", start, end, "", row, original)


MEMBER_ACCESS = frozenset({"attribute", "member_expression", "selector_expression"})


def _with_to_assignment(source: bytes, node: tree_sitter.Node) -> Iterator[Mutation]:
    clause = next((c for c in node.named_children if c.type == "with_clause"), None)
    body = node.child_by_field_name("body")
    if clause is None or body is None or len(clause.named_children) != 1:
        return
    if any(c.type == "comment" for c in node.children):
        return
    item = clause.named_children[0]
    value = item.child_by_field_name("value")
    if value is None or value.type != "as_pattern" or body.start_point.row <= node.start_point.row:
        return
    call = value.named_children[0] if value.named_children else None
    alias = value.child_by_field_name("alias")
    if call is None or alias is None or call.type != "call" or alias.named_child_count != 1:
        return
    if alias.named_children[0].type != "identifier":
        return
    start, end = _line_span(source, node)
    lines = source[start:end].decode("utf-8", "replace").split("\n")
    header_rows = body.start_point.row - node.start_point.row
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
    body_lines = lines[header_rows:]
    body_indent = body_lines[0][: len(body_lines[0]) - len(body_lines[0].lstrip())]
    if not body_indent.startswith(indent) or len(body_indent) <= len(indent):
        return
    cut = len(body_indent) - len(indent)
    if any(line.strip() and not line.startswith(body_indent) for line in body_lines):
        return  # a line that is not plain body (a multi-line string): leave it alone
    head = f"{indent}{_text(alias)} = {_text(call)}"
    if head.count("\n") != header_rows - 1:
        return
    new = "\n".join([head, *(line[cut:] if line.strip() else line for line in body_lines)])
    original = "\n".join(lines)
    yield Mutation("resource_leak", start, end, new, node.start_point.row, original)


# -- all sites, and picking one ----------------------------------------------------------------


def sites(doc: Document, fn: tree_sitter.Node) -> dict[str, list[Mutation]]:
    """Every mutation of the function `fn` (a node of `doc`'s tree), by operator."""
    info = doc.language
    if info is None or doc.tree is None:
        return {}
    source = doc.text.encode("utf-8")
    nodes = list(code_nodes(doc.tree.root_node, info, fn.start_byte, fn.end_byte))
    found: dict[str, list[Mutation]] = {}
    found_all: list[Mutation] = list(_wrong_variable(fn, nodes))
    for node in nodes:
        found_all += [*_operators(node), *_off_by_one(node), *_resource_leaks(source, fn, node)]
    for m in found_all:
        found.setdefault(m.operator, []).append(m)
    return found


def still_parses(doc: Document, mutant: str) -> bool:
    """No new tree-sitter errors, and for Python source that compiled, it still does."""
    new = Document(doc.uri, doc.language_id, 1, mutant)
    if doc.tree is None or new.tree is None:
        return False
    if count_error_nodes(new.tree) > count_error_nodes(doc.tree):
        return False
    if doc.language is not None and doc.language.name == "python":
        try:
            ast.parse(doc.text)
        except (SyntaxError, ValueError):
            return True
        try:
            ast.parse(mutant)
        except (SyntaxError, ValueError):
            return False
    return True


def pick(
    doc: Document, fn: tree_sitter.Node, rng: random.Random, used: Counter[str]
) -> Mutation | None:
    """One mutation that parses: of the operator used least so far (ties broken by `rng`),
    at a random site. Counts it in `used`."""
    by_op = sites(doc, fn)
    order = sorted(by_op, key=lambda op: (used[op], rng.random()))
    for op in order:
        candidates = list(by_op[op])
        rng.shuffle(candidates)
        for m in candidates:
            if m.apply(doc.text) != doc.text and still_parses(doc, m.apply(doc.text)):
                used[op] += 1
                return m
    return None
