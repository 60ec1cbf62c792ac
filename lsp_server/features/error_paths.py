"""The rewrites that must keep behaviour keep its error paths (issue 22).

"Simplify", "Make idiomatic" and "Extract function" are not compared token by token (that is
their point), but the actions bench caught the 1.5B model's way of changing behaviour there:
dropping a `try` / `except AttributeError` for a one-line expression that raises where the
original returned a default. So the rewritten code must still catch every exception type the
original catches and still raise (or throw, or propagate with Rust's `?`) every kind the
original raises. Conservative on purpose: a rewrite that trades `except KeyError` for
`dict.get` is refused too; the retry tells the model why.
"""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter

from lsp_server.features.signature import node_text

# The refactors held to it; "rewrite" follows the user's own instruction, quick fixes a
# diagnostic: either may change error handling on purpose.
KEEPS_ERROR_PATHS = ("simplify", "idiomatic", "extract_function")

ANY = "any exception"  # a bare `except:`, JavaScript's untyped `catch (e)`
RERAISE = "the caught exception (bare raise)"

# Where a Python `except` clause names its types, a Java `catch` its types.
_PYTHON_CAUGHT = frozenset({"identifier", "attribute"})


def _within(node: tree_sitter.Node, span: range) -> bool:
    return node.start_byte < span.stop and node.end_byte > span.start


def _nodes(root: tree_sitter.Node, span: range) -> Iterator[tree_sitter.Node]:
    """Named nodes overlapping `span`, skipping subtrees outside it."""
    stack = [root]
    while stack:
        node = stack.pop()
        if not _within(node, span):
            continue
        yield node
        stack.extend(reversed(node.named_children))


def _python_types(value: tree_sitter.Node) -> Iterator[str]:
    if value.type == "as_pattern" and value.named_children:
        value = value.named_children[0]
    items = value.named_children if value.type in ("tuple", "parenthesized_expression") else [value]
    for item in items:
        yield node_text(item) if item.type in _PYTHON_CAUGHT else ANY


def _raised(node: tree_sitter.Node) -> str:
    """What a raise / throw statement raises: the class called or constructed, else the name."""
    if not node.named_children:
        return RERAISE
    value = node.named_children[0]
    if value.type == "call":
        value = value.child_by_field_name("function") or value
    elif value.type in ("new_expression", "object_creation_expression"):
        value = (
            value.child_by_field_name("constructor") or value.child_by_field_name("type") or value
        )
    return node_text(value)


def error_paths(root: tree_sitter.Node, span: range, language: str) -> set[str]:
    """The error paths of the code in `span`: `catches X`, `raises X`, `propagates (?)`."""
    paths: set[str] = set()
    for node in _nodes(root, span):
        kind = node.type
        if kind == "except_clause":  # Python (and `except*`)
            value = node.child_by_field_name("value")
            if value is None:
                named = [c for c in node.named_children if c.type != "block"]
                value = named[0] if named else None
            types = [ANY] if value is None else list(_python_types(value))
            paths.update(f"catches {t}" for t in types)
        elif kind == "catch_clause":
            caught = [
                node_text(t)
                for c in node.named_children
                if c.type == "catch_formal_parameter"
                for ct in c.named_children
                if ct.type == "catch_type"
                for t in ct.named_children
            ]  # Java
            paths.update(f"catches {t}" for t in (caught or [ANY]))
        elif kind in ("raise_statement", "throw_statement", "throw_expression"):
            paths.add(f"raises {_raised(node)}")
        elif kind == "try_expression" and language == "rust":
            paths.add("propagates errors with ?")
    return paths


def dropped_error_paths(
    before: tree_sitter.Node,
    old: range,
    after: tree_sitter.Node,
    new: range,
    language: str,
) -> str | None:
    """Why the rewrite (bytes `new` of `after`) loses an error path of the original (bytes
    `old` of `before`), or None when it keeps them all."""
    lost = sorted(error_paths(before, old, language) - error_paths(after, new, language))
    if not lost:
        return None
    listed = "; ".join(lost[:3]) + (f" and {len(lost) - 3} more" if len(lost) > 3 else "")
    return (
        "the rewrite changes the error handling (the original "
        f"{listed}, the rewrite no longer does): keep every try/except and raise as it is"
    )
