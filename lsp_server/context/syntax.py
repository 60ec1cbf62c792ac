"""Syntax-aware decisions: whether and how much to complete, trimming completions, context."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.languages import LanguageInfo, new_parser, parse
from lsp_server.model.block_end import BlockEnd, block_end, indent_width

logger = logging.getLogger(__name__)

MAX_IMPORTS = 50
MAX_IMPORT_CHARS = 300
MAX_HEADER_CHARS = 300

_WORD_BOUNDARY = re.compile(r"\b|(?<=\s)(?=\S)|(?<=\S)(?=\s)")


class CompletionMode(Enum):
    NONE = "none"
    SINGLE_LINE = "single_line"
    MULTI_LINE = "multi_line"


@dataclass(frozen=True)
class Gate:
    mode: CompletionMode
    reason: str


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _line_bounds(text: str, offset: int) -> tuple[int, int]:
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    end = len(text)
    for brk in ("\n", "\r"):
        i = text.find(brk, offset)
        if i != -1:
            end = min(end, i)
    return start, end


def _previous_lines(text: str, line_start: int) -> Iterator[str]:
    """Lines before the one starting at line_start, nearest first, without their breaks."""
    end = line_start
    while end > 0:
        end -= 1
        if text[end] == "\n" and end > 0 and text[end - 1] == "\r":
            end -= 1
        start, _ = _line_bounds(text, end)
        yield text[start:end]
        end = start


def _strip_line_comment(line: str, info: LanguageInfo) -> str:
    # Good enough for gating: a comment prefix inside a string is rare at a block opener.
    idx = line.find(info.comment_prefix)
    return line[:idx] if idx != -1 else line


def _ancestors(node: tree_sitter.Node | None) -> Iterator[tree_sitter.Node]:
    while node is not None:
        yield node
        node = node.parent


def _node_at(snap: DocumentSnapshot, offset: int) -> tree_sitter.Node | None:
    """Smallest node holding the character before the cursor (the one just typed)."""
    if snap.tree is None:
        return None
    b = snap.byte_offset(offset)
    return snap.tree.root_node.descendant_for_byte_range(max(b - 1, 0), b)


def _is_docstring(node: tree_sitter.Node, info: LanguageInfo) -> bool:
    if not info.docstring_parents:
        return False
    stmt = node.parent
    if stmt is None or stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return False
    body = stmt.parent
    if body is None:
        return False
    first = next((c for c in body.named_children if c.type != "comment"), None)
    if first is None or first.id != stmt.id:
        return False
    if body.type == "module":
        return True
    return body.parent is not None and body.parent.type in info.docstring_parents


def _syntactic_context(
    snap: DocumentSnapshot, offset: int, info: LanguageInfo
) -> tuple[str | None, tree_sitter.Node | None]:
    """Whether the cursor is in a string, docstring, comment, or (None) in code, and the
    string or comment node."""
    b = snap.byte_offset(offset)
    for node in _ancestors(_node_at(snap, offset)):
        if node.type in info.string_code_types and node.start_byte < b < node.end_byte:
            return None, None
        if node.type in info.string_types and node.start_byte < b < node.end_byte:
            return ("docstring" if _is_docstring(node, info) else "string"), node
        if node.type in info.comment_types and node.start_byte < b <= node.end_byte:
            return "comment", node
    return None, None


# Closing delimiters of the prose blocks whose body can be written as a block.
_DOC_CLOSERS = ('"""', "'''")
_BLOCK_COMMENT = ("/*", "*/")


def _body_closer(snap: DocumentSnapshot, offset: int, info: LanguageInfo) -> str:
    """The closing delimiter when the cursor is on a blank line of a docstring (or a `/* */`
    comment, a JSDoc `*` allowed) with nothing after it but that delimiter: the body is
    still to write, and a block may be offered. Else ""."""
    context, node = _syntactic_context(snap, offset, info)
    if node is None or context not in ("docstring", "comment"):
        return ""
    text = snap.text
    line_start, line_end = _line_bounds(text, offset)
    if text[line_start:offset].strip() not in ("", "*") or text[offset:line_end].strip():
        return ""
    if context == "docstring":
        closer = next((d for d in _DOC_CLOSERS if (node.text or b"").endswith(d.encode())), "")
    else:
        opener, closer = _BLOCK_COMMENT
        if not (node.text or b"").startswith(opener.encode()):
            return ""
    if not closer or node.start_point.row == snap.position_at(offset).line:
        return ""
    # Blank lines, then the delimiter (a bounded look: no copy of the rest of a large file).
    return closer if text[line_end : line_end + 4096].lstrip().startswith(closer) else ""


def _in_text_block(snap: DocumentSnapshot, offset: int, node: tree_sitter.Node) -> bool:
    """Whether the cursor is on a line of a multi-line string other than its first: a line of
    a script, a query or a message that a user writes as code (a shell script in a Python
    string), not the inside of a one-line literal."""
    return node.start_point.row < snap.position_at(offset).line


