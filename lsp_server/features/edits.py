"""Every edit the model proposes is checked here before it is offered to the editor.

An edit must apply to the requested document at the requested version, stay inside the target
range, leave the file parsing (no new tree-sitter ERROR nodes; `ast.parse` for Python), add no
invisible or bidirectional control characters (`invisible.py`) and no process, network,
dynamic-code, FFI or file-deletion capability the code did not use (`capabilities/`). Edits are
plain data: they cannot create, rename or delete files. The checks cost a parse of the file:
callers on the event loop run them in a thread.

Also here: finding the target of an action (the selection, else the enclosing definition).
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from lsp_server.context.documents import Document, DocumentSnapshot, Position, Range
from lsp_server.context.languages import LanguageInfo, new_parser, parse
from lsp_server.context.syntax import count_error_nodes
from lsp_server.features.capabilities import capability_uses
from lsp_server.features.error_paths import KEEPS_ERROR_PATHS, dropped_error_paths
from lsp_server.features.invisible import added_hidden
from lsp_server.features.signature import WRAPPERS, function_node
from lsp_server.features.structure import STRUCTURAL, difference, names_applied

logger = logging.getLogger(__name__)

# Analyses of recent texts: a document's own text is analysed once for all its edits (and a
# quick fix's text once for all the code action requests that list it). Texts can be large.
ANALYSIS_CACHE = 4


class EditRejected(Exception):
    """A proposed edit failed a check; the message says which, and is safe to show."""


class Unchanged(EditRejected):
    """The answer is the target as it was."""

    def __init__(self) -> None:
        super().__init__("the model proposed no change")


@dataclass(frozen=True)
class Edit:
    """Replace the text between two offsets of one document version."""

    uri: str
    version: int
    start: int  # str offsets into the snapshot's text
    end: int
    new_text: str


@dataclass(frozen=True)
class Target:
    """What an action works on: whole lines of one document version."""

    snap: DocumentSnapshot
    start: int
    end: int
    label: str  # e.g. "function mean", "lines 3-7"

    @property
    def text(self) -> str:
        return self.snap.text[self.start : self.end]

    @property
    def range(self) -> Range:
        return Range(self.snap.position_at(self.start), self.snap.position_at(self.end))

    @property
    def code_bytes(self) -> tuple[int, int]:
        """The target's bytes without the whitespace around its code."""
        text = self.text
        start = self.start + len(text) - len(text.lstrip())
        return self.snap.byte_offset(start), self.snap.byte_offset(self.start + len(text.rstrip()))


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    end = len(text) if end == -1 else end
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def definition_at(snap: DocumentSnapshot, start: int, end: int) -> tree_sitter.Node | None:
    """The smallest definition (function, class, ...) holding [start, end]."""
    info = snap.language
    if info is None or snap.tree is None:
        return None
    b0, b1 = snap.byte_offset(start), snap.byte_offset(end)
    node: tree_sitter.Node | None = snap.tree.root_node.descendant_for_byte_range(b0, b1)
    while node is not None:
        holds = node.is_named and node.start_byte <= b0 and b1 <= node.end_byte
        if holds and (node.type in info.definition_types or _wraps_definition(info, node)):
            # The definition with what wraps it: decorators, `export`, `const f = ...`.
            while node.parent is not None and node.parent.type in WRAPPERS:
                node = node.parent
            return node
        node = node.parent
    return None


def _wraps_definition(info: LanguageInfo, node: tree_sitter.Node) -> bool:
    """`export class C`, `const f = () => ...`: the keyword or the name points at the
    definition they wrap."""
    if node.type not in WRAPPERS:
        return False
    return unwrapped(node).type in info.definition_types or function_node(node) is not None


def whole_definition(target: Target) -> tree_sitter.Node | None:
    """The node of exactly the target's code (its surrounding whitespace left out) when that
    code is one definition, maybe wrapped (WRAPPERS); else None."""
    snap = target.snap
    info, tree = snap.language, snap.tree
    if info is None or tree is None:
        return None
    b0, b1 = target.code_bytes
    span = tree.root_node.descendant_for_byte_range(b0, b1)
    if span is None or (span.start_byte, span.end_byte) != (b0, b1):
        return None
    is_one = span.type in info.definition_types or function_node(span) is not None
    return span if is_one or _wraps_definition(info, span) else None


def unwrapped(node: tree_sitter.Node) -> tree_sitter.Node:
    """The definition inside its wrappers; a `const f = ...` stays its declarator (the name)."""
    while node.type in WRAPPERS and node.type != "variable_declarator":
        inner = node.child_by_field_name("definition") or (
            node.named_children[-1] if node.named_children else None
        )
        if inner is None:
            break
        node = inner
    return node


