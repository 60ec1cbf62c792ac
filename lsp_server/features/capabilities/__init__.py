"""The process, network, dynamic-code, FFI and file-deletion capabilities a piece of code uses.

Per language (Python, JavaScript / TypeScript / TSX, Go, Rust, Java, C / C++, Lua, shell), a
tree-sitter query kept as data (`<language>.scm` here) finds references, calls, imports and
aliases; `catalog.json` says which names are capabilities; `syntax.py` holds the grammar facts.
A reference is resolved through imports (`import os as o`, `from subprocess import run as r`,
`require(...)`, `import cp from "node:child_process"`, Go import paths, Rust `use` trees),
simple aliases (`o = os`, `const {exec} = cp`), attribute and literal-subscript access, `getattr`
with a literal name, loaders with a literal module (`__import__("os")`, `require`, `import()`)
and the global object (`globalThis["fetch"]`). Each use is one normalised target, e.g.
`python:process:os.system`.

What cannot be resolved and could hide a capability is a use too (kind `dynamic`): a computed
member of a module or of the global object (`getattr(os, "sys" + "tem")`, `window[k]`), a loader
with a computed module, a string run as code, a module passed around as a value. A call that runs
code (eval, exec, Function, pickle.loads, ...) counts with a hash of its arguments: a new string
for eval is a new use.

The analysis is flow-insensitive and over-approximates: a name bound in several ways resolves
to all of them, and to its own name too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import tree_sitter

from lsp_server.features.capabilities.syntax import REMOTE, SYNTAX, Syntax, bind_imports

KINDS = ("process", "network", "dynamic", "ffi", "filesystem")
UNKNOWN = "?"  # the value of an expression that is not a name (a call's result, a literal)
GLOBAL = ""  # the global object (JavaScript's globalThis)
MAX_TARGET = 80
MAX_RESOLUTIONS = 16  # a name bound many ways: past this, only the first ones are followed

Resolution = tuple[str, bool, bool]  # (qualified name, computed member, free root)


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, str]  # name -> kind ("" for an exclusion)
    anywhere: dict[str, list[tuple[tuple[str, ...], str]]]  # by first segment
    loaders: frozenset[str]
    getters: frozenset[str]
    evaluators: frozenset[str]
    globals: frozenset[str]
    global_name: str  # how the global object is shown: globalThis, _G
    free: frozenset[str]
    bearing: frozenset[str]  # proper prefixes of capability names: modules that hold some
    # Go: the name a package is used by without its import in sight (`exec` for os/exec).
    implicit: dict[str, str]


def _family(language: str) -> str:
    if language in ("javascript", "typescript", "tsx"):
        return "ecmascript"
    return "c" if language == "cpp" else language


@cache
def _catalogs() -> dict[str, Any]:
    text = resources.files(__name__).joinpath("catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def catalog(language: str) -> Catalog | None:
    raw = _catalogs().get(_family(language))
    syntax = SYNTAX.get(language)
    if raw is None or syntax is None:
        return None
    entries = {name: kind for kind in KINDS for name in raw.get(kind, [])}
    entries.update({name: "" for name in raw.get("exclude", [])})
    anywhere: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for kind, names in raw["anywhere"].items():
        for name in names:
            parts = tuple(name.split(syntax.sep))
            anywhere.setdefault(parts[0], []).append((parts, kind))
    bearing = (
        {GLOBAL}
        | {  # the global object holds them all
            name[:i]
            for name, kind in entries.items()
            if kind
            for i in range(len(name))
            if name.startswith(syntax.sep, i) or name.startswith("/", i)
        }
    )
    implicit: dict[str, str] = {}
    package = syntax.implicit_package
    if package:  # Java: Runtime is java.lang.Runtime without an import
        for name, kind in entries.items():
            if kind and name.startswith(package + syntax.sep):
                first = name[len(package) + 1 :].split(syntax.sep, 1)[0]
                implicit.setdefault(first, package + syntax.sep + first)
    elif syntax.default_binding == "last":  # Go: exec is os/exec
        for name, kind in entries.items():
            if kind and "." not in (last := name.rsplit("/", 1)[-1]):
                implicit.setdefault(last, name)
    return Catalog(
        entries,
        anywhere,
        frozenset(raw["loaders"]),
        frozenset(raw["getters"]),
        frozenset(raw["evaluators"]),
        frozenset(raw["globals"]),
        raw["globals"][0] if raw["globals"] else "globals",
        frozenset(raw["free"]),
        frozenset(bearing),
        implicit,
    )


def _query_source(name: str) -> str:
    text = resources.files(__name__).joinpath(f"{name}.scm").read_text("utf-8")
    first = text.split("\n", 1)[0]
    if first.startswith("; inherits: "):
        return _query_source(first.removeprefix("; inherits: ").strip()) + "\n" + text
    return text


@cache
def query(language: str, ts_language: tree_sitter.Language) -> tree_sitter.Query:
    name = "typescript" if language == "tsx" else language
    return tree_sitter.Query(ts_language, _query_source(name))


@dataclass
class _Analysis:
    language: str
    syntax: Syntax
    catalog: Catalog
    source: bytes
    uses: set[str] = field(default_factory=set)
    skip: set[int] = field(default_factory=set)
    imported: dict[str, set[str]] = field(default_factory=dict)  # name -> qualified names
    # name = value (or a member of it: `const {exec} = cp`)
    values: dict[str, list[tuple[tree_sitter.Node, tuple[str | None, ...]]]] = field(
        default_factory=dict
    )
    bind_values: set[int] = field(default_factory=set)
    wildcard: bool = False
    wildcards: list[str] = field(default_factory=list)  # modules imported with *
    _memo: dict[int, frozenset[Resolution]] = field(default_factory=dict)
    _resolving: set[str] = field(default_factory=set)
    _names: dict[str, frozenset[Resolution]] = field(default_factory=dict)
    _kinds: dict[Resolution, str | None] = field(default_factory=dict)

    def text(self, node: tree_sitter.Node) -> str:
        # Sliced from the source: the tree was parsed from a callback and has no text of its own.
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def name(self, node: tree_sitter.Node) -> str:
        """A name as the language reads it (Python's NFKC, JavaScript's escapes)."""
        return self.syntax.normalise(self.text(node))

    # -- recording ---------------------------------------------------------------------------

    def use(self, kind: str, target: str) -> None:
        if len(target) > MAX_TARGET:
            target = target[: MAX_TARGET - 1] + "…"
        self.uses.add(f"{self.language}:{kind}:{target}")

    def display(self, q: str) -> str:
        return self.catalog.global_name if q == GLOBAL else q

    def match(self, q: str) -> str | None:
        """The kind of the longest catalog name `q` falls under ("" when excluded)."""
        return self.entry(q)[1]

    def entry(self, q: str) -> tuple[int, str | None]:
        """(length, kind) of the longest catalog name `q` falls under; (0, None) for none."""
        sep, cut = self.syntax.sep, len(q)
        while cut > 0:
            kind = self.catalog.entries.get(q[:cut])
            if kind is not None:
                return cut, kind
            cut = max(q.rfind(sep, 0, cut), q.rfind("/", 0, cut))
        return 0, None

    def classify(self, res: Resolution, node: tree_sitter.Node, suffix: str = "") -> None:
        q, computed, free = res
        q += suffix
        key = (q, computed, free)
        if key not in self._kinds:
            self._kinds[key] = self._kind_of(q, computed, free)
        kind = self._kinds[key]
        if kind == "dynamic":  # running code: what it runs counts too (a new string for eval)
            self.use(kind, self.display(q) + ("[?]" if computed else "") + self._argument(node))
        elif kind:
            self.use(kind, self.display(q) + ("[?]" if computed else ""))
        elif kind is None and not computed and q in self.catalog.bearing:
            self._escape(q, node)

    def _kind_of(self, q: str, computed: bool, free: bool) -> str | None:
        """The kind `q` falls under ("" when excluded); anywhere-names are recorded here."""
        sep = self.syntax.sep
        root = q.split(sep, 1)[0].split("/", 1)[0]
        reachable = (
            not free or self.wildcard or "*" in self.catalog.free or root in self.catalog.free
        )
        reachable = reachable or q == GLOBAL or root == UNKNOWN
        if not reachable and sep not in q:  # a local name: most of them
            return None
        parts = q.split(sep)
        for i in range(1, len(parts)):
            for names, kind in self.catalog.anywhere.get(parts[i], ()):
                if tuple(parts[i : i + len(names)]) == names:
                    self.use(kind, self.display(q) + ("[?]" if computed else ""))
        if not reachable:
            return None
        candidates = [q]
        if self.syntax.suffixes:  # a module reached through another one: shutil.os.system
            candidates += [sep.join(parts[i:]) for i in range(1, len(parts) - 1)]
        kinds = [self.match(candidate) for candidate in candidates]
        if found := next((kind for kind in kinds if kind), None):
            return found
        if kinds[0] == "":
            return ""
        if computed and q in self.catalog.bearing:
            return "dynamic"
        return None

    def _argument(self, node: tree_sitter.Node) -> str:
        """`(#hash)` of the arguments when `node` is called: the code itself is not shown."""
        call = node.parent
        fields = self.syntax.calls.get(call.type) if call is not None else None
        if call is None or fields is None or call.child_by_field_name(fields[0]) != node:
            return ""
        code = " ".join(" ".join(self.text(arg).split()) for arg in self.args(call))
        return f"(#{hashlib.blake2s(code.encode(), digest_size=3).hexdigest()})"

    def _escape(self, q: str, node: tree_sitter.Node) -> None:
        if self.syntax.module_values and self.escapes(node):
            self.use("dynamic", f"{self.display(q)} (as a value)")

    def escapes(self, node: tree_sitter.Node) -> bool:
        """`node` is a value that goes somewhere (not an alias we follow, not a callee)."""
        parent = node.parent
        if node.id in self.bind_values or parent is None:
            return False
        fields = self.syntax.calls.get(parent.type)
        return fields is None or parent.child_by_field_name(fields[0]) != node

    # -- resolution --------------------------------------------------------------------------

    def resolve_name(self, name: str) -> frozenset[Resolution]:
        if name in self._names:
            return self._names[name]
        top = not self._resolving
        result = self._resolve_name(name)
        if top:  # an inner result may miss what the cycle guard cut
            self._names[name] = result
        return result

    def _resolve_name(self, name: str) -> frozenset[Resolution]:
        if name in self.catalog.globals:
            out: set[Resolution] = {(GLOBAL, False, False)}
        else:
            out = {(name, False, name not in self.imported)}
        out.update((q, False, False) for q in self.imported.get(name, ()))
        if name not in self.imported:
            if name in self.catalog.implicit:
                out.add((self.catalog.implicit[name], False, False))
            for m in self.wildcards:  # `from os import *`: system is os.system (not os.print)
                q = m + self.syntax.sep + name
                if self.entry(q)[0] > len(m):
                    out.add((q, False, False))
        if name in self.values and name not in self._resolving:
            self._resolving.add(name)
            for value, path in self.values[name]:
                res = self.resolve(value)
                for seg in path:
                    res = self.join(res, seg)
                out.update(res)
            self._resolving.discard(name)
        return frozenset(out if len(out) <= MAX_RESOLUTIONS else sorted(out)[:MAX_RESOLUTIONS])

    def literal(self, node: tree_sitter.Node | None) -> str | None:
        """A plain string literal's value (None when computed, escaped or interpolated)."""
        if node is None or node.type not in self.syntax.strings:
            return None
        parts = [c for c in node.named_children if c.type not in self.syntax.string_delimiters]
        if any(c.type not in self.syntax.string_parts or c.named_child_count for c in parts):
            return None  # escapes (Python keeps them inside string_content) or interpolation
        if not parts:  # "" or C's <stdio.h>: between the delimiters
            return self.text(node)[1:-1]
        return "".join(self.text(c) for c in parts)

    def join(self, base: frozenset[Resolution], seg: str | None) -> frozenset[Resolution]:
        out = set()
        for q, computed, free in base:
            if computed or seg is None:
                out.add((q, True, free))
            elif q == GLOBAL:
                out.add((seg, False, True))
            elif q.endswith(self.syntax.sep + "__dict__"):  # os.__dict__["system"]
                out.add((q[: -len("__dict__")] + seg, False, free))
            else:
                out.add((q + self.syntax.sep + seg, False, free))
        return frozenset(out)

    def args(self, call: tree_sitter.Node) -> list[tree_sitter.Node]:
        args = call.child_by_field_name(self.syntax.calls[call.type][1])
        if args is None:
            return []
        if args.type in self.syntax.strings:  # a tagged template: fn`...`
            return [args]
        return [c for c in args.named_children if c.type not in self.syntax.comments]

    def called(self, call: tree_sitter.Node) -> set[str]:
        fn = call.child_by_field_name(self.syntax.calls[call.type][0])
        if fn is None:
            return set()
        return {q for q, computed, _ in self.resolve(fn) if not computed}

    def resolve(self, node: tree_sitter.Node) -> frozenset[Resolution]:
        if node.id not in self._memo:
            self._memo[node.id] = frozenset()  # a cycle resolves to nothing
            self._memo[node.id] = self._resolve(node)
        return self._memo[node.id]

    def _resolve(self, node: tree_sitter.Node) -> frozenset[Resolution]:
        syntax, kind = self.syntax, node.type
        opaque = frozenset({(UNKNOWN, False, False)})
        if kind in syntax.names and not node.is_missing:
            return self.resolve_name(self.name(node))
        if kind in syntax.transparent:
            inner = [c for c in node.named_children if c.type not in syntax.comments]
            # `x as T`, `<T>x`: the value, not its type.
            inner = [c for c in inner if "type" not in c.type or c.type == "type_assertion"]
            return self.resolve(inner[0]) if len(inner) == 1 else opaque
        if kind in syntax.passthrough:
            fields = syntax.passthrough[kind]
            parts = [node.child_by_field_name(f) for f in fields] if fields else node.named_children
            out: set[Resolution] = set()
            for part in parts:
                if part is not None and part.type not in syntax.comments:
                    out.update(self.resolve(part))
            return frozenset(out) or opaque
        if kind in syntax.chains:
            obj_field, prop_field = syntax.chains[kind]
            obj, prop = node.child_by_field_name(obj_field), node.child_by_field_name(prop_field)
            if prop is None:
                return opaque
            if obj is None:  # Rust `::std`
                return self.resolve(prop)
            seg = self.literal(prop) if kind in syntax.indexes else self.name(prop)
            return self.join(self.resolve(obj), seg)
        if kind in syntax.calls:
            return self._resolve_call(node) or opaque
        return opaque

    def _resolve_call(self, call: tree_sitter.Node) -> frozenset[Resolution] | None:
        names, args = self.called(call), self.args(call)
        cat = self.catalog
        if loaders := names & cat.loaders:
            module = self.literal(args[0]) if args else None
            if not module:
                self.use("dynamic", f"{min(loaders)}(?)")
                return None
            self.record_module(self.syntax.module(module))
            return frozenset({(self.syntax.module(module), False, False)})
        if names & cat.getters and len(args) >= 2:
            return self.join(self.resolve(args[0]), self.literal(args[1]))
        evaluators = names & cat.evaluators
        if evaluators and args and args[0].type in self.syntax.code_strings:
            self.use("dynamic", f"{min(evaluators)}(string)")
        return None

    def record_module(self, module: str) -> None:
        """An import (or a loader with a literal module) of `module`."""
        if module.startswith(REMOTE):
            self.use("network", f"code from {module.split(':', 1)[0] or 'a URL'}")
        elif kind := self.match(module):
            self.use(kind, module)

    def wildcard_import(self, module: str) -> None:
        self.wildcard = True
        self.wildcards.append(module)
        kind = self.match(module)
        if kind or (kind is None and module in self.catalog.bearing):
            self.use(kind or "dynamic", f"{module}{self.syntax.sep}*")

    def bind_pattern(
        self, name: tree_sitter.Node, value: tree_sitter.Node, path: tuple[str | None, ...] = ()
    ) -> None:
        """`name = value`, `const {a, b: c} = value`: aliases, followed by `resolve_name`."""
        if name.type in self.syntax.names:
            self.values.setdefault(self.text(name), []).append((value, path))
            return
        for part in name.named_children:
            key, inner = part.child_by_field_name("key"), part.child_by_field_name("value")
            if part.type in ("shorthand_property_identifier_pattern", "object_assignment_pattern"):
                left = part.child_by_field_name("left") or part
                self.bind_pattern(left, value, (*path, self.text(left)))
            elif part.type == "pair_pattern" and key is not None and inner is not None:
                seg = self.text(key) if key.type in self.syntax.names else self.literal(key)
                if inner.type == "assignment_pattern":
                    inner = inner.child_by_field_name("left") or inner
                self.bind_pattern(inner, value, (*path, seg))
            elif part.type == "rest_pattern" and part.named_children:
                self.bind_pattern(part.named_children[0], value, path)

    # -- the walk ----------------------------------------------------------------------------

    def continues(
        self, child: tree_sitter.Node, parent: tree_sitter.Node
    ) -> tree_sitter.Node | None:
        """The node a reference at `child` extends into, if `parent` extends it."""
        syntax = self.syntax
        if parent.type in syntax.transparent:
            return parent
        if parent.type in syntax.chains:
            obj_field, prop_field = syntax.chains[parent.type]
            obj = parent.child_by_field_name(obj_field)
            if obj == child or (obj is None and parent.child_by_field_name(prop_field) == child):
                return parent
            return None
        call = parent.parent
        if (
            call is not None
            and call.type in syntax.calls
            and self.called(call) & self.catalog.getters
        ):
            args = self.args(call)
            if args and args[0] == child:
                return call
        return None

    def maximal(self, node: tree_sitter.Node) -> tree_sitter.Node:
        while node.parent is not None and (up := self.continues(node, node.parent)) is not None:
            node = up
        return node

    def property_position(self, node: tree_sitter.Node) -> bool:
        parent = node.parent
        if parent is None or parent.type not in self.syntax.chains:
            return False
        obj_field, prop_field = self.syntax.chains[parent.type]
        return (
            parent.child_by_field_name(prop_field) == node
            and parent.child_by_field_name(obj_field) is not None
        )


