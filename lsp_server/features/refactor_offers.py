"""Which refactors the code actions list for a target: the ones that can do something there.

On the actions bench's held-out half, most refactor requests that ended without an edit were
ones that could not have made one: type annotations for Go (every type is already written),
renaming the locals of a method that has none, a docstring for a Go method whose doc comment
sits above it, outside the target, a docstring for a function that has one, annotations for
a function whose parameters and return have their types. Nor is there
anything to simplify, make idiomatic or extract in a few lines of straight code (Go's
four-line `Template.Delims`: "no change", or a copy of a function the file already has as
the "extracted" part). The list leaves those out instead of offering an action that can only
fail."""

from __future__ import annotations

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot, Range
from lsp_server.errors import PositionOutOfRange
from lsp_server.features.edits import resolve_target, unwrapped, whole_definition
from lsp_server.features.structure import is_comment, is_docstring, locals_bound

# Languages whose types may be left out, so that adding them is a refactor.
ANNOTATED = frozenset({"python", "typescript", "rust"})
# Refactors that restructure code: offered where there is structure to change.
RESTRUCTURING = ("simplify", "idiomatic")
# Straight code shorter than this has nothing to simplify or extract; a branch or a loop
# among fewer statements (at least EXTRACT_BESIDE_DECISION) is a part worth its own name.
MIN_STATEMENTS = 5
EXTRACT_BESIDE_DECISION = 3
# The nodes that hold a body's statements, in the languages with a tree.
BLOCKS = frozenset({"block", "statement_block", "statement_list", "compound_statement"})
# Where the code decides: a branch, a loop, a handler, a condition inside an expression.
DECISIONS = frozenset(
    {
        *("if_statement", "if_expression", "elif_clause", "conditional_expression"),
        *("ternary_expression", "boolean_operator", "for_statement", "for_in_statement"),
        *("for_expression", "while_statement", "while_expression", "do_statement"),
        *("loop_expression", "switch_statement", "expression_switch_statement"),
        *("type_switch_statement", "select_statement", "match_statement"),
        *("match_expression", "try_statement", "try_expression", "with_statement"),
        *("list_comprehension", "dict_comprehension", "set_comprehension"),
        "generator_expression",
    }
)
LOGICAL = frozenset({"&&", "||", "??", "and", "or"})
# Parameters that carry a type (TypeScript's may not: their `type` field says).
TYPED_PARAMETERS = frozenset(
    {"typed_parameter", "typed_default_parameter", "required_parameter", "optional_parameter"}
)


def _comment_above(snap: DocumentSnapshot, node: tree_sitter.Node) -> bool:
    info = snap.language
    previous = node.prev_named_sibling
    return (
        info is not None
        and previous is not None
        and previous.type in info.comment_types
        and previous.end_point.row == node.start_point.row - 1
    )


def _substance(node: tree_sitter.Node, b0: int, b1: int) -> tuple[int, int]:
    """(statements, decisions) within bytes [b0, b1): a nested statement counts too."""
    statements = decisions = 0
    stack = [node]
    while stack:
        n = stack.pop()
        if n.end_byte <= b0 or n.start_byte >= b1:
            continue
        parent = n.parent
        inside = b0 <= n.start_byte and n.end_byte <= b1
        if (
            inside
            and parent is not None
            and parent.type in BLOCKS
            and n.is_named
            and n.type not in BLOCKS
            and not is_comment(n)
            and not is_docstring(n)
        ):
            statements += 1
        operator = n.child_by_field_name("operator") if n.type == "binary_expression" else None
        if inside and (n.type in DECISIONS or (operator is not None and operator.type in LOGICAL)):
            decisions += 1
        stack.extend(n.children)
    return statements, decisions


def _has_docstring(definition: tree_sitter.Node) -> bool:
    body = unwrapped(definition).child_by_field_name("body")
    first = body.named_children[0] if body is not None and body.named_children else None
    return first is not None and is_docstring(first)


def _fully_annotated(language: str, definition: tree_sitter.Node) -> bool:
    """Whether every parameter and the return of a function have their types written: what
    is left (locals) the type checkers infer, and the model answers "no change". A Python
    method's `self` / `cls` needs none. Rust's signatures always have their types: there
    annotations are for the `let`s, so Rust stays listed."""
    if language == "rust":
        return False
    fn = unwrapped(definition)
    if fn.type == "variable_declarator":  # const f = (a: T): R => ...
        fn = fn.child_by_field_name("value") or fn
    params = fn.child_by_field_name("parameters")
    if params is None or fn.child_by_field_name("return_type") is None:
        return False
    for i, param in enumerate(p for p in params.named_children if not is_comment(p)):
        if param.type in TYPED_PARAMETERS and (
            language == "python" or param.child_by_field_name("type") is not None
        ):
            continue
        if param.type in ("keyword_separator", "positional_separator"):
            continue
        if i == 0 and param.type == "identifier" and param.text in (b"self", b"cls"):
            continue
        return False
    return True


def applicable(snap: DocumentSnapshot, rng: Range, refactors: tuple[str, ...]) -> tuple[str, ...]:
    """The `refactors` worth offering for the target of `rng` (all of them for a language
    without a syntax tree, or a range the action itself will refuse)."""
    info = snap.language
    if info is None or snap.tree is None:
        return refactors
    try:
        target = resolve_target(snap, rng)
    except PositionOutOfRange:
        return refactors
    b0, b1 = target.code_bytes
    definition = whole_definition(target)
    skip: set[str] = set()
    if info.name not in ANNOTATED or (
        definition is not None and _fully_annotated(info.name, definition)
    ):
        skip.add("annotate")
    if not locals_bound(snap.tree.root_node, b0, b1):
        skip.add("rename_locals")
    if (
        definition is None
        or (not info.docstring_parents and _comment_above(snap, definition))
        or _has_docstring(definition)
    ):
        skip.add("docstring")
    statements, decisions = _substance(snap.tree.root_node, b0, b1)
    if statements < MIN_STATEMENTS and not decisions:
        skip.update(RESTRUCTURING)
    if statements < (EXTRACT_BESIDE_DECISION if decisions else MIN_STATEMENTS):
        skip.add("extract_function")
    return tuple(r for r in refactors if r not in skip)