def node_name(node: tree_sitter.Node) -> str:
    name = unwrapped(node).child_by_field_name("name")
    return (name.text or b"").decode("utf-8", "replace") if name is not None else ""


def node_kind(node: tree_sitter.Node) -> str:
    """`function`, `class`, `method`, ...: what the definition is, for a label."""
    inner = unwrapped(node)
    if inner.type == "variable_declarator":
        return "function"  # only a const holding a function counts as a definition here
    kind = inner.type.replace("_definition", "").replace("_declaration", "")
    return kind.replace("_item", "")


def char_offset(snap: DocumentSnapshot, byte: int) -> int:
    return len(snap.text.encode("utf-8")[:byte].decode("utf-8", "replace"))


def resolve_target(snap: DocumentSnapshot, rng: Range) -> Target:
    """Whole lines of the selection; with an empty selection or one within a definition's
    header line, the enclosing definition (or the current line). A selection ending at column
    0 of a later line ends on the line before. Raises PositionOutOfRange beyond the document."""
    text = snap.text
    start, end = snap.offset_at(rng.start), snap.offset_at(rng.end)
    if end < start:
        start, end = end, start
    if end > start and rng.end.character == 0 and rng.end.line > rng.start.line:
        end -= 1
        if end > 0 and text[end - 1] == "\r":
            end -= 1
    on_header = (
        start < end
        and "\n" not in text[start:end]
        and (found := definition_at(snap, start, end)) is not None
        and text.count("\n", 0, start) == found.start_point.row
    )
    if start == end or on_header:
        # Pointing at a definition's header line (e.g. the symbol at point, as Eglot sends)
        # means the definition.
        node = definition_at(snap, start, start)
        if node is not None:
            s, e = char_offset(snap, node.start_byte), char_offset(snap, node.end_byte)
            return Target(
                snap,
                _line_start(text, s),
                _line_end(text, max(e - 1, s)),
                f"{node_kind(node)} {node_name(node)}".strip(),
            )
    s, e = _line_start(text, start), _line_end(text, max(end - 1, start) if end > start else end)
    first, last = text.count("\n", 0, s) + 1, text.count("\n", 0, e) + 1
    label = f"line {first}" if first == last else f"lines {first}-{last}"
    node = definition_at(snap, s, e)
    if node is not None and node_name(node):
        label += f" of {node_name(node)}"
    return Target(snap, s, e, label)


# -- checks --------------------------------------------------------------------------------


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.new_text + text[edit.end :]
    return text


@dataclass(frozen=True)
class Analysis:
    errors: int  # tree-sitter ERROR / MISSING nodes
    capabilities: frozenset[str]  # see features/capabilities


@lru_cache(maxsize=ANALYSIS_CACHE)
def tree_of(info: LanguageInfo, text: str) -> tree_sitter.Tree:
    """`text` parsed once for every check of an edit (syntax, capabilities, structure)."""
    try:
        return parse(new_parser(info), text.encode("utf-8"))
    except ValueError:
        raise EditRejected("the edited file could not be parsed in time") from None


@lru_cache(maxsize=ANALYSIS_CACHE)
def analyse(info: LanguageInfo, text: str) -> Analysis:
    """The syntax and capability checks' view of `text`."""
    tree = tree_of(info, text)
    uses = capability_uses(info.name, info.language, tree.root_node, text.encode("utf-8"))
    return Analysis(count_error_nodes(tree), uses)


def _listed(items: Sequence[str], most: int = 3) -> str:
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def _python_parses(text: str) -> str | None:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        msg = getattr(exc, "msg", str(exc))
        line = getattr(exc, "lineno", None)
        return f"{msg} (line {line})" if line else str(msg)
    return None


def check_edits(snap: DocumentSnapshot, target: Target, edits: Sequence[Edit]) -> str:
    """The document text after `edits`, or EditRejected saying why they cannot be offered."""
    if not edits:
        raise Unchanged()
    previous_end = -1
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.uri != snap.uri:
            raise EditRejected("the edit targets another document")
        if edit.version != snap.version:
            raise EditRejected(
                f"the edit is for version {edit.version}, the document is at {snap.version}"
            )
        if not (target.start <= edit.start <= edit.end <= target.end):
            raise EditRejected("the edit reaches outside the target range")
        if edit.start < previous_end:
            raise EditRejected("the edits overlap")
        previous_end = edit.end
    old = snap.text
    new = apply_edits(old, edits)
    if new == old:
        raise Unchanged()
    removed = "".join(old[e.start : e.end] for e in edits)
    added = "".join(e.new_text for e in edits)
    hidden = added_hidden(removed, added)
    if hidden:
        raise EditRejected(
            f"the edit adds invisible or bidirectional control characters: {_listed(hidden)}"
        )
    info = snap.language
    if info is not None:
        before, after = analyse(info, old), analyse(info, new)
        gained = sorted(after.capabilities - before.capabilities)
        if gained:
            raise EditRejected(
                "the edit adds new process, network, dynamic-code, FFI or file-deletion "
                f"capability: {_listed(gained)}"
            )
        if after.errors > before.errors:
            raise EditRejected("the edited code does not parse (new syntax errors)")
    is_python = info is not None and info.name == "python"
    if is_python and _python_parses(old) is None:
        problem = _python_parses(new)
        if problem is not None:
            raise EditRejected(f"the edited code is not valid Python: {problem}")
    return new