def _after_block_opener(prev: str, info: LanguageInfo) -> bool:
    code = _strip_line_comment(prev, info).rstrip()
    if not code:
        return False
    for suffix in info.block_opener_suffixes:
        if not code.endswith(suffix):
            continue
        before_suffix = code[-len(suffix) - 1 : -len(suffix)]
        if suffix[0].isalpha() and before_suffix and _is_word_char(before_suffix):
            continue
        # Lua: "... )" opens a block only when it closes a function's parameter list.
        if suffix == ")" and "function" not in code:
            continue
        return True
    return False


def classify_position(snap: DocumentSnapshot, offset: int) -> Gate:
    text = snap.text
    if offset < len(text) and _is_word_char(text[offset]):
        return Gate(CompletionMode.NONE, "inside identifier")
    info = snap.language
    if info is None:
        return Gate(CompletionMode.SINGLE_LINE, "plain text")
    context, node = _syntactic_context(snap, offset, info)
    if context == "string":
        assert node is not None
        if _in_text_block(snap, offset, node):
            return Gate(CompletionMode.SINGLE_LINE, "line of a multi-line string")
        return Gate(CompletionMode.NONE, "inside string")
    if context in ("comment", "docstring"):
        if _body_closer(snap, offset, info):
            return Gate(CompletionMode.MULTI_LINE, f"{context} body")
        return Gate(CompletionMode.SINGLE_LINE, f"inside {context}")

    line_start, line_end = _line_bounds(text, offset)
    before = text[line_start:offset]
    after = text[offset:line_end]
    if before.strip() == "":
        prev_lines = [p for p in _previous_lines(text, line_start) if p.strip()][:2]
        if prev_lines and _after_block_opener(prev_lines[0], info):
            return Gate(CompletionMode.MULTI_LINE, "after block opener")
        if (
            len(prev_lines) == 2
            and prev_lines[0].strip() in info.empty_body_statements
            and _after_block_opener(prev_lines[1], info)
            and indent_width(before) >= indent_width(prev_lines[0])
        ):
            return Gate(CompletionMode.MULTI_LINE, "empty line in body")
    opens = "{" in info.block_open_tokens and before.rstrip().endswith("{")
    if opens and after.strip().startswith("}"):
        return Gate(CompletionMode.MULTI_LINE, "empty body")
    if after.strip() == "":
        return Gate(CompletionMode.SINGLE_LINE, "end of line")
    return Gate(CompletionMode.SINGLE_LINE, "mid line")


def count_error_nodes(tree: tree_sitter.Tree | None) -> int:
    if tree is None:
        return 0
    root = tree.root_node
    if not root.has_error:
        return 0
    count = 0
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and (node.is_error or node.is_missing):
            count += 1
        # Subtrees without errors need no visit.
        if node is not None and node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return count


def block_rule(snap: DocumentSnapshot, offset: int) -> BlockEnd:
    """How a block answer at `offset` ends (model/block_end.py): a docstring's or block
    comment's body at its closing delimiter, code by indentation or by its closing token."""
    info = snap.language
    if info is None:
        return BlockEnd()
    closer = _body_closer(snap, offset, info)
    if closer:
        return BlockEnd("until", close=(closer,))
    if info.indent_based:
        return BlockEnd("indent")
    return BlockEnd(
        "braces", tuple(sorted(info.block_open_tokens)), tuple(sorted(info.block_close_tokens))
    )


def _cut_at_block_end(snap: DocumentSnapshot, offset: int, completion: str) -> str:
    line_start, _ = _line_bounds(snap.text, offset)
    head = snap.text[line_start:offset]
    cut = block_end(block_rule(snap, offset), head, completion)
    return completion if cut is None else completion[:cut]


