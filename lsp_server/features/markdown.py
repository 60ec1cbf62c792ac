"""Make model-written Markdown safe to render in an editor: nothing in it may make the editor
fetch from anywhere (which would leak that the document was opened, and maybe its text), and
no link may carry the reader off with a click.

The text is parsed (markdown-it, CommonMark with GFM tables), so whatever the syntax (escapes,
entities, reference links, nested brackets, angle-bracket destinations, HTML blocks, inside
lists, quotes and tables) the same thing is found that a renderer would find. It is written
back as Markdown from the parsed tokens, keeping only:
- headings, paragraphs, emphasis, lists, quotes, rules, tables, line breaks;
- links as their text alone; no images, no link definitions;
- raw HTML (inline, block, comments) as escaped text, so it shows and does nothing;
- code spans and code blocks verbatim, under a fence longer than any run in their content,
  so no content can close it early and let markup out;
- URLs in text defanged (hxxp[:]//example[.]com), so no renderer's linkify makes them links.
All other text is escaped where it could start markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")

_URL = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://[^\s<>`'\"]+|\bwww\.[^\s<>()`'\"]+", re.IGNORECASE)
# What can start inline markup. Links, images and definitions all need a `]`, HTML and
# autolinks a `<`; emphasis markers are escaped unless inside a word (snake_case stays).
_INLINE_SPECIAL = re.compile(r"[\\`\]<]|&(?=#?\w+;)|(?<![^\W_])[*_]|[*_](?![^\W_])")
# At a line's start: what could open a heading, quote, list, rule, fence or setext line.
_LINE_START = re.compile(r"^([ \t]*)([#>+=~-]|\d{1,9}[.)])")
_INFO_WORD = re.compile(r"[\w+#.-]{1,40}")
_SAFE_ALIGN = re.compile(r"text-align:(left|right|center)")


def defang(url: str) -> str:
    """hxxp[:]//example[.]com/path: readable, but no renderer turns it into a link."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.replace(".", "[.]")
    scheme = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ws": "wx", "wss": "wxs"}.get(
        scheme.lower(), "xx" + scheme
    )
    host, slash, path = rest.partition("/")
    return f"{scheme}[:]//{host.replace('.', '[.]')}{slash}{path}"


def _text(text: str, in_table: bool = False) -> str:
    """Plain text as Markdown that parses back to the same text; URLs become defanged code
    spans (no renderer links or fetches code)."""
    out: list[str] = []
    pos = 0
    for m in _URL.finditer(text):
        out.append(_escape(text[pos : m.start()], in_table))
        out.append(_code_span(defang(m.group(0)), in_table))
        pos = m.end()
    out.append(_escape(text[pos:], in_table))
    return _join(out)


def _join(pieces: list[str]) -> str:
    """Concatenate, keeping a code span's closing fence from running into a following backtick
    (one run of two would not close it, and a later single backtick would)."""
    out = ""
    for piece in pieces:
        if out.endswith("`") and piece.startswith("`"):
            out += " "
        out += piece
    return out


def _escape(text: str, in_table: bool) -> str:
    text = _INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return text.replace("|", "\\|") if in_table else text


def _line_starts(markdown: str) -> str:
    """Escape what would open a block at the start of a paragraph's lines."""
    return "\n".join(_LINE_START.sub(r"\1\\\2", line) for line in markdown.split("\n"))


def _fence_for(content: str, char: str, least: int) -> str:
    runs = [len(m) for m in re.findall(re.escape(char) + "+", content)]
    return char * max(least, max(runs, default=0) + 1)


def _code_span(content: str, in_table: bool) -> str:
    if not content:
        return ""
    if in_table:
        content = content.replace("|", "\\|")  # GFM: a cell splits at any unescaped pipe
    fence = _fence_for(content, "`", 1)
    # The parser strips one space from each side when both have one (and the content is not
    # all spaces): pad so that it gets back exactly this content.
    spaced = content[0] == " " and content[-1] == " " and content.strip(" ")
    pad = " " if "`" in (content[0], content[-1]) or spaced else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _inline(tokens: Sequence[Token], in_table: bool = False) -> str:
    out: list[str] = []
    for t in tokens:
        if t.type == "text":
            out.append(_text(t.content, in_table))
        elif t.type == "code_inline":
            out.append(_code_span(t.content, in_table))
        elif t.type == "softbreak":
            out.append(" " if in_table else "\n")
        elif t.type == "hardbreak":
            out.append(" " if in_table else "\\\n")
        elif t.type == "html_inline":
            out.append(_text(t.content.replace("\n", " "), in_table))
        elif t.type in ("em_open", "em_close", "strong_open", "strong_close"):
            out.append(t.markup)
        # link_open / link_close (the text between stays), image (dropped), anything else.
    joined = _join(out)
    if in_table:
        return joined.strip()
    # Dropped images and links can leave blanks that would read as code or as a hard break.
    lines = (line.strip() for line in joined.split("\n"))
    return _line_starts("\n".join(line for line in lines if line))