def _definition_names(
    root: tree_sitter.Node, info: LanguageInfo, skip: tuple[int, int] | None = None
) -> set[str]:
    """Names of the definitions under `root`, leaving out those wholly within the bytes
    `skip`."""
    names: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if skip is not None and skip[0] <= node.start_byte and node.end_byte <= skip[1]:
            continue
        if node.type in info.definition_types and (name := node_name(node)):
            names.add(name)
        stack.extend(node.children)
    return names


def defined_names(snap: DocumentSnapshot, text: str) -> set[str]:
    """Names of the definitions (functions, classes, ...) in `text`, in the snapshot's language."""
    if snap.language is None:
        return set()
    tree = Document(snap.uri, snap.language_id, 0, text).snapshot().tree
    return set() if tree is None else _definition_names(tree.root_node, snap.language)


def check_intent(snap: DocumentSnapshot, target: Target, action: str, new_text: str) -> None:
    """What a refactor may not do whatever the model says: drop a definition it was given
    or define a name the rest of the file defines; the refactors that must not change
    behaviour change nothing but what they may (features/structure.py) and the rewrites keep
    the error paths (features/error_paths.py). Raises EditRejected."""
    had, has = defined_names(snap, target.text), defined_names(snap, new_text)
    if action != "rewrite":
        lost = had - has
        if lost:
            raise EditRejected(f"the edit removes the definition of {', '.join(sorted(lost))}")
    added = has - had
    if added and snap.language is not None and snap.tree is not None:
        # An extracted helper named like a definition elsewhere in the file: a duplicate in
        # Go, Rust or Java; in Python or JavaScript it silently replaces the other one.
        target_bytes = (snap.byte_offset(target.start), snap.byte_offset(target.end))
        elsewhere = _definition_names(snap.tree.root_node, snap.language, target_bytes)
        clash = sorted(added & elsewhere)
        if clash:
            raise EditRejected(
                f"the edit defines {', '.join(clash)}, which the file already defines "
                "elsewhere: use a new name"
            )
    info = snap.language
    if action in STRUCTURAL and info is not None:
        before, after, old, _ = _trees(info, target, new_text)
        span = (old.start, old.stop)
        why = difference(before.root_node, after.root_node, info.name, action, span)
        if why is not None:
            raise EditRejected(why)
    if action in KEEPS_ERROR_PATHS and info is not None:
        before, after, old, new = _trees(info, target, new_text)
        why = dropped_error_paths(before.root_node, old, after.root_node, new, info.name)
        if why is not None:
            raise EditRejected(why)


def _trees(
    info: LanguageInfo, target: Target, new_text: str
) -> tuple[tree_sitter.Tree, tree_sitter.Tree, range, range]:
    """The document's tree and its tree with the target replaced by `new_text` (cached: the
    syntax checks parsed them already), and the target's bytes in each."""
    text = target.snap.text
    start = len(text[: target.start].encode("utf-8"))
    old = range(start, start + len(target.text.encode("utf-8")))
    new = range(start, start + len(new_text.encode("utf-8")))
    edited = text[: target.start] + new_text + text[target.end :]
    return tree_of(info, text), tree_of(info, edited), old, new


def renamed_as(target: Target, answer: str) -> str | None:
    """The target with its locals renamed as `answer` (a rename-locals answer) names them,
    applied to the target's own code (features/structure.names_applied), or None."""
    info = target.snap.language
    if info is None:
        return None
    try:
        before, after, old, new = _trees(info, target, answer)
    except EditRejected:
        return None
    source = target.snap.text.encode("utf-8")
    renamed = names_applied(before.root_node, after.root_node, source, old, new)
    return None if renamed is None else renamed.decode("utf-8")


def replacement_edit(target: Target, new_text: str) -> Edit:
    return Edit(target.snap.uri, target.snap.version, target.start, target.end, new_text)


def position_within(pos: Position, rng: Range) -> bool:
    key = (pos.line, pos.character)
    return (rng.start.line, rng.start.character) <= key <= (rng.end.line, rng.end.character)
