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
from lsp_server.features.edits import resolve_target, whole_definition
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
    if info.name not in ANNOTATED:
        skip.add("annotate")
    if not locals_bound(snap.tree.root_node, b0, b1):
        skip.add("rename_locals")
    if definition is None or (not info.docstring_parents and _comment_above(snap, definition)):
        skip.add("docstring")
    return tuple(r for r in refactors if r not in skip)
