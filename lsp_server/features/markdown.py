"""Make model-written Markdown safe to render in an editor: nothing in it may make the editor
fetch from a remote host (which would leak that the document was opened, and maybe its text).

Links keep their text and lose their URL; images and HTML that loads anything are dropped;
autolinks and bare http(s) URLs are defanged (hxxp://example[.]com). Code blocks and code spans
are left as they are: editors do not fetch from them.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_IMAGE_INLINE = re.compile(r"!\[[^\[\]\n]*\]\([^)\n]*\)")
_IMAGE_REF = re.compile(r"!\[[^\[\]\n]*\]\[[^\[\]\n]*\]")
_LINK_INLINE = re.compile(r"\[([^\[\]\n]*)\]\([^)\n]*\)")
_LINK_REF = re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]")
_REF_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$", re.MULTILINE)
_HTML_LOADING = re.compile(
    r"<\s*(img|iframe|script|link|style|object|embed|video|audio|source|meta|base|svg|frame)"
    r"\b[^>]*>(?:.*?<\s*/\s*\1\s*>)?",
    re.IGNORECASE | re.DOTALL,
)
_HTML_ATTR_URL = re.compile(r"<[^>]*\b(?:href|src|srcset|action|background)\s*=[^>]*>", re.I)
_AUTOLINK = re.compile(r"<((?:https?|ftp|wss?)://[^>\s]*)>", re.IGNORECASE)
_BARE_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s<>()\[\]`'\"]+", re.IGNORECASE)
_EMAIL_AUTOLINK = re.compile(r"<([^@\s>]+@[^@\s>]+)>")
_WWW = re.compile(r"\bwww\.[^\s<>()\[\]`'\"]+", re.IGNORECASE)


def defang(url: str) -> str:
    """hxxp://example[.]com/path: readable, but no renderer turns it into a link."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.replace(".", "[.]")
    scheme = {"http": "hxxp", "https": "hxxps", "ftp": "fxp", "ws": "wx", "wss": "wxs"}.get(
        scheme.lower(), "xx" + scheme
    )
    host, slash, path = rest.partition("/")
    return f"{scheme}[:]//{host.replace('.', '[.]')}{slash}{path}"


def _clean_prose(text: str) -> str:
    text = _HTML_LOADING.sub("", text)
    text = _HTML_ATTR_URL.sub("", text)
    text = _IMAGE_INLINE.sub("", text)
    text = _IMAGE_REF.sub("", text)
    text = _REF_DEFINITION.sub("", text)
    text = _LINK_INLINE.sub(lambda m: m.group(1), text)
    text = _LINK_REF.sub(lambda m: m.group(1), text)
    text = _AUTOLINK.sub(lambda m: defang(m.group(1)), text)
    text = _EMAIL_AUTOLINK.sub(lambda m: m.group(1).replace("@", " at "), text)
    text = _BARE_URL.sub(lambda m: defang(m.group(0)), text)
    return _WWW.sub(lambda m: defang(m.group(0)), text)


def _clean_paragraph(text: str) -> str:
    """Clean prose, leaving code spans untouched."""
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_clean_prose(text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_clean_prose(text[pos:]))
    return "".join(out)


def sanitize_markdown(markdown: str) -> str:
    """The Markdown with remote links and images made inert (see the module docstring)."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if fence is None:
            if m is not None:
                if prose:
                    out.append(_clean_paragraph("\n".join(prose)))
                prose = []
                fence = m.group(1)
                out.append(line)
            else:
                prose.append(line)
        else:
            out.append(line)
            closes = m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closes and m is not None and not line.strip()[len(m.group(1)) :].strip():
                fence = None
    if prose:
        out.append(_clean_paragraph("\n".join(prose)))
    return "\n".join(out)
