"""Where a block answer ends (model/block_end.py): the worker stops generating there while the
answer is still being written, so the stop must never change what the server shows. Attacks:
every prefix of generated answers (tokens end anywhere), closers inside strings and comments,
word closers cut mid-word, tabs against spaces, the line cap."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.model.block_end import MAX_BLOCK_LINES, BlockEnd, block_end

INDENT = BlockEnd("indent")
BRACES = BlockEnd("braces", ("{",), ("}",))
LUA = BlockEnd("braces", ("do", "function", "if", "repeat", "{"), ("end", "until", "}"))
DOC = BlockEnd("until", close=('"""',))
JSDOC = BlockEnd("until", close=("*/",))
LINE = BlockEnd("line")


@pytest.mark.parametrize(
    ("end", "head", "text", "kept"),
    [
        # The model finishes the body, then writes the next function.
        (INDENT, "    ", "x = 1\n    return x\n\ndef g():\n    pass", "x = 1\n    return x\n"),
        (INDENT, "    ", "if a:\n        b()\n    c()", None),  # still in the body
        (INDENT, "\t", "x = 1\n\treturn x\nclass A:", "x = 1\n\treturn x"),
        (BRACES, "\t", "x := 1\n\treturn x\n}\n\nfunc g() {", "x := 1\n\treturn x"),
        (BRACES, "  ", "if (a) {\n    b();\n  }\n  c();", None),  # the inner block closes
        (BRACES, "  ", "f(); }", "f(); "),  # code before the closer on its line is kept
        (BRACES, "  ", 'log("}");\n  x = "{";\n}', 'log("}");\n  x = "{";'),  # in strings
        (BRACES, "  ", "a(); // }\n}", "a(); // }"),  # in a comment
        (LUA, "  ", "x = 1\nend\nfunction g()", "x = 1"),
        (LUA, "  ", "if a then b() end\n  c()\nend", "if a then b() end\n  c()"),
        (
            DOC,
            "    ",
            'Returns the sum.\n\n    Args:\n    """\n    return x',
            "Returns the sum.\n\n    Args:",
        ),
        (DOC, "    ", 'Returns the sum."""', "Returns the sum."),  # closed on its own line
        (
            JSDOC,
            " * ",
            "The node.\n * @returns It.\n */\nfunction f() {",
            "The node.\n * @returns It.",
        ),
        (BlockEnd(), "", "a\nb\nc", None),
        # A prefetch keeps one line: the blank lines and indentation before it too.
        (LINE, "    ", "x = 1\n    y = 2", "x = 1"),
        (LINE, "    ", "\n\n    y = 2\n    z", "\n\n    y = 2"),
        (LINE, "    ", "\n    y = 2", None),  # the line may go on
    ],
)
def test_where_blocks_end(end: BlockEnd, head: str, text: str, kept: str | None) -> None:
    cut = block_end(end, head, text)
    assert (None if cut is None else text[:cut]) == kept


def test_a_word_closer_at_the_end_of_an_unfinished_answer_waits() -> None:
    # `end` may yet become `endpoint`: only once the next character is written does it count.
    assert block_end(LUA, "  ", "x = 1\nend", final=False) is None
    assert block_end(LUA, "  ", "x = 1\nendpoint = 2", final=False) is None
    assert block_end(LUA, "  ", "x = 1\nend\n", final=False) == len("x = 1")
    assert block_end(LUA, "  ", "x = 1\nend") == len("x = 1")  # a finished answer: it counts


def test_the_line_cap_ends_any_block() -> None:
    text = "x()\n" * (MAX_BLOCK_LINES + 5)
    for end in (INDENT, BRACES, DOC, BlockEnd()):
        cut = block_end(end, "", text)
        assert cut is not None and text[:cut].count("\n") == MAX_BLOCK_LINES - 1


# Answers made of the pieces that matter: lines at several indentations, brackets, strings
# and comments holding brackets, docstring delimiters, word closers.
PIECES = st.sampled_from(
    [
        "x = 1",
        "if a:",
        "{",
        "}",
        "};",
        '"}"',
        "'{'",
        "// }",
        "# }",
        "end",
        "endpoint",
        "do",
        '"""',
        "*/",
        "\\",
        '"',
        "f(a)",
    ]
)
LINES = st.lists(
    st.tuples(st.sampled_from(["", "  ", "    ", "\t", "        "]), st.lists(PIECES, max_size=3)),
    max_size=8,
).map(lambda ls: "\n".join(i + " ".join(p) for i, p in ls))
RULES = st.sampled_from([INDENT, BRACES, LUA, DOC, JSDOC, LINE, BlockEnd()])
HEADS = st.sampled_from(["", "    ", "\t", "  x = ", " * "])


@settings(max_examples=400)
@given(RULES, HEADS, LINES, st.data())
def test_stopping_early_never_changes_what_is_shown(
    end: BlockEnd, head: str, text: str, data: st.DataObject
) -> None:
    """Tokens end anywhere: wherever the worker looks at the unfinished answer and finds its
    block complete, the finished answer ends at the same place, and the text it keeps has
    no further end in it (the server's own cut leaves it whole)."""
    at = data.draw(st.integers(0, len(text)))
    partial = block_end(end, head, text[:at], final=False)
    if partial is None:
        return
    assert block_end(end, head, text) == partial
    assert block_end(end, head, text[:partial]) is None


@settings(max_examples=200)
@given(RULES, HEADS, LINES)
def test_the_stop_is_found_once_the_answer_passes_it(end: BlockEnd, head: str, text: str) -> None:
    """The worker does not generate on past an end it could see: some prefix of a finished
    answer that holds its end (and one more character) already shows it."""
    text += "\n"  # one more character after a word closer at the end
    cut = block_end(end, head, text)
    if cut is None:
        return
    seen = [block_end(end, head, text[:k], final=False) for k in range(cut, len(text) + 1)]
    assert cut in seen


def test_the_worker_reads_the_rule_from_the_job_and_ignores_an_unknown_one() -> None:
    from lsp_server.model.protocol import CompletionJob
    from lsp_server.model.worker import end_check

    job = CompletionJob("def f():\n    ", "\n", block_end="indent", middle="")
    check = end_check(job)
    assert check is not None and check("x = 1\ny") == len("x = 1")
    assert end_check(CompletionJob("a", "b")) is None
    # A rule this worker does not know: no early stop (the token limit ends it, as before).
    assert end_check(CompletionJob("a", "b", block_end="regex:.*")) is None
