"""FIM templates (data in fim_templates.json), family detection and token budgeting."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lsp_server.prompts.fim import (
    BuiltPrompt,
    FimTemplate,
    PromptParts,
    build_prompt,
    detect_template,
    get_template,
    load_templates,
)

PARTS = PromptParts(prefix="def f(x):\n    return ", suffix="\n\nprint(f(1))\n", path="src/a.py")
BIG = 10_000


def words(text: str) -> int:
    return len(text.split())


def chars(text: str) -> int:
    return len(text)


def has(*tokens: str) -> Callable[[str], bool]:
    return set(tokens).__contains__


def render(name: str, parts: PromptParts = PARTS) -> BuiltPrompt:
    return build_prompt(get_template(name), parts, chars, BIG)


# ---------------------------------------------------------------- templates


def test_templates_load_in_order() -> None:
    names = [t.name for t in load_templates()]
    assert names[-1] == "prefix-only"
    assert names.index("codegemma") < names.index("qwen2.5-coder")
    assert names.index("starcoder2") < names.index("starcoder")
    assert load_templates() == load_templates()
    with pytest.raises(KeyError):
        get_template("nope")


def test_qwen_render() -> None:
    p = render("qwen2.5-coder")
    assert p.text == (
        "<|file_sep|>src/a.py\n"
        "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>"
    )
    for stop in ("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>", "<|repo_name|>"):
        assert stop in p.stop
    t = get_template("qwen2.5-coder")
    assert t.multi_file is not None
    assert t.multi_file.render_repo_header("proj") == "<|repo_name|>proj\n"
    assert t.multi_file.render_file("b.py", "x = 1\n") == "<|file_sep|>b.py\nx = 1\n"


def test_qwen_render_without_path() -> None:
    p = render("qwen2.5-coder", PromptParts(prefix="a = ", suffix="\nb"))
    assert p.text == "<|fim_prefix|>a = <|fim_suffix|>\nb<|fim_middle|>"


def test_starcoder2_render() -> None:
    p = render("starcoder2")
    assert p.text == (
        "<file_sep>src/a.py\n"
        "<fim_prefix>def f(x):\n    return <fim_suffix>\n\nprint(f(1))\n<fim_middle>"
    )
    assert "<|endoftext|>" in p.stop and "<file_sep>" in p.stop


def test_starcoder_render() -> None:
    p = render("starcoder")
    assert p.text == "<fim_prefix>def f(x):\n    return <fim_suffix>\n\nprint(f(1))\n<fim_middle>"


def test_codellama_render() -> None:
    p = render("codellama")
    assert p.text == "<PRE> def f(x):\n    return  <SUF>\n\nprint(f(1))\n <MID>"
    assert p.stop[0] == "<EOT>"


def test_deepseek_render() -> None:
    p = render("deepseek-coder")
    assert p.text == (
        "<\uff5cfim\u2581begin\uff5c>def f(x):\n    return "
        "<\uff5cfim\u2581hole\uff5c>\n\nprint(f(1))\n<\uff5cfim\u2581end\uff5c>"
    )
    assert "<\uff5cend\u2581of\u2581sentence\uff5c>" in p.stop


def test_codegemma_render() -> None:
    p = render("codegemma")
    assert p.text == (
        "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>"
    )
    assert "<|file_separator|>" in p.stop and "<eos>" in p.stop


def test_prefix_only_render_drops_suffix() -> None:
    p = render("prefix-only")
    assert p.text == "def f(x):\n    return "
    assert p.suffix_used == ""


def test_braces_in_code_are_not_placeholders() -> None:
    parts = PromptParts(prefix="s = '{suffix} {prefix}'", suffix="{path}", path="{x}.py")
    p = render("qwen2.5-coder", parts)
    assert p.text == (
        "<|file_sep|>{x}.py\n"
        "<|fim_prefix|>s = '{suffix} {prefix}'<|fim_suffix|>{path}<|fim_middle|>"
    )


def test_extra_context_goes_first() -> None:
    parts = PromptParts(prefix="x = ", suffix="", extra_context="import os\nimport sys")
    p = render("qwen2.5-coder", parts)
    assert p.text == "<|fim_prefix|>import os\nimport sys\nx = <|fim_suffix|><|fim_middle|>"
    assert p.context_used == "import os\nimport sys"
    assert render("prefix-only", parts).text == "import os\nimport sys\nx = "


# ---------------------------------------------------------------- detection

QWEN = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>")
DS_BEGIN, DS_HOLE, DS_END = (f"<\uff5cfim\u2581{w}\uff5c>" for w in ("begin", "hole", "end"))
GEMMA = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>")


@pytest.mark.parametrize(
    "arch,tokens,expected",
    [
        ("qwen2", QWEN, "qwen2.5-coder"),
        ("gemma", GEMMA, "codegemma"),
        ("Gemma2", GEMMA, "codegemma"),
        ("qwen2", GEMMA, "qwen2.5-coder"),  # the gemma rule is tied to the architecture
        (
            "starcoder2",
            ("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
            "starcoder2",
        ),
        ("starcoder", ("<fim_prefix>", "<fim_suffix>", "<fim_middle>"), "starcoder"),
        ("llama", ("\u2581<PRE>", "\u2581<SUF>", "\u2581<MID>", "\u2581<EOT>"), "codellama"),
        ("llama", ("<PRE>", "<SUF>", "<MID>"), "codellama"),
        ("llama", (DS_BEGIN, DS_HOLE, DS_END), "deepseek-coder"),
        ("llama", ("<s>", "</s>"), "prefix-only"),
        ("gemma", ("<|fim_prefix|>",), "prefix-only"),  # partial sets do not count
        ("phi3", (), "prefix-only"),
    ],
)
def test_detect(arch: str, tokens: tuple[str, ...], expected: str) -> None:
    t = detect_template(arch, has(*tokens))
    assert t.name == expected
    assert isinstance(t, FimTemplate)


# ---------------------------------------------------------------- budgeting

QWEN_T = get_template("qwen2.5-coder")


def numbered(n: int, fmt: str = "line{}") -> str:
    return "".join(fmt.format(i) + "\n" for i in range(n))


def test_budget_keeps_nearest_lines_and_respects_budget() -> None:
    # Each line "pN" / "sN" is one word: word counting makes the arithmetic exact.
    prefix = numbered(100, "p{}") + "cur"
    suffix = "rest\n" + numbered(100, "s{}")
    p = build_prompt(QWEN_T, PromptParts(prefix, suffix), words, 40, suffix_share=0.25)
    # suffix: 10 tokens = "rest" + s0..s8; prefix: the other 30 = "cur" + p71..p99
    assert p.suffix_used == "rest\n" + "".join(f"s{i}\n" for i in range(8)) + "s8"
    assert p.prefix_used == "".join(f"p{i}\n" for i in range(71, 100)) + "cur"
    assert words(p.prefix_used) + words(p.suffix_used) == 40
    scaffold = words(QWEN_T.render("", ""))
    assert p.tokens_estimate == 40 + scaffold


def test_unused_suffix_budget_goes_to_prefix() -> None:
    prefix = numbered(100, "p{}") + "cur"
    p = build_prompt(QWEN_T, PromptParts(prefix, "end"), words, 40, suffix_share=0.25)
    assert p.suffix_used == "end"
    assert words(p.prefix_used) == 39
    assert p.prefix_used.endswith("p99\ncur")


def test_whole_lines_only() -> None:
    prefix = "aaaa bbbb\n" * 10 + "x = "
    p = build_prompt(QWEN_T, PromptParts(prefix, ""), chars, 35)
    # "x = " is 4 chars; each line is 10: three lines fit (34), a fourth would not.
    assert p.prefix_used == "aaaa bbbb\n" * 3 + "x = "


def test_everything_fits() -> None:
    parts = PromptParts("a\nb\nc", "d\ne")
    p = build_prompt(QWEN_T, parts, chars, 1000)
    assert (p.prefix_used, p.suffix_used) == ("a\nb\nc", "d\ne")


def test_cursor_line_kept_and_cut_from_left() -> None:
    long_line = "x" * 50 + "END"
    p = build_prompt(QWEN_T, PromptParts("above\n" + long_line, "tail\nmore"), chars, 20)
    assert p.prefix_used == long_line[-20:]
    assert p.suffix_used == ""
    assert p.tokens_estimate - chars(QWEN_T.render("", "")) <= 20


def test_cursor_line_rest_cut_from_right() -> None:
    p = build_prompt(QWEN_T, PromptParts("ab", "0123456789\nnext"), chars, 20, suffix_share=0.25)
    assert p.suffix_used == "01234"  # 25% of 20
    assert p.prefix_used == "ab"


def test_prefix_only_gives_suffix_budget_to_prefix() -> None:
    prefix = numbered(50, "p{}") + "cur"
    p = build_prompt(get_template("prefix-only"), PromptParts(prefix, "s\n" * 50), words, 20)
    assert p.suffix_used == ""
    assert words(p.prefix_used) == 20


def test_extra_context_fits_after_minimum_prefix() -> None:
    prefix = numbered(100, "p{}") + "cur"
    ctx = "import a\nimport b\nclass C:"  # 6 words
    parts = PromptParts(prefix, "", extra_context=ctx)
    p = build_prompt(QWEN_T, parts, words, 40, min_prefix_share=0.5)
    assert p.context_used == ctx
    assert words(p.prefix_used) == 34  # 20 minimum, context 6, then 14 more
    assert p.text.startswith("<|fim_prefix|>import a\nimport b\nclass C:\np67\n")
    assert p.tokens_estimate == 40 + words(QWEN_T.render("", ""))


def test_extra_context_trimmed_from_its_start() -> None:
    prefix = numbered(100, "p{}") + "cur"
    ctx = numbered(30, "c{}")
    p = build_prompt(QWEN_T, PromptParts(prefix, "", extra_context=ctx), words, 40)
    # minimum prefix 20, then the last 20 context lines, nothing more.
    assert p.context_used == "".join(f"c{i}\n" for i in range(10, 30))
    assert words(p.prefix_used) == 20


def test_extra_context_skipped_when_no_room() -> None:
    prefix = numbered(100, "p{}") + "cur"
    p = build_prompt(QWEN_T, PromptParts(prefix, "", extra_context="big " * 50), words, 40)
    assert p.context_used == ""
    assert words(p.prefix_used) == 40


def test_each_line_counted_at_most_once() -> None:
    calls: list[str] = []

    def counting(text: str) -> int:
        calls.append(text)
        return len(text.split())

    prefix = numbered(5000, "p{}") + "cur"
    suffix = numbered(5000, "s{}")
    build_prompt(QWEN_T, PromptParts(prefix, suffix, extra_context="import x\n"), counting, 100)
    # Window lines (+ the one that did not fit on each side), context, and the scaffold.
    assert len(calls) < 120
    assert len(calls) == len(set(calls))


def test_zero_budget() -> None:
    p = build_prompt(QWEN_T, PromptParts("a\nbc", "d"), chars, 0)
    assert (p.prefix_used, p.suffix_used) == ("", "")


def test_snapped_window_start_is_stable_while_the_cursor_moves_down() -> None:
    from lsp_server.prompts.fim import PromptParts, build_prompt, get_template

    template = get_template("qwen2.5-coder")
    lines = [f"line_{i} = {i}\n" for i in range(200)]

    def window_start(cursor_line: int) -> str:
        parts = PromptParts(prefix="".join(lines[:cursor_line]), suffix="")
        built = build_prompt(template, parts, lambda t: len(t.split()), 120, snap_lines=8)
        first = built.prefix_used.split("\n", 1)[0]
        return first

    starts = [window_start(n) for n in range(100, 116)]
    # The start moves at most twice over 16 lines (once per 8-line step), never per line.
    assert len(set(starts)) <= 3
    for first in starts:
        assert int(first.split("_")[1].split(" ")[0]) % 8 == 0
