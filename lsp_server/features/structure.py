"""The refactors that must not change behaviour, held to it by the syntax tree (issue 22).

"Add docstring", "Add type annotations" and "Rename locals" are offered only when the tree of
the edited file equals the original's modulo what the refactor may change: comments and
docstrings; for annotations also the optional type annotations (Python, TypeScript, Rust's
`let`); for renaming also one consistent renaming, inside the target, of local variables bound
there (never a parameter, an attribute, a keyword argument, a definition's name, a global).

Trees are compared as token streams that keep the nesting (so Python's indentation, which
makes blocks, counts) and every leaf's text: any other difference, however small, is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter

# What each refactor may change beside comments (and Python docstrings).
STRUCTURAL = ("docstring", "annotate", "rename_locals")

# (language, parent type, field): an optional annotation, skipped with the ":" or "->" before it.
ANNOTATION_FIELDS = frozenset(
    {
        ("python", "typed_parameter", "type"),
        ("python", "typed_default_parameter", "type"),
        ("python", "assignment", "type"),
        ("python", "function_definition", "return_type"),
        ("rust", "let_declaration", "type"),
    }
)
# Nodes that are an annotation as a whole, with their ":" (TypeScript).
ANNOTATION_NODES = frozenset({"type_annotation"})
# An annotated form and the plain form it stands for (the bare parameter has no wrapper).
ANNOTATED_AS = {"typed_parameter": "", "typed_default_parameter": "default_parameter"}

# (parent type, field) where an identifier is declared or first bound, per grammar.
BINDINGS = frozenset(
    {
        ("assignment", "left"),  # Python: an assignment makes a local
        ("for_statement", "left"),
        ("for_in_clause", "left"),
        ("as_pattern_target", ""),
        ("named_expression", "name"),
        ("variable_declarator", "name"),  # JavaScript / TypeScript / Java
        ("for_in_statement", "left"),
        ("short_var_declaration", "left"),  # Go
        ("var_spec", "name"),
        ("range_clause", "left"),
        ("let_declaration", "pattern"),  # Rust
        ("for_expression", "pattern"),
        ("enhanced_for_statement", "name"),  # Java
        ("init_declarator", "declarator"),  # C / C++
        ("declaration", "declarator"),
    }
)
# Nodes a bound name may sit in between itself and its binding node.
PATTERNS = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "array_pattern",
        "expression_list",
        "as_pattern",
        "pointer_declarator",
        "array_declarator",
        "mut_pattern",
    }
)
# (parent type, field) of names that are not variables: renaming them changes behaviour.
NOT_VARIABLES = frozenset(
    {("attribute", "attribute"), ("keyword_argument", "name"), ("global_statement", "")}
)
SCOPES_WITHOUT_LOCALS = ("global_statement", "nonlocal_statement")
DEFINITIONS = ("definition", "declaration", "item")  # endings of definitions' node types
# Substrings of the node types that open a function's scope, in the grammars here.
FUNCTION_WORDS = ("func", "method", "lambda", "closure", "constructor")


@dataclass(frozen=True)
class Token:
    kind: str  # a node type, "(" + type for a named node's start, ")" for its end
    text: str = ""  # a leaf's text
    node: tree_sitter.Node | None = None  # an identifier's node (for the renaming checks)


def is_comment(node: tree_sitter.Node) -> bool:
    return node.type.endswith("comment")


def is_docstring(node: tree_sitter.Node) -> bool:
    """A Python docstring: a lone string statement first in a module, class or function."""
    if node.type != "expression_statement" or node.named_child_count != 1:
        return False
    string = node.named_children[0]
    parent = node.parent
    if string.type != "string" or parent is None:
        return False
    first = next((c for c in parent.named_children if not is_comment(c)), None)
    if first is None or first.id != node.id:
        return False
    return parent.type == "module" or (
        parent.type == "block"
        and parent.parent is not None
        and parent.parent.type in ("function_definition", "class_definition")
    )


def _in_class_body(node: tree_sitter.Node) -> bool:
    """Whether a Python assignment is a class attribute (annotations make dataclass fields)."""
    parent = node.parent
    while parent is not None and parent.type in ("expression_statement", "block"):
        if parent.type == "block":
            return parent.parent is not None and parent.parent.type == "class_definition"
        parent = parent.parent
    return False


def tokens(root: tree_sitter.Node, language: str, annotations: bool) -> Iterator[Token]:
    """The tree as a token stream without comments and docstrings (and, with `annotations`,
    without optional type annotations)."""
    stack: list[tree_sitter.Node | Token] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Token):
            yield node
            continue
        if is_comment(node) or (language == "python" and is_docstring(node)):
            continue
        if node.child_count == 0:
            kind = node.type
            text = node.text.decode("utf-8", "replace") if node.text is not None else ""
            yield Token(kind, text, node if kind == "identifier" else None)
            continue
        kind = node.type
        if annotations and language == "python":
            kind = ANNOTATED_AS.get(kind, kind)
        children = _kept_children(node, language, annotations)
        group: list[tree_sitter.Node | Token] = []
        if kind and node.is_named:
            group.append(Token("(" + kind))
        group.extend(children)
        if kind and node.is_named:
            group.append(Token(")"))
        stack.extend(reversed(group))


def _kept_children(
    node: tree_sitter.Node, language: str, annotations: bool
) -> list[tree_sitter.Node | Token]:
    kept: list[tree_sitter.Node | Token] = []
    children = node.children
    skip_next_marker = False
    for i in range(len(children) - 1, -1, -1):  # backwards: an annotation drops its marker
        child = children[i]
        field = node.field_name_for_child(i) or ""
        if skip_next_marker and child.type in (":", "->"):
            skip_next_marker = False
            continue
        skip_next_marker = False
        if annotations and _is_annotation(node, child, field, language):
            skip_next_marker = child.type not in ANNOTATION_NODES
            continue
        kept.append(child)
    kept.reverse()
    return kept


def _is_annotation(
    parent: tree_sitter.Node, child: tree_sitter.Node, field: str, language: str
) -> bool:
    if child.type in ANNOTATION_NODES and language in ("typescript", "tsx"):
        return True
    if (language, parent.type, field) not in ANNOTATION_FIELDS:
        return False
    return not (parent.type == "assignment" and _in_class_body(parent))


def field_of(node: tree_sitter.Node) -> str:
    """The field of its parent that `node` fills ("" for none)."""
    parent = node.parent
    if parent is None:
        return ""
    for i, child in enumerate(parent.children):
        if child.id == node.id:
            return parent.field_name_for_child(i) or ""
    return ""


def _is_bound_here(node: tree_sitter.Node) -> bool:
    """Whether identifier `node` is declared or first bound at this place (through patterns)."""
    current = node
    for _ in range(4):
        parent = current.parent
        if parent is None:
            return False
        if (parent.type, field_of(current)) in BINDINGS:
            return True
        if parent.type not in PATTERNS:
            return False
        current = parent
    return False


def _scope(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The nearest enclosing function or class (None at the top level)."""
    parent = node.parent
    while parent is not None:
        kind = parent.type
        if "class" in kind or any(w in kind for w in FUNCTION_WORDS):
            return parent
        parent = parent.parent
    return None


