"""The functions the actions bench works on: found with tree-sitter in the repositories the
quality bench uses (bench.quality.REPOS), each with a stable identity, a half (tune or held-out,
from a hash of the identity, so it never moves with the seed or the sample size) and what the
explain scoring needs (parameters, whether it returns something, its doc to remove)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from lsp_server.context.documents import Document
from lsp_server.context.languages import lsp_language_id

LANGUAGES = ("python", "typescript", "go")
HALVES = ("tune", "held-out")
MIN_LINES, MAX_LINES = 4, 30
SOURCE_SUFFIXES = {"python": (".py",), "typescript": (".ts",), "go": (".go",)}


@dataclass(frozen=True)
class Function:
    language: str
    repo: str
    file: str  # relative to the repository's folder
    name: str  # qualified: Class.method, Receiver.Method
    start_line: int  # 0-based, first line of the definition (decorators, `export` included)
    end_line: int  # 0-based, last line

    @property
    def identity(self) -> str:
        return f"{self.repo}/{self.file}::{self.name}"

    @property
    def half(self) -> str:
        return half_of(self.identity)


def words(*lines: str) -> frozenset[str]:
    """A set of names written as text, separated by white space."""
    return frozenset(" ".join(lines).split())


def half_of(identity: str) -> str:
    return HALVES[hashlib.sha256(identity.encode("utf-8")).digest()[0] % 2]


def parse(path: Path) -> Document:
    text = path.read_text("utf-8", errors="replace")
    return Document(path.as_uri(), lsp_language_id(str(path)), 1, text)


def _name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    return (name.text or b"").decode("utf-8", "replace") if name is not None else ""


def _receiver_type(node: tree_sitter.Node) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None or not receiver.named_children:
        return ""
    kind = receiver.named_children[0].child_by_field_name("type")
    text = (kind.text or b"").decode("utf-8", "replace") if kind is not None else ""
    return text.lstrip("*").split("[")[0]


def _definitions(doc: Document) -> Iterator[tuple[tree_sitter.Node, tree_sitter.Node, str]]:
    """(definition node, node whose lines the function spans, qualified name): functions and
    methods not nested in another function."""
    if doc.tree is None or doc.language is None:
        return
    language = doc.language.name
    stack: list[tuple[tree_sitter.Node, str]] = [(doc.tree.root_node, "")]
    while stack:
        node, owner = stack.pop()
        for kid in node.children:
            t = kid.type
            if t in ("class_definition", "class_declaration", "abstract_class_declaration"):
                body = kid.child_by_field_name("body")
                if body is not None:
                    stack.append((body, _name(kid)))
            elif t in ("decorated_definition", "export_statement", "block"):
                stack.append((kid, owner))
            elif t in ("function_definition", "function_declaration", "method_definition"):
                span = node if node.type in ("decorated_definition", "export_statement") else kid
                name = _name(kid)
                yield kid, span, f"{owner}.{name}" if owner else name
            elif t == "method_declaration":  # go
                owner_name = _receiver_type(kid)
                yield kid, kid, f"{owner_name}.{_name(kid)}" if owner_name else _name(kid)
            elif t == "lexical_declaration" and language == "typescript":
                for decl in kid.named_children:
                    value = decl.child_by_field_name("value")
                    if value is not None and value.type in (
                        "arrow_function",
                        "function_expression",
                    ):
                        span = node if node.type == "export_statement" else kid
                        yield kid, span, _name(decl)


def functions_in(doc: Document, language: str, repo: str, rel: str) -> list[Function]:
    out: list[Function] = []
    seen: dict[str, int] = {}
    for node, span, name in _definitions(doc):
        seen[name] = seen.get(name, 0) + 1  # every definition counts: node_of counts them all
        lines = span.end_point.row - span.start_point.row + 1
        if not name or node.has_error or not MIN_LINES <= lines <= MAX_LINES:
            continue
        qualified = name if seen[name] == 1 else f"{name}#{seen[name]}"  # overloads, redefinitions
        out.append(
            Function(language, repo, rel, qualified, span.start_point.row, span.end_point.row)
        )
    return out


def discover(workspaces: dict[str, tuple[str, Path]]) -> list[Function]:
    """Every function of every repository (name -> (language, folder)), in a stable order."""
    found: list[Function] = []
    for repo, (language, root) in sorted(workspaces.items()):
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or not rel.endswith(SOURCE_SUFFIXES[language]):
                continue
            if rel.endswith(".d.ts") or "/test" in f"/{rel}":
                continue
            found += functions_in(parse(path), language, repo, rel)
    return found


def node_of(doc: Document, fn: Function) -> tree_sitter.Node | None:
    """The definition node of `fn` in `doc` (its lines may have moved: found by name)."""
    base = fn.name.split("#")[0]
    count = int(fn.name.split("#")[1]) if "#" in fn.name else 1
    for _node, span, name in _definitions(doc):
        if name == base:
            count -= 1
            if count == 0:
                return span
    return None


def draw(
    functions: list[Function], action: str, language: str, half: str, seed: int
) -> list[Function]:
    """The functions of one language and half ("all": both) in the order `seed` draws them for
    one action, one per file before a second of any: the caller takes the first that suit it,
    so a larger sample extends a smaller one and the same seed gives the same tasks."""
    pool = [f for f in functions if f.language == language and (half == "all" or f.half == half)]
    pool.sort(key=lambda f: f.identity)
    random.Random(f"{seed}:{action}:{language}").shuffle(pool)
    # One function of every file before a second of any: files with hundreds of functions
    # (pygls' generated client) would otherwise fill the sample.
    rank: dict[tuple[str, str], int] = {}
    order: list[tuple[int, int, Function]] = []
    for i, f in enumerate(pool):
        key = (f.repo, f.file)
        rank[key] = rank.get(key, -1) + 1
        order.append((rank[key], i, f))
    return [f for _, _, f in sorted(order)]