def _fenced(content: str, info: str) -> str:
    if not content.endswith("\n"):
        content += "\n"
    fence = _fence_for(content, "`", 3)
    word = _INFO_WORD.match(info.strip())
    return f"{fence}{word.group(0) if word else ''}\n{content}{fence}"


def _table(tokens: list[Token]) -> str:
    rows: list[list[str]] = []
    aligns: list[str] = []
    in_head = False
    for t in tokens:
        if t.type == "thead_open":
            in_head = True
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            rows.append([])
        elif t.type in ("th_open", "td_open") and in_head:
            style = _SAFE_ALIGN.fullmatch(str(t.attrs.get("style", "")))
            aligns.append(style.group(1) if style else "")
        elif t.type == "inline":
            rows[-1].append(_inline(t.children or [], in_table=True).strip())
    if not rows:
        return ""
    rule = {"left": ":---", "right": "---:", "center": ":---:", "": "---"}
    width = len(rows[0])
    lines = [_row(rows[0], width), _row([rule[a] for a in aligns[:width]], width)]
    lines += [_row(r, width) for r in rows[1:]]
    return "\n".join(lines)


def _row(cells: list[str], width: int) -> str:
    cells = (cells + [""] * width)[:width]
    return "| " + " | ".join(cells) + " |"


def _indent(block: str, first: str, rest: str) -> str:
    lines = block.split("\n")
    return "\n".join([first + lines[0]] + [(rest + line) if line else line for line in lines[1:]])


def _blocks(tokens: list[Token]) -> list[str]:
    """Render a sequence of sibling blocks; each entry is one block's Markdown."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.nesting == 1:
            depth, j = 1, i + 1
            while depth:
                depth += tokens[j].nesting
                j += 1
            inner = tokens[i + 1 : j - 1]
            rendered = _container(t, inner)
            if rendered:
                out.append(rendered)
            i = j
            continue
        if t.type == "inline":
            text = _inline(t.children or [])
            if text.strip():
                out.append(text)
        elif t.type in ("fence", "code_block"):
            out.append(_fenced(t.content, t.info if t.type == "fence" else ""))
        elif t.type == "html_block":
            lines = [_text(line.strip()) for line in t.content.split("\n") if line.strip()]
            if lines:
                out.append(_line_starts("\n".join(lines)))
        elif t.type == "hr":
            out.append("* * *")
        i += 1
    return out


def _container(t: Token, inner: list[Token]) -> str:
    if t.type == "paragraph_open":
        return "\n\n".join(_blocks(inner))
    if t.type == "heading_open":
        text = " ".join(_blocks(inner)).replace("\n", " ")
        return f"{'#' * int(t.tag[1:])} {text}" if text.strip() else ""
    if t.type == "blockquote_open":
        body = "\n\n".join(_blocks(inner))
        return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    if t.type in ("bullet_list_open", "ordered_list_open"):
        return _list(t, inner)
    if t.type == "table_open":
        return _table(inner)
    return "\n\n".join(_blocks(inner))


def _list(t: Token, inner: list[Token]) -> str:
    ordered = t.type == "ordered_list_open"
    number = int(t.attrs.get("start", 1)) if ordered else 0
    tight = all(x.hidden for x in inner if x.type == "paragraph_open")
    items: list[str] = []
    i = 0
    while i < len(inner):
        depth, j = 1, i + 1
        while depth:
            depth += inner[j].nesting
            j += 1
        marker = f"{number}{t.markup or '.'} " if ordered else f"{t.markup or '-'} "
        number += 1
        body = ("\n" if tight else "\n\n").join(_blocks(inner[i + 1 : j - 1]))
        items.append(_indent(body, marker, " " * len(marker)))
        i = j
    return ("\n" if tight else "\n\n").join(items)


# Writing back can change how the text parses where content was taken out (a loose list whose
# items were emptied reads back tight): passes run until the text is stable, which takes two in
# every case found (the output only loses content, so a few passes always settle).
MAX_PASSES = 4


def sanitize_markdown(markdown: str) -> str:
    """The Markdown with nothing that fetches, links or runs (see the module docstring)."""
    out = markdown
    for _ in range(MAX_PASSES):
        before = out
        out = "\n\n".join(_blocks(_PARSER.parse(before))) + ("\n" if before.endswith("\n") else "")
        if out == before:
            break
    return out