def _matches(q: tree_sitter.Query, root: tree_sitter.Node) -> Iterator[dict[str, list[Any]]]:
    for _pattern, captures in tree_sitter.QueryCursor(q).matches(root):
        yield captures


def capability_uses(
    language: str, ts_language: tree_sitter.Language, root: tree_sitter.Node, source: bytes
) -> frozenset[str]:
    """The capability targets `root` uses ("python:process:os.system", ...); empty for a
    language without a capability query."""
    cat, syntax = catalog(language), SYNTAX.get(language)
    if cat is None or syntax is None:
        return frozenset()
    a = _Analysis(language, syntax, cat, source)
    skip: set[int] = set()
    bindings: list[dict[str, list[tree_sitter.Node]]] = []
    refs: list[tree_sitter.Node] = []
    starts: list[tree_sitter.Node] = []
    macros: list[tree_sitter.Node] = []
    paths: list[tree_sitter.Node] = []
    for m in _matches(query(language, ts_language), root):
        if "ref" in m:
            refs.extend(m["ref"])
        elif "path" in m:
            paths.extend(n for n in m["path"] if n.parent is None or n.parent.type != n.type)
        elif "chain" in m or "call" in m:
            starts.extend(m.get("chain", m.get("call", ())))
        elif "skip" in m:
            skip.update(n.id for n in m["skip"])
        elif "macro" in m:
            macros.extend(m["macro"])
        elif any(cap.startswith(("import.", "bind.")) for cap in m):
            bindings.append(m)
        else:
            for cap, nodes in m.items():
                _kind, _, label = cap.removeprefix("use.").partition(".")
                for n in nodes:
                    named = f" {a.text(n)}" if n.type == "identifier" else ""
                    a.use(_kind, label + named)
    for m in bindings:
        bind_imports(a, m)
        for name, value in zip(m.get("bind.name", ()), m.get("bind.value", ()), strict=False):
            skip.add(name.id)
            a.bind_values.add(value.id)
            a.bind_pattern(name, value)
    starts.extend(n for n in refs if n.id not in skip)
    for n in macros:
        for res in a.resolve(n):
            a.classify(res, n, "!")
    for n in paths:  # a dotted name written out: its root resolved, the rest appended
        first, *rest = a.name(n).split("<", 1)[0].split(syntax.sep)
        resolved = a.resolve_name(first)
        for seg in rest:
            resolved = a.join(resolved, seg)
        for res in resolved:
            a.classify(res, n)
    seen: set[int] = set()
    for start in starts:
        if start.type in syntax.names and a.property_position(start):
            continue
        top = a.maximal(start)
        if top.id in seen:
            continue
        seen.add(top.id)
        for res in a.resolve(top):
            a.classify(res, top)
    return frozenset(a.uses)
