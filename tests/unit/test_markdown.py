"""The Markdown sanitizer: nothing in an explanation may make the editor fetch from anywhere or
carry a link. The property is checked on what a renderer makes of the output: render it to
HTML (markdown-it, as VS Code's preview does) and parse that HTML."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lsp_server.features.markdown import defang, sanitize_markdown

RENDERER = MarkdownIt("commonmark").enable("table")
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre"}
ALLOWED_TAGS |= {"code", "em", "strong", "hr", "br", "table", "thead", "tbody", "tr", "th", "td"}
LIVE_URL = re.compile(r"(?i)\b(?:https?|ftp|wss?|file)://|\bwww\.")


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            ok = (
                (tag == "code" and name == "class" and (value or "").startswith("language-"))
                or (tag == "ol" and name == "start" and (value or "").isdigit())
                or (
                    tag in ("th", "td")
                    and name == "style"
                    and re.fullmatch(r"text-align:(left|right|center)", value or "") is not None
                )
            )
            if not ok:
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")
        if tag in ("code", "pre"):
            self.in_code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self.in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_code and LIVE_URL.search(data):
            self.problems.append(f"live URL in text: {data!r}")

    def handle_comment(self, data: str) -> None:
        self.problems.append("HTML comment")


def problems(markdown: str) -> list[str]:
    html = RENDERER.render(sanitize_markdown(markdown))
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems


def code_of(markdown: str) -> tuple[list[str], Counter[str]]:
    """Code blocks (in order) and code spans (counted) as a renderer finds them."""
    blocks: list[str] = []
    spans: Counter[str] = Counter()
    for t in RENDERER.parse(markdown):
        if t.type in ("fence", "code_block"):
            blocks.append(t.content if t.content.endswith("\n") else t.content + "\n")
        for c in t.children or []:
            if c.type == "code_inline":
                spans[c.content] += 1
    return blocks, spans


# -- the grammar of attacks -------------------------------------------------------------------

TARGETS = [
    "http://evil.example/p.png",
    "HTTPS://evil.example/x?q=1",
    "//evil.example/p",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "&#104;ttp://evil.example/e.png",
    "&#x68;ttps://evil.example/e",
    "h&#116;tp://evil.example/e",
    "java&#x73;cript:alert(1)",
    "http%3A%2F%2Fevil.example",
    "ftp://evil.example/f",
    "www.evil.example/w",
    "http://evil.example/a_(b)",
]
TARGET = st.sampled_from(TARGETS)


@st.composite
def destination(draw: st.DrawFn) -> str:
    url = draw(TARGET)
    form = draw(st.sampled_from(["{u}", "<{u}>", '{u} "t"', "{u} 't'", "<{u}> (t)", " {u} "]))
    return form.format(u=url)


@st.composite
def fragment(draw: st.DrawFn) -> str:
    d = draw(destination())
    u = draw(TARGET)
    forms = [
        f"[text]({d})",
        f"![alt]({d})",
        f"[a [b] c]({d})",
        f"[a [b]({d}) c]({u})",
        f"[![alt]({d})]({u})",
        "[ref text][r1]",
        "![alt][r1]",
        "[r1]",
        "[r1][]",
        f"\n[r1]: {d}\n",
        f"\n   [R1]:\n   {u}\n",
        f"<{u}>",
        "<mailto:x@evil.example>",
        "<x@evil.example>",
        f"\\[x]({u})",
        f"[x\\]({u})",
        f"[x]\\({u})",
        f"\\![x]({u})",
        f"<img src={u}>",
        f'<img src="{u}" onerror="alert(1)">',
        f"<IMG SRC='{u}'>",
        f"<img/src={u}>",
        f"<img\nsrc={u}>",
        f'<a href="{u}">t</a>',
        f"\n<iframe src={u}></iframe>\n",
        f"<svg onload=alert(1)><image href={u} /></svg>",
        f"\n<style>@import url({u});</style>\n",
        f'<div style="background:url({u})">d</div>',
        f"<!-- <img src={u}> -->",
        f"\n<!--\n<img src={u}>\n-->\n",
        f"<script>fetch('{u}')</script>",
        f"<object data={u}></object>",
        f'<video poster="{u}"></video>',
        f'<link rel="stylesheet" href="{u}">',
        f'<meta http-equiv="refresh" content="0;url={u}">',
        f'<base href="{u}">',
        f"<form action={u}><button formaction={u}>b</button></form>",
        f'<source srcset="{u} 2x">',
        f"<math><mtext><img src={u}></mtext></math>",
        f"\n<div>\n\n![alt]({d})\n\n</div>\n",
        f"`{u}`",
        f"`` `<img src={u}>` ``",
        f"\n```\n<img src={u}>\n```\n",
        f"\n````md\n```\n<img src={u}>\n````\n",
        f"\n~~~\n```\n</pre><img src={u}>\n~~~\n",
        f"\n```\n<img src={u}>\n",  # never closed: code to the end
        f"\n    <img src={u}>\n",
        "\\",
        "\\`",
        "&lt;img src=x&gt;",
        "&amp;#104;",
        "&#60;img src=x&#62;",
        "*",
        "_",
        "]",
        "[",
        "|",
        "`",
        "```",
        "~~~",
        "<",
        ">",
        "word",
        "snake_case",
    ]
    return draw(st.sampled_from(forms))


PREFIXES = ["", "", "> ", "- ", "1. ", "  - ", "# ", "> - ", "| "]


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        block = "\n\n" + draw(st.sampled_from(PREFIXES))
        sep = draw(st.sampled_from([" ", " ", "\n", "\n\n", block]))
        parts.append(sep + draw(fragment()))
    if draw(st.booleans()):
        cells = draw(st.lists(fragment(), min_size=2, max_size=2))
        row = " | ".join(c.replace("\n", " ") for c in cells)
        parts.append(f"\n\n| h | i |\n|:--|--:|\n| {row} |\n")
    return draw(st.sampled_from(PREFIXES)) + "".join(parts)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_markdown_renders_to_inert_html(markdown: str) -> None:
    assert problems(markdown) == [], sanitize_markdown(markdown)


@settings(max_examples=400, deadline=None)
@given(documents())
@example(" ` `http://evil.example/p.png`")  # a span's fence ran into the next one's
def test_code_is_kept_verbatim_and_the_output_is_stable(markdown: str) -> None:
    out = sanitize_markdown(markdown)
    blocks, spans = code_of(markdown)
    out_blocks, out_spans = code_of(out)
    assert out_blocks == blocks  # no fence closed early, none opened by text
    assert not spans - out_spans  # every code span kept (defanged URLs add their own)
    assert sanitize_markdown(out) == out  # idempotent: nothing left to take out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_renders_to_inert_html(text: str) -> None:
    assert problems(text) == []


# Classic payloads (OWASP XSS filter evasion and markdown-injection lists, shortened).
KNOWN_BAD = [
    "[a](javascript:alert('XSS'))",
    "[a](JaVaScRiPt:alert('XSS'))",
    "[a](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![a](https://evil.example/p.png)",
    '![a](https://evil.example/p.png "title")',
    "![a](<https://evil.example/p p.png>)",
    "![a][x]\n\n[x]: https://evil.example/p.png",
    "![a][x]\n\n[x]:\n  <https://evil.example/p.png>\n  'title'",
    "[![a](https://evil.example/p.png)](https://evil.example/l)",
    "<https://evil.example/auto>",
    "<img src=x onerror=alert(1)>",
    "<img src=`x`onerror=alert(1)>",
    '<img """><script>alert("XSS")</script>">',
    "<IMG SRC=javascript:alert('XSS')>",
    "<img src=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)>",
    "<svg/onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<details open ontoggle=alert(1)>",
    "<a href='https://evil.example'>x</a>",
    "<style>body{background:url(https://evil.example/b)}</style>",
    '<p style="background-image:url(https://evil.example/s)">x</p>',
    "<!--><img src=https://evil.example/c>-->",
    "<![CDATA[<img src=https://evil.example/c>]]>",
    "<?php echo 1 ?><img src=https://evil.example/pi>",
    "<!DOCTYPE html><img src=https://evil.example/d>",
    "```\n```\n<img src=https://evil.example/f>",
    "``` `\n<img src=https://evil.example/f2>\n```",
    "~~~\n```\n~~~\n<img src=https://evil.example/f3>",
    "- a\n\n      <img src=https://evil.example/l>\n- b",
    "> <img src=https://evil.example/q>",
    "| a |\n|---|\n| <img src=https://evil.example/t> |",
    "| a |\n|---|\n| `x|<img src=https://evil.example/t2>` |",
    "| a |\n|---|\n| [x](https://evil.example/t3) |",
    "\\<img src=https://evil.example/e>",
    "\\\\<img src=https://evil.example/e2>",
    "&lt;img src=https://evil.example/e3&gt;",
    "[x](https://evil.example/a\\)b)",
    "[x]( https://evil.example/sp )",
    "[x\n](https://evil.example/nl)",
    "[x](\nhttps://evil.example/nl2\n)",
    "*[x](https://evil.example/em)*",
    "# [x](https://evil.example/h)",
    "Setext [x](https://evil.example/s)\n===",
    "[x]: https://evil.example/def\n[x]",
    "[X]: https://evil.example/def\n[x]",
    "[x][]\n\n[x]: https://evil.example/def",
    "www.evil.example/www",
    "see http://evil.example/bare and https://evil.example/bare2.",
]