def _strip_trailing_blank_lines(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


class _SyntaxChecker:
    def __init__(self, snap: DocumentSnapshot, offset: int, info: LanguageInfo) -> None:
        assert snap.tree is not None
        self._tree = snap.tree
        self._before = snap.text[:offset].encode("utf-8")
        self._after = snap.text[offset:].encode("utf-8")
        line_start = self._before.rfind(b"\n") + 1
        self._start = (self._before.count(b"\n"), len(self._before) - line_start)
        self._parser = new_parser(info)
        self._baseline = count_error_nodes(snap.tree)

    def ok(self, candidate: str) -> bool:
        inserted = candidate.encode("utf-8")
        source = self._before + inserted + self._after
        # Re-parse incrementally from the document's tree: only the edited region is
        # parsed again, which keeps the check cheap in large files.
        old = self._tree.copy()
        row, col = self._start
        lines = inserted.count(b"\n")
        end_col = col + len(inserted) if not lines else len(inserted) - inserted.rfind(b"\n") - 1
        start = len(self._before)
        old.edit(
            start, start, start + len(inserted), (row, col), (row, col), (row + lines, end_col)
        )
        try:
            tree = parse(self._parser, source, old)
        except Exception as exc:  # a slow or failed parse rejects the candidate
            logger.debug("candidate parse failed: %s", type(exc).__name__)
            self._parser.reset()
            return False
        return count_error_nodes(tree) <= self._baseline


def truncate_completion(
    snap: DocumentSnapshot, offset: int, completion: str, mode: CompletionMode
) -> str:
    if mode is CompletionMode.NONE:
        return ""
    completion = completion.replace("\r\n", "\n")
    if mode is CompletionMode.SINGLE_LINE:
        candidate = completion.split("\n", 1)[0]
    else:
        candidate = _cut_at_block_end(snap, offset, completion)
    candidate = _strip_trailing_blank_lines(candidate)
    info = snap.language
    if not candidate or info is None or snap.tree is None:
        return candidate
    checker = _SyntaxChecker(snap, offset, info)
    if checker.ok(candidate):
        return candidate
    single = mode is CompletionMode.SINGLE_LINE
    # A whole line that ends opening a block or a call (`if x:`, `if err != nil {`, `f(`) is
    # a good start to accept and go on from: check it as if closed. Not a cut-back prefix,
    # which would be a fragment of what the model meant. In a block, its first whole line
    # gets the same chance (the block's body broke, its header did not).
    head = snap.text[snap.text.rfind("\n", 0, offset) + 1 : offset]
    first = candidate if single else candidate.split("\n", 1)[0]
    closure = _closure(head + first, info) if first.strip() else ""
    if single and closure and checker.ok(candidate + closure):
        return candidate
    if single:
        cuts = sorted({m.start() for m in _WORD_BOUNDARY.finditer(candidate)}, reverse=True)
        prefixes = [candidate[:c].rstrip() for c in cuts if 0 < c < len(candidate)]
    else:
        lines = candidate.split("\n")
        prefixes = ["\n".join(lines[:n]) for n in range(len(lines) - 1, 0, -1)]
    seen: set[str] = set()
    for prefix in prefixes:
        prefix = _strip_trailing_blank_lines(prefix)
        if not prefix.strip() or prefix in seen:
            continue
        seen.add(prefix)
        if checker.ok(prefix):
            return prefix
    if not single and closure and checker.ok(first + closure):
        return first
    return ""


_OPENERS = {"(": ")", "[": "]", "{": "}"}


def _closure(line: str, info: LanguageInfo) -> str:
    """For a line that ends opening something (a bracket; in an indented language a header's
    `:`), what would close it: its unclosed brackets, or a body. Empty for any other line.
    Strings and comments are skipped roughly; the result only serves to check the syntax."""
    end = line.rstrip()
    if not end or end[-1] not in "([{" + (":" if info.indent_based else ""):
        return ""
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif line.startswith(info.comment_prefix, i):
            break
        elif ch in _OPENERS:
            stack.append(_OPENERS[ch])
        elif ch in ")]}" and (not stack or stack.pop() != ch):
            return ""  # closes what it did not open: not for us to mend
        i += 1
    if quote:
        return ""
    if end.endswith(":"):
        if stack:
            return ""
        indent = line[: len(line) - len(line.lstrip())]
        unit = "\t" if indent.startswith("\t") else "    "
        return "\n" + indent + unit + "pass"
    return "".join(reversed(stack))


def _header(snap: DocumentSnapshot, node: tree_sitter.Node) -> str:
    row = node.start_point.row
    line = snap.index.line_text(row) if row < snap.index.line_count else ""
    return line.strip()[:MAX_HEADER_CHARS]


def definition_chain(snap: DocumentSnapshot, offset: int) -> list[str]:
    """Header lines of the definitions enclosing the cursor, outermost first."""
    info = snap.language
    if info is None or snap.tree is None:
        return []
    text = snap.text
    # Anchor on the last code before the cursor: a blank line after a body is outside its node.
    anchor = offset
    while anchor > 0 and text[anchor - 1].isspace():
        anchor -= 1
    anchor = max(anchor - 1, 0)
    line_start, _ = _line_bounds(text, offset)
    prefix = text[line_start:offset]
    cursor_indent = indent_width(prefix if not prefix.strip() else prefix + "x")
    b = snap.byte_offset(offset)
    chain: list[str] = []
    for node in _ancestors(_node_at(snap, anchor)):
        if node.type not in info.definition_types:
            continue
        inside = node.start_byte <= b <= node.end_byte
        if not inside and info.indent_based:
            header_line = snap.index.line_text(node.start_point.row)
            inside = cursor_indent > indent_width(header_line)
        if inside:
            chain.append(_header(snap, node))
    chain.reverse()
    return chain


def imports(snap: DocumentSnapshot) -> list[str]:
    """Text of the file's import statements (not those inside definitions)."""
    info = snap.language
    if info is None or snap.tree is None or not info.import_types:
        return []
    found: list[str] = []
    stack = list(reversed(snap.tree.root_node.children))
    while stack and len(found) < MAX_IMPORTS:
        node = stack.pop()
        if node.type in info.import_types:
            text = (node.text or b"").decode("utf-8", "replace")
            if info.import_marker is None or info.import_marker in text:
                found.append(text[:MAX_IMPORT_CHARS])
            continue
        if node.type in info.definition_types or node.child_count == 0:
            continue
        # Lua requires only count at top level; elsewhere imports may sit in #ifdef/try.
        if info.import_marker is None:
            stack.extend(reversed(node.children))
    return found
