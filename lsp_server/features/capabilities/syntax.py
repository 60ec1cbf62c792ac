"""Per-language grammar facts the capability analysis needs: which nodes are names, member
accesses, calls and string literals, and how an import binds names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import tree_sitter

if TYPE_CHECKING:
    from lsp_server.features.capabilities import _Analysis

Captures = dict[str, list[tree_sitter.Node]]
REMOTE = ("http:", "https:", "//", "data:", "blob:")


def _code(a: _Analysis, node: tree_sitter.Node) -> str:
    return a.syntax.normalise("".join(a.text(node).split()))


def _nfkc(name: str) -> str:
    # Python reads identifiers in NFKC: eval spelled in fullwidth letters is eval.
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


_JS_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]+)\}|\\u([0-9a-fA-F]{4})")


def _js_name(name: str) -> str:
    # `\u0065val` is eval.
    if "\\" not in name:
        return name
    return _JS_ESCAPE.sub(lambda m: chr(min(int(m.group(1) or m.group(2), 16), 0x10FFFF)), name)


def _module_text(a: _Analysis, node: tree_sitter.Node) -> str | None:
    if node.type in a.syntax.strings:
        value = a.literal(node)
        return None if value is None else a.syntax.module(value)
    return _code(a, node)


def _bind(a: _Analysis, name: str, q: str) -> None:
    a.imported.setdefault(name, set()).add(q)


def bind_imports(a: _Analysis, m: Captures) -> None:
    """Python, JavaScript, Go, extern crates: one import (or one imported name) per match."""
    syntax = a.syntax
    if "import.use" in m:
        for node in m["import.use"]:
            _use_tree(a, node, "")
        return
    if "import.module" not in m:
        return
    module = _module_text(a, m["import.module"][0])
    if module is None:
        a.use("dynamic", "import(?)")
        return
    alias = _code(a, m["import.alias"][0]) if "import.alias" in m else None
    if "import.wildcard" in m:
        a.wildcard_import(module)
        return
    if "import.name" in m:
        name_node = m["import.name"][0]
        name = _module_text(a, name_node) or "?"
        q = module + syntax.sep + name
        _bind(a, alias or name.split(syntax.sep)[-1], q)
        a.record_module(q)
        return
    a.record_module(module)
    if alias:
        _bind(a, alias, module)
    elif "import.bare" not in m and syntax.default_binding == "first":
        first = module.split(syntax.sep)[0]
        _bind(a, first, first)
    elif "import.bare" not in m and syntax.default_binding == "last":
        _bind(a, module.rsplit("/", 1)[-1].rsplit(syntax.sep, 1)[-1], module)


def _use_tree(a: _Analysis, node: tree_sitter.Node, prefix: str) -> None:
    """A Rust `use` tree: `a::b::{self, c as d, e::*}`."""
    sep = a.syntax.sep
    kind = node.type
    if kind == "use_as_clause":
        path = node.child_by_field_name("path")
        alias = node.child_by_field_name("alias")
        if path is not None and alias is not None:
            q = (prefix + _code(a, path)).removeprefix(sep)
            _bind(a, _code(a, alias), q)
            a.record_module(q)
    elif kind == "use_wildcard":
        inner = node.named_children
        a.wildcard_import((prefix + (_code(a, inner[0]) if inner else "")).removeprefix(sep))
    elif kind == "scoped_use_list":
        path = node.child_by_field_name("path")
        items = node.child_by_field_name("list")
        base = prefix + (_code(a, path) + sep if path is not None else "")
        for item in items.named_children if items is not None else []:
            _use_tree(a, item, base)
    elif kind == "use_list":
        for item in node.named_children:
            _use_tree(a, item, prefix)
    elif kind == "self":
        q = prefix.removesuffix(sep).removeprefix(sep)
        _bind(a, q.rsplit(sep, 1)[-1], q)
        a.record_module(q)
    else:  # identifier, scoped_identifier, crate, super
        q = (prefix + _code(a, node)).removeprefix(sep)
        _bind(a, q.rsplit(sep, 1)[-1], q)
        a.record_module(q)


def _strip(prefixes: tuple[str, ...]) -> Callable[[str], str]:
    def module(text: str) -> str:
        for p in prefixes:
            text = text.removeprefix(p)
        return text

    return module


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Syntax:
    sep: str
    names: frozenset[str]  # nodes whose text is a name
    chains: Mapping[str, tuple[str, str]]  # member access: (object field, member field)
    indexes: frozenset[str]  # the chains whose member is an expression: x[...]
    transparent: frozenset[str]  # wrappers that leave the value as it is: (x), x!, x as T
    # Expressions whose value is one of these children ((): any child): (o := os), a or b.
    passthrough: Mapping[str, tuple[str, ...]]
    calls: Mapping[str, tuple[str, str]]  # (function field, arguments field)
    strings: frozenset[str]
    string_parts: frozenset[str]  # the plain text inside a string (no escapes, no ${})
    code_strings: frozenset[str]  # arguments an evaluator runs as code
    string_delimiters: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset({"comment"})
    module_values: bool = False  # modules are values that can be passed around
    suffixes: bool = False  # modules re-export other modules (shutil.os)
    default_binding: str = "none"  # what `import a.b` binds: first / last segment / nothing
    implicit_package: str = ""  # what every file has imported (java.lang)
    module: Callable[[str], str] = _same
    normalise: Callable[[str], str] = _same


_PY = Syntax(
    sep=".",
    names=frozenset({"identifier"}),
    chains={"attribute": ("object", "attribute"), "subscript": ("value", "subscript")},
    indexes=frozenset({"subscript"}),
    transparent=frozenset({"parenthesized_expression"}),
    passthrough={
        "named_expression": ("value",),
        "conditional_expression": (),
        "boolean_operator": ("left", "right"),
    },
    calls={"call": ("function", "arguments")},
    strings=frozenset({"string"}),
    string_parts=frozenset({"string_content"}),
    string_delimiters=frozenset({"string_start", "string_end"}),
    code_strings=frozenset({"string", "concatenated_string", "binary_operator"}),
    module_values=True,
    suffixes=True,
    default_binding="first",
    normalise=_nfkc,
)
_ES = Syntax(
    sep=".",
    names=frozenset(
        {"identifier", "property_identifier", "shorthand_property_identifier", "import"}
    ),
    chains={
        "member_expression": ("object", "property"),
        "subscript_expression": ("object", "index"),
    },
    indexes=frozenset({"subscript_expression"}),
    transparent=frozenset(
        {
            "parenthesized_expression",
            "non_null_expression",
            "as_expression",
            "satisfies_expression",
            "type_assertion",
            "await_expression",
        }
    ),
    passthrough={
        "assignment_expression": ("right",),
        "augmented_assignment_expression": ("right",),
        "ternary_expression": ("consequence", "alternative"),
        "binary_expression": ("left", "right"),
        "sequence_expression": (),
    },
    calls={
        "call_expression": ("function", "arguments"),
        "new_expression": ("constructor", "arguments"),
    },
    strings=frozenset({"string", "template_string"}),
    string_parts=frozenset({"string_fragment"}),
    code_strings=frozenset({"string", "template_string", "binary_expression"}),
    module_values=True,
    suffixes=True,
    module=_strip(("node:",)),
    normalise=_js_name,
)
_GO = Syntax(
    sep=".",
    names=frozenset({"identifier", "package_identifier", "field_identifier", "type_identifier"}),
    chains={"selector_expression": ("operand", "field"), "qualified_type": ("package", "name")},
    indexes=frozenset(),
    transparent=frozenset({"parenthesized_expression"}),
    passthrough={},
    calls={"call_expression": ("function", "arguments")},
    strings=frozenset({"interpreted_string_literal", "raw_string_literal"}),
    string_parts=frozenset({"interpreted_string_literal_content", "raw_string_literal_content"}),
    code_strings=frozenset(),
    default_binding="last",
)
_RUST = Syntax(
    sep="::",
    names=frozenset(
        {"identifier", "type_identifier", "field_identifier", "crate", "super", "self"}
    ),
    chains={
        "scoped_identifier": ("path", "name"),
        "scoped_type_identifier": ("path", "name"),
        "field_expression": ("value", "field"),
    },
    indexes=frozenset(),
    transparent=frozenset({"parenthesized_expression"}),
    passthrough={},
    calls={"call_expression": ("function", "arguments")},
    strings=frozenset({"string_literal", "raw_string_literal"}),
    string_parts=frozenset({"string_content"}),
    code_strings=frozenset(),
    comments=frozenset({"line_comment", "block_comment"}),
    normalise=lambda name: name.removeprefix("r#"),
)

_C = Syntax(
    sep="::",
    names=frozenset({"identifier", "namespace_identifier"}),
    chains={"qualified_identifier": ("scope", "name")},
    indexes=frozenset(),
    transparent=frozenset({"parenthesized_expression"}),
    passthrough={},
    calls={"call_expression": ("function", "arguments")},
    strings=frozenset({"string_literal", "system_lib_string"}),
    string_parts=frozenset({"string_content"}),
    code_strings=frozenset(),
    module=lambda path: path.strip("<>"),
)
_BASH = Syntax(
    sep="::",  # never in a command name: a name is one segment
    names=frozenset({"word"}),
    chains={},
    indexes=frozenset(),
    transparent=frozenset(),
    passthrough={},
    calls={},
    strings=frozenset(),
    string_parts=frozenset(),
    code_strings=frozenset(),
    normalise=lambda name: name.rsplit("/", 1)[-1] or name,  # /usr/bin/curl is curl
)

_LUA = Syntax(
    sep=".",
    names=frozenset({"identifier"}),
    chains={
        "dot_index_expression": ("table", "field"),
        "bracket_index_expression": ("table", "field"),
        "method_index_expression": ("table", "method"),
    },
    indexes=frozenset({"bracket_index_expression"}),
    transparent=frozenset({"parenthesized_expression"}),
    passthrough={},
    calls={"function_call": ("name", "arguments")},
    strings=frozenset({"string"}),
    string_parts=frozenset({"string_content"}),
    code_strings=frozenset(),
    module_values=True,
    suffixes=True,
)

_JAVA = Syntax(
    sep=".",
    names=frozenset({"identifier", "type_identifier"}),
    chains={"method_invocation": ("object", "name"), "field_access": ("object", "field")},
    indexes=frozenset(),
    transparent=frozenset({"parenthesized_expression", "cast_expression"}),
    passthrough={},
    calls={},
    strings=frozenset({"string_literal"}),
    string_parts=frozenset({"string_fragment"}),
    code_strings=frozenset(),
    comments=frozenset({"line_comment", "block_comment"}),
    default_binding="last",
    implicit_package="java.lang",
)

SYNTAX: dict[str, Syntax] = {
    "python": _PY,
    "javascript": _ES,
    "typescript": _ES,
    "tsx": _ES,
    "go": _GO,
    "rust": _RUST,
    "c": _C,
    "cpp": _C,
    "bash": _BASH,
    "lua": _LUA,
    "java": _JAVA,
}