@pytest.mark.parametrize("payload", KNOWN_BAD)
def test_known_payloads_render_to_inert_html(payload: str) -> None:
    assert problems(payload) == [], sanitize_markdown(payload)


def test_link_keeps_text_and_drops_url() -> None:
    assert sanitize_markdown("See [the docs](https://evil.example/t?id=1) for more.") == (
        "See the docs for more."
    )


def test_images_are_dropped_entirely() -> None:
    out = sanitize_markdown("Before ![pixel](http://evil.example/p.png) after")
    assert out == "Before  after"


def test_reference_links_and_definitions() -> None:
    out = sanitize_markdown("Read [the guide][g].\n\n[g]: https://evil.example/guide\n")
    assert out == "Read the guide.\n"


def test_autolinks_and_bare_urls_are_defanged_code() -> None:
    out = sanitize_markdown("Go to <https://evil.example/a> or http://evil.example/b now")
    assert out == "Go to `hxxps[:]//evil[.]example/a` or `hxxp[:]//evil[.]example/b` now"


def test_raw_html_shows_as_text() -> None:
    out = sanitize_markdown("`List<String>` or List<String> and <b>bold</b>")
    assert out == "`List<String>` or List\\<String> and \\<b>bold\\</b>"
    assert "<p>`List&lt;String&gt;`" not in RENDERER.render(out)


