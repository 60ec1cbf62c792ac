""" "Add type annotations" asks for types, not code, for a Python or TypeScript function: the
parameters without a type (and the return, when it has none) are listed in the prompt, the
model answers a JSON object giving each its type (a grammar holds it to those keys, each value
one line of type text), and the server writes each where it goes. The model cannot change the
code while it annotates (with the whole code back, the 1.5B did: the edits were refused), and
the answer is a few tokens. The structural check (features/structure.py) still runs on the
result, so a type that does not parse, or is not an annotation, is refused.

Anywhere else (Rust's `let`s, a selection of lines, a function whose parameters cannot all be
named) the model writes the whole code as before.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field

import tree_sitter

from lsp_server.features import listed
from lsp_server.features.edits import EditRejected, Target, Unchanged, unwrapped, whole_definition
from lsp_server.model.protocol import GenerateJob
from lsp_server.prompts.actions import ChatPrompt

RETURN = "return"
# One line of type text: no statement, block, comment or default value can hide in it (the
# grammar's form: llama.cpp's knows no `\s`, and a bounded repeat nests a rule per character).
TYPE = r'^[^ \n=;{}#`"\\][^\n=;{}#`"\\]*$'
MAX_TYPE = 80
TOKENS_PER_TYPE = 20
MAX_KEYS = 16
FUNCTIONS = frozenset(
    {
        "function_definition",
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "function_expression",
        "function",
        "arrow_function",
    }
)


@dataclass(frozen=True)
class Gap:
    key: str  # as listed: the parameter's name (`*args`, `**kw`), or RETURN
    start: int  # the bytes the type text replaces (usually empty: an insertion)
    end: int
    form: str  # the text written, with {type}


@dataclass(frozen=True)
class TypeSlot:
    """Where each missing type goes in the target, and how the answer is read."""

    gaps: tuple[Gap, ...]
    source: bytes = field(repr=False)
    span: range  # the target's bytes in `source`
    # Python: the names a type may use (the file's imports and top-level definitions, the
    # builtins); an annotation is evaluated when the function is defined, so a type naming
    # anything else (`function`, `Any` not imported) fails the module's import. None: unchecked.
    known: frozenset[str] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(g.key for g in self.gaps)

    def job(self, chat: ChatPrompt, deadline_s: float) -> GenerateJob:
        return listed.job(chat, deadline_s, self.names, TYPE, TOKENS_PER_TYPE)

    def apply(self, answer: str) -> str:
        """The target with the types the answer gives. Raises EditRejected for an answer that
        is not such an object, Unchanged when it gives none."""
        chosen = listed.values(answer, "types")
        out, at = bytearray(), self.span.start
        refused: list[str] = []
        for gap in self.gaps:
            kind = chosen.get(gap.key)
            if not isinstance(kind, str) or not kind.strip():
                continue
            kind = kind.strip()
            # The grammar holds the model to this; an HTTP backend may not have one.
            if len(kind) > MAX_TYPE or not re.fullmatch(TYPE, kind):
                raise EditRejected(f"{kind[:40]!r} is not a type")
            unknown = self.unknown_names(kind)
            if unknown:  # that one is left out, the others still apply
                refused.append(f"{gap.key}: {kind[:40]} uses {', '.join(unknown)}")
                continue
            out += self.source[at : gap.start] + gap.form.format(type=kind).encode("utf-8")
            at = gap.end
        if at == self.span.start and refused:
            raise EditRejected(
                f"{'; '.join(refused)}, which the file does not define or import"
                " (use types the file has, or builtin ones)"
            )
        if at == self.span.start:
            raise Unchanged()
        return bytes(out + self.source[at : self.span.stop]).decode("utf-8")

    def unknown_names(self, kind: str) -> list[str]:
        if self.known is None:
            return []
        # Names, not attributes (`types.Position` needs `types`), not words of a string.
        code = re.sub(r"'[^']*'", "", kind)
        names = re.findall(r"(?<![.\w])[A-Za-z_]\w*", code)
        return sorted({n for n in names if n not in self.known})


def python_names(root: tree_sitter.Node) -> frozenset[str]:
    """The names a Python module binds at its top level (through `if` and `try` blocks too),
    every name it imports anywhere, and the builtins."""
    known = set(dir(builtins))
    stack = [(child, True) for child in root.children]
    while stack:
        node, top = stack.pop()
        if node.type in ("import_statement", "import_from_statement"):
            for name in node.children_by_field_name("name"):
                alias = name.child_by_field_name("alias") if name.type == "aliased_import" else None
                word = alias or name.child_by_field_name("name") or name
                text = (word.text or b"").decode()
                known.add(text if node.type == "import_from_statement" else text.split(".")[0])
            continue
        if node.type in ("function_definition", "class_definition"):
            defined = node.child_by_field_name("name")
            if top and defined is not None:
                known.add((defined.text or b"").decode())
            stack.extend((c, False) for c in node.children)  # for the imports inside
            continue
        if top and node.type == "assignment":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                known.add((left.text or b"").decode())
        stack.extend((c, top) for c in node.children)
    return frozenset(known)


def _python_gaps(fn: tree_sitter.Node) -> list[Gap] | None:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return None
    gaps: list[Gap] = []
    named = [p for p in params.named_children if p.type != "comment"]
    for i, param in enumerate(named):
        if param.type == "identifier":
            name = (param.text or b"").decode()
            if i == 0 and name in ("self", "cls"):
                continue
            gaps.append(Gap(name, param.end_byte, param.end_byte, ": {type}"))
        elif param.type == "default_parameter":
            name_node, value = param.child_by_field_name("name"), param.child_by_field_name("value")
            if name_node is None or value is None:
                return None
            # `b=1` becomes `b: int = 1` (PEP 8's spacing for an annotated default)
            name = (name_node.text or b"").decode()
            gaps.append(Gap(name, name_node.end_byte, value.start_byte, ": {type} = "))
        elif param.type in ("list_splat_pattern", "dictionary_splat_pattern"):
            gaps.append(
                Gap((param.text or b"").decode(), param.end_byte, param.end_byte, ": {type}")
            )
        elif param.type not in (
            "typed_parameter",
            "typed_default_parameter",
            "keyword_separator",
            "positional_separator",
        ):
            return None  # a tuple parameter or something new: not listed
    if fn.child_by_field_name("return_type") is None:
        gaps.append(Gap(RETURN, params.end_byte, params.end_byte, " -> {type}"))
    return gaps


def _typescript_gaps(fn: tree_sitter.Node) -> list[Gap] | None:
    params = fn.child_by_field_name("parameters")
    if params is None:
        return None  # `a => ...`: a type needs the parentheses
    gaps: list[Gap] = []
    for param in params.named_children:
        if param.type == "comment" or param.child_by_field_name("type") is not None:
            continue
        pattern = param.child_by_field_name("pattern")
        if param.type not in ("required_parameter", "optional_parameter") or pattern is None:
            return None
        if pattern.type != "identifier":
            continue  # a destructured or `this` parameter: left as it is
        end = pattern.end_byte
        marker = pattern.next_sibling
        if marker is not None and marker.type == "?":
            end = marker.end_byte
        gaps.append(Gap((pattern.text or b"").decode(), end, end, ": {type}"))
    name = fn.child_by_field_name("name")
    constructor = name is not None and name.text == b"constructor"
    setter = any(child.type == "set" for child in fn.children)  # a setter has no return type
    if fn.child_by_field_name("return_type") is None and not (constructor or setter):
        gaps.append(Gap(RETURN, params.end_byte, params.end_byte, ": {type}"))
    return gaps


def type_slot(target: Target) -> TypeSlot | None:
    """The missing types of `target`'s function, or None (the whole-code answer then)."""
    snap = target.snap
    info = snap.language
    definition = whole_definition(target)
    if info is None or definition is None:
        return None
    fn = unwrapped(definition)
    if fn.type == "variable_declarator":  # const f = (a) => ...
        fn = fn.child_by_field_name("value") or fn
    if fn.type not in FUNCTIONS:
        return None
    if info.name == "python":
        gaps = _python_gaps(fn)
    elif info.name in ("typescript", "tsx"):
        gaps = _typescript_gaps(fn)
    else:
        return None
    if not gaps or len(gaps) > MAX_KEYS or len({g.key for g in gaps}) < len(gaps):
        return None
    span = range(snap.byte_offset(target.start), snap.byte_offset(target.end))
    if not all(span.start <= g.start <= g.end <= span.stop for g in gaps):
        return None
    known = python_names(snap.tree.root_node) if info.name == "python" and snap.tree else None
    return TypeSlot(tuple(gaps), snap.text.encode("utf-8"), span, known)
