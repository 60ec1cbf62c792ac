"""Where a multi-line answer's block ends, from its text alone (no parse).

One rule for both sides: the server cuts every block answer here (context/syntax.py) before
its syntax check, and the worker asks the same function after each generated token, so it
stops as soon as the block is complete instead of generating to its token limit (issue 21,
item 6). A leaf module: the worker imports it, and it imports nothing of the project.

Rules (`BlockEnd.rule`):
- "indent": the first non-blank line indented less than the block's first line ends it;
- "braces": a closing token (`}`, `end`, ...) with nothing opened before it in the answer
  ends it; the code before it on its line is kept;
- "until": the first line holding one of `close` (a docstring's or a block comment's closing
  delimiter: the document has its own) ends it, that line left out;
- "line": the end of the first non-blank line (a prefetch keeps one line, blank lines and
  indentation before it included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BLOCK_LINES = 64

# Words, strings (closed or not), line comments, or one character: closers inside strings and
# comments do not count.
_TOKEN = re.compile(
    r"""[A-Za-z_]\w*|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`[^`]*`?|//[^\n]*|--[^\n]*|#[^\n]*|."""
)

RULES = ("", "indent", "braces", "until", "line")


@dataclass(frozen=True)
class BlockEnd:
    rule: str = ""  # one of RULES; "" = no rule (the answer ends where the model stops)
    open: tuple[str, ...] = ()  # "braces": tokens that open a block
    close: tuple[str, ...] = ()  # "braces": tokens that close one; "until": delimiters


def indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" \t"))


def block_end(end: BlockEnd, head: str, text: str, final: bool = True) -> int | None:
    """The length of `text` to keep when the block ends inside it, else None. `head` is the
    cursor line before the cursor. With `final` False, `text` is an answer still being
    written: a word closer at its very end may be the start of a longer word, so it does not
    count yet."""
    lines_end = _line_cap(text)
    if end.rule == "indent":
        cut = _indent_end(head, text)
    elif end.rule == "braces":
        cut = _braces_end(end, text, final)
    elif end.rule == "until":
        cut = _until_end(end, text)
    elif end.rule == "line":
        cut = _first_line_end(text)
    else:
        cut = None
    if lines_end is not None and (cut is None or lines_end < cut):
        return lines_end
    return cut


def _line_cap(text: str) -> int | None:
    """The end of the MAX_BLOCK_LINES-th line, once the answer has more."""
    at = -1
    for _ in range(MAX_BLOCK_LINES):
        at = text.find("\n", at + 1)
        if at < 0:
            return None
    return at


def _indent_end(head: str, text: str) -> int | None:
    lines = text.split("\n")
    first = head + lines[0]
    if head.strip():
        body = indent_width(head)
    elif first.strip():
        body = indent_width(first)
    else:
        body = next((indent_width(x) for x in lines[1:] if x.strip()), 0)
    at = len(lines[0])
    for line in lines[1:]:
        if line.strip() and indent_width(line) < body:
            return at
        at += 1 + len(line)
    return None


def _braces_end(end: BlockEnd, text: str, final: bool) -> int | None:
    depth = 0
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in end.open:
            depth += 1
        elif tok in end.close:
            if not final and m.end() == len(text) and tok[-1:].isalnum():
                return None  # `end` may yet become `endpoint`
            depth -= 1
            if depth < 0:
                start = text.rfind("\n", 0, m.start())
                # Keep code before the closer on its line; drop the line if it is only that.
                if start != -1 and not text[start + 1 : m.start()].strip():
                    return start
                return m.start()
    return None


def _first_line_end(text: str) -> int | None:
    at = 0
    for line in text.split("\n")[:-1]:  # whole lines only: the last may go on
        if line.strip():
            return at + len(line)
        at += len(line) + 1
    return None


def _until_end(end: BlockEnd, text: str) -> int | None:
    at = 0
    for i, line in enumerate(text.split("\n")):
        if any(d and d in line for d in end.close):
            # The first line is the cursor's own: the model closing there is an answer of
            # its own, kept up to the delimiter (the syntax check judges it).
            if i == 0:
                return min(line.find(d) for d in end.close if d and d in line)
            return at - 1
        at += len(line) + 1
    return None