def test_code_blocks_and_spans_are_untouched() -> None:
    md = (
        "Use `requests.get('http://host/x')` like this:\n\n"
        "```python\nurl = 'https://example.com/[a](b)'\n```\n\n"
        "and [link](http://evil.example)."
    )
    out = sanitize_markdown(md)
    assert "`requests.get('http://host/x')`" in out
    assert "```python\nurl = 'https://example.com/[a](b)'\n```" in out
    assert out.endswith("and link.")


def test_a_fence_inside_code_gets_a_longer_fence() -> None:
    md = "````\n```\n<img src=x>\n```\n````"
    out = sanitize_markdown(md)
    assert out == md
    assert "<img" not in RENDERER.render(out).replace("&lt;img", "")


def test_defang() -> None:
    assert defang("https://a.b.c/d.e") == "hxxps[:]//a[.]b[.]c/d.e"


def test_plain_markdown_reads_the_same() -> None:
    md = (
        "## Title\n\nSome *emphasis*, **strong** and snake_case.\n\n- one `x[0]`\n- two\n\n"
        "1. first\n2. second\n\n> quoted\n\n| a | b |\n| :--- | ---: |\n| 1 | 2 |\n\n"
        "```\ncode\n```\n"
    )
    assert sanitize_markdown(md) == md


def test_brackets_around_a_link_do_not_swallow_text() -> None:
    out = sanitize_markdown('{"a": [1, "see [docs](http://evil.example/d)"]}')
    assert out == '{"a": [1, "see docs"\\]}'


def test_a_loose_list_whose_items_are_emptied_is_stable() -> None:
    # Found by the property above: every item's content taken out left "1. \n\n2. ", which
    # reads back as a tight list, so a second pass changed it.
    out = sanitize_markdown("1. ![](http://x)\n\n2. ![](http://y)")
    assert sanitize_markdown(out) == out


def test_an_emptied_item_in_a_loose_list_is_stable() -> None:
    out = sanitize_markdown("-  ![alt](http://evil.example/p.png)\n\n- *")
    assert sanitize_markdown(out) == out
