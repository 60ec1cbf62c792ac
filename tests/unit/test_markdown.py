"""The Markdown sanitizer: nothing in an explanation may make the editor fetch from a host."""

from __future__ import annotations

from lsp_server.features.markdown import defang, sanitize_markdown


def test_link_keeps_text_and_drops_url() -> None:
    out = sanitize_markdown("See [the docs](https://evil.example/track?id=1) for more.")
    assert out == "See the docs for more."


def test_images_are_dropped_entirely() -> None:
    out = sanitize_markdown("Before ![pixel](http://evil.example/p.png) after ![x][ref]")
    assert out == "Before  after "
    assert "evil" not in out


def test_reference_links_and_definitions() -> None:
    md = "Read [the guide][g].\n\n[g]: https://evil.example/guide\n"
    out = sanitize_markdown(md)
    assert "the guide" in out and "evil" not in out and "[g]" not in out


def test_autolinks_and_bare_urls_are_defanged() -> None:
    out = sanitize_markdown("Go to <https://evil.example/a> or http://evil.example/b now")
    assert "https://" not in out and "http://" not in out
    assert "hxxps[:]//evil[.]example/a" in out and "hxxp[:]//evil[.]example/b" in out


def test_html_that_loads_is_removed() -> None:
    md = 'x <img src="https://evil.example/p.png"> y <a href="http://evil.example">z</a>'
    out = sanitize_markdown(md)
    assert "evil" not in out and "<img" not in out and "href" not in out


def test_code_blocks_and_spans_are_untouched() -> None:
    md = (
        "Use `requests.get('http://host/x')` like this:\n\n"
        "```python\nurl = 'https://example.com/[a](b)'\n```\n"
        "and [link](http://evil.example)."
    )
    out = sanitize_markdown(md)
    assert "`requests.get('http://host/x')`" in out
    assert "url = 'https://example.com/[a](b)'" in out
    assert out.endswith("and link.")


def test_defang() -> None:
    assert defang("https://a.b.c/d.e") == "hxxps[:]//a[.]b[.]c/d.e"


def test_plain_markdown_is_unchanged() -> None:
    md = "## Title\n\n- one `x[0]`\n- two\n\n```\ncode\n```\n"
    assert sanitize_markdown(md) == md


def test_brackets_around_a_link_do_not_swallow_text() -> None:
    out = sanitize_markdown('{"a": [1, "see [docs](http://evil.example/d)"]}')
    assert out == '{"a": [1, "see docs"]}'
