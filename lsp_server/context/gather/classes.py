"""The classes in scope: those whose methods a member name near the cursor (`self.x`,
`this.x`, `obj.x`) may well belong to, read from class headers and followed through the
index."""

from __future__ import annotations

import re
from collections.abc import Sequence

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import WorkspaceIndex

_CLASS_NAME = re.compile(r"\bclass\s+([A-Za-z_$][\w$]*)")
_PY_BASES = re.compile(r"\bclass\s+\w+\s*\(([^)]*)\)")
_TS_BASES = re.compile(r"\b(?:extends|implements)\s+([^{]*)")
_THIS_PARAM = re.compile(r"\(\s*this\s*:\s*([A-Za-z_$][\w$]*)")
CLASS_NODES = frozenset({"class_definition", "class_declaration", "abstract_class_declaration"})


def class_name(header: str) -> str:
    """`class Foo(Bar):` or `export class Foo<T> extends Bar {` -> `Foo`."""
    m = _CLASS_NAME.search(header)
    return m.group(1) if m else ""


def base_names(header: str) -> list[str]:
    """The base classes (and TypeScript interfaces) a class header names, without module
    qualifiers or type arguments: `class A(mod.B, C[T], metaclass=M):` -> [B, C]."""
    m = _PY_BASES.search(header)
    if m is not None:
        parts = [p for p in m.group(1).split(",") if "=" not in p]
    else:
        parts = [p for g in _TS_BASES.findall(header) for p in re.split(r",|\bimplements\b", g)]
    out: list[str] = []
    for part in parts:
        name = re.sub(r"[\[<].*", "", part).strip().rsplit(".", 1)[-1]
        if name.isidentifier() and name not in out:
            out.append(name)
    return out


def this_class(signature: str) -> str:
    """The class a TypeScript function declares as its `this` (`function find(this:
    Cheerio<T>, ...)`): a method of it, mixed in (`this.find(...)`)."""
    m = _THIS_PARAM.search(signature)
    return m.group(1) if m else ""


def enclosing_class(snap: DocumentSnapshot, offset: int) -> str:
    """The header (first line) of the class the cursor is in, or ""."""
    if snap.tree is None:
        return ""
    at = snap.byte_offset(offset)
    node: tree_sitter.Node | None = snap.tree.root_node.descendant_for_byte_range(at, at)
    while node is not None and node.type not in CLASS_NODES:
        node = node.parent
    if node is None:
        return ""
    return snap.index.line_text(node.start_point.row)


def receiver_classes(
    header: str, imported: Sequence[str], index: WorkspaceIndex, tuning: ContextTuning
) -> set[str]:
    """Classes whose methods a member name near the cursor may well belong to: the enclosing
    class's bases (`self.x`, `this.x`), the classes the file imports, and their bases, up to
    `base_depth` steps. Their files need not be imported by the current file."""
    out: set[str] = set()
    frontier = [*base_names(header), *imported]
    for _ in range(tuning.base_depth):
        grown: list[str] = []
        for name in frontier:
            if name in out:
                continue
            classes = [d for d in index.lookup(name) if d.kind == "class"]
            if classes:
                out.add(name)
            for d in classes[: tuning.max_defs_per_name]:
                grown += base_names(d.signature.split("\n", 1)[0])
        frontier = grown
    return out
