"""What a function's syntax tree says about its interface: the parameter names a reader would
expect explained, and whether it returns something. Explain completes its answer from these;
the actions bench scores explanations with them."""

from __future__ import annotations

import tree_sitter

FUNCTION_NODES = frozenset(
    {
        "function_definition",  # python, c
        "lambda",
        "function_declaration",  # typescript, javascript, go
        "generator_function_declaration",
        "method_definition",
        "arrow_function",
        "function_expression",
        "func_literal",
        "method_declaration",  # go, java
        "function_item",  # rust
        "closure_expression",
    }
)
_NO_VALUE = ("None", "void", "Promise<void>", "never", "NoReturn", "()")
_SEPARATORS = ("keyword_separator", "positional_separator", "self_parameter", "comment")


def node_text(node: tree_sitter.Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def _walk(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop(0)
        out.append(n)
        stack.extend(n.children)
    return out


def inner(node: tree_sitter.Node) -> tree_sitter.Node:
    """The function node itself, from the node its lines span (decorated, exported, a const)."""
    stack = [node]
    while stack:
        n = stack.pop(0)
        if n.type in FUNCTION_NODES:
            return n
        stack.extend(n.named_children)
    return node


# What a definition may come wrapped in: `export`, decorators, `const f = () => ...`.
WRAPPERS = frozenset(
    {
        "export_statement",
        "decorated_definition",
        "lexical_declaration",
        "variable_declaration",
        "variable_declarator",
    }
)


def function_node(span: tree_sitter.Node) -> tree_sitter.Node | None:
    """The function a definition's node is (decorated, exported, assigned to a const), or
    None: a class is not a function, nor a call that takes one."""
    node: tree_sitter.Node | None = span
    while node is not None and node.type not in FUNCTION_NODES:
        if node.type not in WRAPPERS:
            return None
        node = (
            node.child_by_field_name("value")
            or node.child_by_field_name("definition")
            or (node.named_children[-1] if node.named_children else None)
        )
    return node


def _pattern_name(pattern: tree_sitter.Node | None) -> str | None:
    """`x`, `...x`, `x = 1`, `mut x`: the one name; None for a destructuring pattern."""
    while pattern is not None and pattern.type in (
        "rest_pattern",
        "assignment_pattern",
        "mut_pattern",
        "list_splat_pattern",
        "dictionary_splat_pattern",
    ):
        pattern = pattern.child_by_field_name("left") or (
            pattern.named_children[0] if pattern.named_children else None
        )
    if pattern is not None and pattern.type in (
        "identifier",
        "this",
        "shorthand_property_identifier_pattern",
    ):
        return node_text(pattern)
    return None


def _names(p: tree_sitter.Node) -> list[str] | None:
    if p.type == "identifier":
        return [node_text(p)]
    if p.type in ("parameter_declaration", "variadic_parameter_declaration") and any(
        p.field_name_for_child(i) == "name" for i in range(p.child_count)
    ):  # go: `a, b int`
        return [
            node_text(c) for i, c in enumerate(p.children) if p.field_name_for_child(i) == "name"
        ]
    if p.type in ("parameter_declaration", "variadic_parameter_declaration"):
        return []  # go: an unnamed parameter (`func(int)`)
    if p.type in ("required_parameter", "optional_parameter", "parameter"):  # ts, rust
        name = _pattern_name(p.child_by_field_name("pattern"))
        return None if name is None else [name]
    if p.type in ("rest_pattern", "assignment_pattern"):  # javascript
        name = _pattern_name(p)
        return None if name is None else [name]
    # python (default, typed, typed default, *args, **kwargs), java (formal_parameter)
    named = p.child_by_field_name("name")
    ident = named or next(
        (
            c
            for c in _walk(p)
            if c.type == "identifier" and c.parent is not None and c.parent.type != "type"
        ),
        None,
    )
    return None if ident is None else [node_text(ident)]


def parameters(span: tree_sitter.Node, is_method: bool) -> list[str] | None:
    """The parameter names a reader would expect explained (no self/cls/this/_), or None when
    a parameter has no name (a destructuring pattern)."""
    fn = inner(span)
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return []
    if params.type == "identifier":  # `x => ...`
        return [node_text(params)]
    names: list[str] = []
    for p in params.named_children:
        if p.type in _SEPARATORS:
            continue
        found = _names(p)
        if found is None:
            return None
        names += found
    skip = {"_", "this"} | ({"self", "cls"} if is_method else set())
    return [n for n in names if n not in skip]


def _own_nodes(fn: tree_sitter.Node) -> list[tree_sitter.Node]:
    """The function's nodes, not those of functions nested in it."""
    out, stack = [], list(fn.children)
    while stack:
        n = stack.pop()
        if n.type in FUNCTION_NODES:
            continue
        out.append(n)
        stack.extend(n.children)
    return out


def returns_something(span: tree_sitter.Node, language: str) -> bool:
    fn = inner(span)
    if language == "go":
        return fn.child_by_field_name("result") is not None
    annotation = node_text(fn.child_by_field_name("return_type")).lstrip(":-> ").strip()
    if annotation:
        return annotation not in _NO_VALUE
    if language == "rust":
        return False  # no return type: `()`
    body = fn.child_by_field_name("body")
    if body is not None and body.type not in ("block", "statement_block"):
        return True  # an arrow function's expression body
    return any(
        (
            n.type == "return_statement"
            and n.named_child_count > 0
            and node_text(n.named_children[0]) != "None"
        )
        or n.type in ("yield", "yield_expression")
        for n in _own_nodes(fn)
    )
