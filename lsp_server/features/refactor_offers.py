"""Which refactors the code actions list for a target: the ones that can do something there.

On the actions bench's held-out half, most refactor requests that ended without an edit were
ones that could not have made one: type annotations for Go (every type is already written),
renaming the locals of a method that has none, a docstring for a Go method whose doc comment
sits above it, outside the target. The list leaves those out instead of offering an action
that can only fail."""

from __future__ import annotations

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot, Range
from lsp_server.errors import PositionOutOfRange
from lsp_server.features.edits import resolve_target
from lsp_server.features.structure import locals_bound

# Languages whose types may be left out, so that adding them is a refactor.
ANNOTATED = frozenset({"python", "typescript", "rust"})


def _comment_above(snap: DocumentSnapshot, node: tree_sitter.Node) -> bool:
    info = snap.language
    previous = node.prev_named_sibling
    return (
        info is not None
        and previous is not None
        and previous.type in info.comment_types
        and previous.end_point.row == node.start_point.row - 1
    )


def _one_definition(snap: DocumentSnapshot, b0: int, b1: int) -> tree_sitter.Node | None:
    """The node of exactly the bytes [b0, b1) when they are one definition (with its
    decorators, or `export`), else None."""
    info, tree = snap.language, snap.tree
    if info is None or tree is None:
        return None
    span = tree.root_node.descendant_for_byte_range(b0, b1)
    if span is None or (span.start_byte, span.end_byte) != (b0, b1):
        return None
    if span.type in info.definition_types:
        return span
    inner = span.named_children[-1] if span.named_children else None
    return span if inner is not None and inner.type in info.definition_types else None


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
    text = target.text
    start = target.start + len(text) - len(text.lstrip())
    end = target.start + len(text.rstrip())
    b0, b1 = snap.byte_offset(start), snap.byte_offset(end)
    definition = _one_definition(snap, b0, b1)
    skip: set[str] = set()
    if info.name not in ANNOTATED:
        skip.add("annotate")
    if not locals_bound(snap.tree.root_node, b0, b1):
        skip.add("rename_locals")
    if definition is None or (not info.docstring_parents and _comment_above(snap, definition)):
        skip.add("docstring")
    return tuple(r for r in refactors if r not in skip)