def _renamable(name: str, uses: list[tree_sitter.Node], start: int, end: int) -> str | None:
    """Why `name` (its identifier nodes in the target, in order) is not a local the target
    may rename, or None. `start`/`end`: the target's bytes."""
    if not name.strip("_"):
        return f"{name} says the value is unused"  # Go's blank identifier; Python's convention
    for use in uses:
        parent = use.parent
        field = field_of(use)
        if parent is not None and (
            (parent.type, field) in NOT_VARIABLES or parent.type in SCOPES_WITHOUT_LOCALS
        ):
            return f"{name} is not a local variable"
        ancestor = parent
        while ancestor is not None and not any(w in ancestor.type for w in FUNCTION_WORDS):
            if "parameter" in ancestor.type:
                return f"{name} is a parameter"
            ancestor = ancestor.parent
        definition = parent is not None and parent.type.endswith(DEFINITIONS)
        if definition and field == "name":
            return f"{name} names a definition"
    first = uses[0]
    scope = _scope(first)
    if not _is_bound_here(first):
        return f"{name} is not bound in the target before it is used"
    if (
        scope is None
        or "class" in scope.type
        or not (start <= scope.start_byte and scope.end_byte <= end)
    ):
        return f"{name} is not local to a function of the target"
    return None


def identifiers(root: tree_sitter.Node, start: int, end: int) -> Iterator[tree_sitter.Node]:
    """The identifier nodes starting in bytes [start, end), in document order."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end:
            continue
        if node.type == "identifier" and node.child_count == 0:
            yield node
        stack.extend(reversed(node.children))


def locals_bound(root: tree_sitter.Node, start: int, end: int) -> dict[str, list[tree_sitter.Node]]:
    """The locals the target (bytes [start, end)) may rename, with their identifier nodes, in
    the order they are first bound."""
    uses: dict[str, list[tree_sitter.Node]] = {}
    for node in identifiers(root, start, end):
        uses.setdefault((node.text or b"").decode("utf-8", "replace"), []).append(node)
    return {n: nodes for n, nodes in uses.items() if _renamable(n, nodes, start, end) is None}


def names_applied(
    before: tree_sitter.Node, after: tree_sitter.Node, source: bytes, old: range, new: range
) -> bytes | None:
    """The target's bytes (`old` in `source`, whose tree is `before`) with its locals renamed as
    the answer (`new` in the tree `after`) names them, matched in the order they are first
    bound; None unless both bind as many and some name changes. The model often rewrites a
    statement while it renames (`t = t + x` as `total += x`): its names, not its rewrite."""
    old_locals = locals_bound(before, old.start, old.stop)
    new_locals = locals_bound(after, new.start, new.stop)
    if len(old_locals) != len(new_locals):
        return None
    renames = {o: n for o, n in zip(old_locals, new_locals, strict=True) if o != n}
    return renamed(source, old, old_locals, renames) if renames else None


def renamed(
    source: bytes, span: range, uses: dict[str, list[tree_sitter.Node]], renames: dict[str, str]
) -> bytes:
    """The bytes `span` of `source` with every use (`uses`: a name's identifier nodes) of
    each name in `renames` replaced by its new name."""
    spans = sorted(
        (node.start_byte, node.end_byte, renames[name].encode("utf-8"))
        for name in renames
        for node in uses[name]
    )
    out, at = bytearray(), span.start
    for start, end, name in spans:
        out += source[at:start] + name
        at = end
    return bytes(out + source[at : span.stop])


def difference(
    before: tree_sitter.Node,
    after: tree_sitter.Node,
    language: str,
    action: str,
    target: tuple[int, int],
) -> str | None:
    """Why the edited tree `after` is not the original `before` modulo what `action` may
    change (see STRUCTURAL), or None when it is. `target`: the bytes of the target in
    `before` (a renaming happens there only)."""
    annotations = action == "annotate"
    old = list(tokens(before, language, annotations))
    new = list(tokens(after, language, annotations))
    what = {
        "docstring": "adding docstrings",
        "annotate": "adding type annotations",
        "rename_locals": "renaming locals",
    }[action]
    if len(old) != len(new):
        return f"{what} changed the code itself"
    renamed: dict[str, str] = {}
    uses: dict[str, list[tree_sitter.Node]] = {}
    kept: set[str] = set()
    for a, b in zip(old, new, strict=True):
        if a.kind != b.kind:
            return f"{what} changed the code itself"
        if a.text == b.text:
            if a.node is not None and target[0] <= a.node.start_byte < target[1]:
                kept.add(a.text)
            continue
        if action != "rename_locals" or a.node is None:
            return f"{what} changed the code itself"
        if not (target[0] <= a.node.start_byte < target[1]):
            return f"{what} changed code outside the target"
        if renamed.setdefault(a.text, b.text) != b.text:
            return f"{a.text} was renamed inconsistently"
        uses.setdefault(a.text, []).append(a.node)
    for name in renamed:
        if name in kept:
            return f"{name} was renamed in some places only"
    targets = list(renamed.values())
    if len(set(targets)) != len(targets) or set(targets) & kept:
        return "two names became one (a renamed local now shares its name)"
    for name, nodes in uses.items():
        why = _renamable(name, nodes, *target)
        if why is not None:
            return why
    return None
