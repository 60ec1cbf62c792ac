"""The pure parts of the actions bench (bench/actions_*.py): the mutation operators, the
explanation scoring (hallucination counter), the purity filter and the sandboxed runner that
compares a function before and after a refactor.

Attacks tried: a mutation inside a string or a comment (generated programs full of decoys that
look like operators), a mutant that does not parse, a mutation reported on the wrong line; an
explanation that invents names in code spans, fences or prose, or hides them in the server's
title; a "refactor" that connects to the network, writes a file, loops forever or imports
something."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.actions_explain import (
    hallucinations,
    mentioned,
    missing_parameters,
    remove_doc,
    says_what_is_returned,
)
from bench.actions_mutate import OPERATORS, Mutation, pick, sites, still_parses
from bench.actions_pure import compare, purity, refactored_purity
from bench.actions_run import apply_workspace_edit
from bench.actions_tasks import Function, draw, functions_in, half_of, node_of, words
from lsp_server.context.documents import Document
from lsp_server.features.signature import parameters, returns_something

EXT = {"python": "py", "typescript": "ts", "go": "go"}


def doc_of(text: str, language: str) -> Document:
    return Document(f"file:///tmp/bench/x.{EXT[language]}", language, 1, text)


def only_function(doc: Document, language: str):  # type: ignore[no-untyped-def]
    fn = Function(language, "r", f"x.{EXT[language]}", "f", 0, 0)  # found by name, any length
    node = node_of(doc, fn)
    assert node is not None
    return fn, node


def protected_spans(doc: Document) -> list[tuple[int, int]]:
    """Byte ranges of every string and comment of the document."""
    info = doc.language
    assert info is not None and doc.tree is not None
    out, stack = [], [doc.tree.root_node]
    while stack:
        n = stack.pop()
        if n.type in info.string_types or n.type in info.comment_types:
            out.append((n.start_byte, n.end_byte))
        stack.extend(n.children)
    return out


# -- mutation operators: each one, by example -------------------------------------------------

PY = '''def f(a, b, items, n):
    """Docstring: a < b and not c is None."""
    # a comment: x == y or not z
    if a < b and not items:
        return True
    if b is None:
        raise ValueError("b is None && a < b")
    for i in range(n):
        items = items[i + 1:]
    c = g(a, b)
    with open(a) as fh:
        c = fh.read()
        c = c.strip()
    return c
'''

TS = """function f(a: number, b: number, items: string[]): boolean {
  // a < b && !c
  const msg = "a === null || !b";
  if (a === null || !b) {
    return true;
  }
  const head = items.slice(a + 1);
  g(a, b);
  return a < items.length;
}
"""

GO = """package p

func f(a int, b int, path string) (int, error) {
	// a < b || !ok
	f, err := os.Open(path)
	if err != nil || !ok {
		return 0, err
	}
	defer f.Close()
	s := "a == nil && !b"
	x := items[a+1:]
	g(a, b)
	return len(x) + len(s), nil
}
"""


def replaced(doc: Document, m: Mutation) -> tuple[str, str]:
    data = doc.text.encode()
    return data[m.start : m.end].decode(), m.replacement


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        (
            "python",
            PY,
            {
                ("comparison", "<", ">="),
                ("bool_op", "and", "or"),
                ("negation", "not items", "items"),
                ("none_check", "is", "is not"),
                ("bool_literal", "True", "False"),
                ("off_by_one", "n", "n - 1"),
                ("off_by_one", "i + 1", "i"),
                ("swap_args", "a, b", "b, a"),
            },
        ),
        (
            "typescript",
            TS,
            {
                ("none_check", "===", "!=="),
                ("bool_op", "||", "&&"),
                ("negation", "!b", "b"),
                ("bool_literal", "true", "false"),
                ("off_by_one", "a + 1", "a"),
                ("off_by_one", "<", "<="),
                ("comparison", "<", ">="),
                ("swap_args", "a, b", "b, a"),
            },
        ),
        (
            "go",
            GO,
            {
                ("none_check", "!=", "=="),
                ("bool_op", "||", "&&"),
                ("negation", "!ok", "ok"),
                ("off_by_one", "a+1", "a"),
                ("swap_args", "a, b", "b, a"),
            },
        ),
    ],
)
def test_each_operator_finds_its_sites_and_rewrites_them(
    language: str, source: str, expected: set[tuple[str, str, str]]
) -> None:
    doc = doc_of(source, language)
    _, node = only_function(doc, language)
    found = {(op, *replaced(doc, m)) for op, ms in sites(doc, node).items() for m in ms}
    assert expected <= found, expected - found
    for op, ms in sites(doc, node).items():
        assert op in OPERATORS
        for m in ms:
            assert still_parses(doc, m.apply(doc.text)), (op, m)


def test_python_with_becomes_an_unclosed_assignment() -> None:
    doc = doc_of(PY, "python")
    _, node = only_function(doc, "python")
    [m] = sites(doc, node)["resource_leak"]
    mutant = m.apply(PY)
    assert "    fh = open(a)\n    c = fh.read()\n    c = c.strip()\n    return c\n" in mutant
    assert "with" not in mutant.split("\n")[m.line] and "fh = open(a)" in mutant.split("\n")[m.line]
    assert m.line_delta() == 0 and still_parses(doc, mutant)


def test_go_dropped_defer_is_reported_on_the_line_that_opened_the_file() -> None:
    doc = doc_of(GO, "go")
    _, node = only_function(doc, "go")
    [m] = sites(doc, node)["resource_leak"]
    mutant = m.apply(GO)
    assert "defer" not in mutant and m.line_delta() == -1
    assert GO.split("\n")[m.line].strip() == "f, err := os.Open(path)"
    assert mutant.split("\n")[m.line] == GO.split("\n")[m.line]


def test_a_close_on_something_acquired_elsewhere_is_not_a_leak_site() -> None:
    src = "def f(self, x):\n    y = x + 1\n    self._f.close()\n    return y\n"
    doc = doc_of(src, "python")
    _, node = only_function(doc, "python")
    assert "resource_leak" not in sites(doc, node)


def test_missing_await_and_wrong_variable() -> None:
    src = (
        "async def f(a, b):\n    c = a + b\n    d = await g(c)\n"
        "    e = c * 2\n    return h(c, d, e.x)\n"
    )
    doc = doc_of(src, "python")
    _, node = only_function(doc, "python")
    found = sites(doc, node)
    [await_m] = found["missing_await"]
    assert await_m.replacement == "g(c)" and await_m.line == 2
    wrong = found["wrong_variable"]
    assert wrong
    bound_before = {"a", "b", "c", "d", "e"}
    for m in wrong:
        old = src.encode()[m.start : m.end].decode()
        after = src.encode()[m.end :].decode()
        assert old in bound_before and m.replacement in bound_before and old != m.replacement
        assert not re.match(r"\s*(=(?!=)|\()", after)  # a read: not assigned, not called
        assert src.encode()[m.start - 1 : m.start] != b"."  # not an attribute


def test_a_mutant_that_does_not_parse_is_refused() -> None:
    doc = doc_of(PY, "python")
    start = PY.encode().index(b"if a < b") + 3
    broken = Mutation("comparison", start, start + 5, "a < < b", 3, "a < b")
    assert not still_parses(doc, broken.apply(PY))
    go = doc_of(GO, "go")
    start = GO.encode().index(b"err != nil")
    assert not still_parses(go, Mutation("x", start, start + 3, "err !=", 5, "err").apply(GO))


def test_pick_is_seeded_and_spreads_the_operators() -> None:
    doc = doc_of(PY, "python")
    _, node = only_function(doc, "python")
    runs = []
    for _ in range(2):
        used: Counter[str] = Counter()
        rng = random.Random(3)
        runs.append([pick(doc, node, rng, used) for _ in range(8)])
    assert runs[0] == runs[1]
    ops = [m.operator for m in runs[0] if m is not None]
    assert len(set(ops)) == len(ops)  # least used first: eight different operators


# -- mutation operators: the whole class, generated ---------------------------------------------

NAMES = st.sampled_from(["a", "b", "items", "n"])
DECOYS = st.sampled_from(
    [
        "a < b and not c",
        "x is None or y == z",
        "&& || !x === null",
        "range(n) [i + 1:] await g()",
        "err != nil && !ok",
        "return True; defer f.Close()",
    ]
)
CMP = st.sampled_from(["<", ">", "<=", ">=", "==", "!="])
TS_BOOL = st.sampled_from(["true", "false"])
TS_CMP = st.sampled_from(["<", ">", "<=", ">=", "===", "!=="])


@st.composite
def python_function(draw: st.DrawFn) -> str:
    lines = ["def f(a, b, items, n):"]
    for _ in range(draw(st.integers(1, 6))):
        x, y, d = draw(NAMES), draw(NAMES), draw(DECOYS)
        lines += draw(
            st.sampled_from(
                [
                    [f"    if {x} {draw(CMP)} {y}:", f"        {x} = {y}  # {d}"],
                    [f"    if {x} is None or not {y}:", f"        return {draw(st.booleans())}"],
                    [f'    s = "{d}"  # {d}'],
                    [f"    for i in range({x}):", f"        {y} = items[i + 1:]"],
                    [f"    c = g({x}, {y}, '{d}')"],
                    ["    with open(a) as fh:", f"        {x} = fh.read()", f'        """{d}"""'],
                    [f"    # {d}", f"    {x} = await h({y}) and {x}"],
                ]
            )
        )
    lines.append(f"    return {draw(NAMES)} {draw(CMP)} {draw(NAMES)}")
    return "async " * draw(st.booleans()) + "\n".join(lines) + "\n"


@st.composite
def typescript_function(draw: st.DrawFn) -> str:
    lines = ["async function f(a: number, b: number, items: string[], n: number) {"]
    for _ in range(draw(st.integers(1, 6))):
        x, y, d = draw(NAMES), draw(NAMES), draw(DECOYS)
        lines += draw(
            st.sampled_from(
                [
                    [f"  if ({x} {draw(TS_CMP)} {y}) {{ {x} = {y}; }} // {d}"],
                    [f"  if ({x} === null || !{y}) {{ return {draw(TS_BOOL)}; }}"],
                    [f"  const s = `{d}`; /* {d} */"],
                    [f"  for (let i = 0; i < {x}.length; i++) {{ {y} = items.slice(i + 1); }}"],
                    [f'  g({x}, {y}, "{d}");'],
                    [f"  {x} = await h({y});"],
                ]
            )
        )
    lines += [f"  return {draw(NAMES)} {draw(TS_CMP)} {draw(NAMES)};", "}"]
    return "\n".join(lines) + "\n"


@st.composite
def go_function(draw: st.DrawFn) -> str:
    lines = ["package p", "", "func f(a int, b int, items []int, n int) bool {"]
    for _ in range(draw(st.integers(1, 6))):
        x, y, d = draw(NAMES), draw(NAMES), draw(DECOYS)
        lines += draw(
            st.sampled_from(
                [
                    [f"\tif {x} {draw(CMP)} {y} {{", f"\t\t{x} = {y} // {d}", "\t}"],
                    ["\tif err != nil || !ok {", f"\t\treturn {x} > 0", "\t}"],
                    [f"\ts := `{d}` /* {d} */", "\t_ = s"],
                    ["\tfor i := 0; i < len(items); i++ {", "\t\titems = items[i+1:]", "\t}"],
                    [f'\tg({x}, {y}, "{d}")'],
                    ["\tfh, err := os.Open(p)", "\tdefer fh.Close()", f'\t_ = "{d}"'],
                ]
            )
        )
    lines += [f"\treturn {draw(NAMES)} {draw(CMP)} {draw(NAMES)}", "}"]
    return "\n".join(lines) + "\n"


FLIPS = ("comparison", "none_check", "bool_op", "bool_literal")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        python_function().map(lambda s: ("python", s)),
        typescript_function().map(lambda s: ("typescript", s)),
        go_function().map(lambda s: ("go", s)),
    )
)
def test_no_mutation_touches_a_string_or_comment_and_every_mutant_parses(
    case: tuple[str, str],
) -> None:
    language, source = case
    doc = doc_of(source, language)
    _, node = only_function(doc, language)
    protected = protected_spans(doc)
    found = sites(doc, node)
    assert found  # every generated function has something to mutate
    lines = source.split("\n")
    for op, ms in found.items():
        for m in ms:
            for s, e in protected:
                inside = s <= m.start < e or s < m.end <= e
                # a swapped argument list or a dropped line may hold a string whole
                assert not inside or (m.start <= s and e <= m.end), (op, m, source)
            mutant = m.apply(source)
            assert mutant != source
            assert still_parses(doc, mutant), (op, m, mutant)
            assert node.start_point.row <= m.line <= node.end_point.row
            if op == "resource_leak" and not m.replacement:  # a dropped close
                assert re.search(r"(:=|=)", lines[m.line])
            else:
                assert mutant.split("\n")[m.line] != lines[m.line], (op, m)
            if op in FLIPS:  # flipping the flipped token gives the original back
                new_end = m.start + len(m.replacement.encode())
                back = Mutation(op, m.start, new_end, m.original, m.line, m.replacement)
                assert back.apply(mutant) == source


# -- explanation scoring -------------------------------------------------------------------------

FILE = """import os

def load_config(path, strict=False):
    with open(path) as fh:
        data = fh.read()
    return parse_lines(data.splitlines(), strict)
"""


def test_identifiers_come_from_code_and_identifier_shaped_prose_only() -> None:
    md = (
        "## Explanation: `function load_config` (cfg.py, line 3)\n\n"
        'Reads `path` and calls `parse_lines(data, "made_up_in_a_string")`.\n'
        "It uses the MagicParser and fetch_remote helper; plain words like Config or JSON "
        "are prose.\n\n```python\nresult = validate_schema(data)\n```\n"
    )
    names = mentioned(md)
    assert {"path", "parse_lines", "data", "result", "validate_schema"} <= names
    assert {"MagicParser", "fetch_remote"} <= names
    assert not {"made_up_in_a_string", "Config", "JSON", "function", "Explanation", "cfg"} & names
    assert hallucinations(md, FILE, "python") == [
        "MagicParser",
        "fetch_remote",
        "result",
        "validate_schema",
    ]


def test_the_servers_own_words_and_italics_are_not_names() -> None:
    cut = "## Explanation: `f` (x.py, line 1)\n\n_The model gave no explanation._\n\n_(cut short)_"
    assert mentioned(cut) == set()
    italics = "It is _really_ fast, unlike _slow_path and __init__ or `_The_thing_`."
    assert mentioned(italics) == {"_slow_path", "__init__", "_The_thing_"}


def test_builtins_keywords_and_the_file_are_known() -> None:
    md = "Opens `path` with `open()`, calls `str.splitlines`, `isinstance`, `None`, `os.path`."
    assert hallucinations(md, FILE, "python") == []
    assert (
        hallucinations("Uses `Promise.all` and `arr.forEach`.", "const arr = []", "typescript")
        == []
    )
    assert hallucinations("Calls `fmt.Errorf` then `append`.", "fmt.Errorf()", "go") == []
    assert hallucinations("Calls `fmt.Sprintf`.", "fmt.Errorf()", "go") == ["Sprintf"]


IDENTS = st.from_regex(r"[a-z]{3,8}_[a-z]{3,8}", fullmatch=True)
PROSE = st.lists(
    st.sampled_from(sorted(words("the a reads returns value each line and or of"))), max_size=8
)


@settings(max_examples=80, deadline=None)
@given(
    PROSE,
    st.lists(st.sampled_from(["load_config", "path", "strict", "fh", "data", "os"]), max_size=5),
    st.sets(IDENTS, max_size=4),
)
def test_the_count_is_exactly_the_invented_names(
    prose: list[str], known: list[str], invented: set[str]
) -> None:
    invented = {n for n in invented if n not in FILE}
    parts = [" ".join(prose)] + [f"`{k}`" for k in known]
    parts += [f"`{n}`" if i % 2 else n for i, n in enumerate(sorted(invented))]
    md = "## Explanation: `function made_up_title` (x.py, line 1)\n\n" + " ".join(parts)
    assert hallucinations(md, FILE, "python") == sorted(invented)


def test_parameters_named_and_return_stated() -> None:
    md = "Reads `path`; when strict is set it fails. Returns the parsed lines."
    assert missing_parameters(md, ["path", "strict", "fh"]) == ["fh"]
    assert missing_parameters("the pathway", ["path"]) == ["path"]
    assert says_what_is_returned(md)
    assert not says_what_is_returned("## Explanation: returns (x.py)\n\nIt reads a file.")


@pytest.mark.parametrize(
    ("language", "source", "params", "returns"),
    [
        (
            "python",
            "class C:\n    def f(self, a, b: int = 2, *rest, key=None, **kw):\n"
            "        '''Doc.'''\n        x = 1\n        return a\n",
            ["a", "b", "rest", "key", "kw"],
            True,
        ),
        (
            "python",
            "def f(a, /, *, b):\n    '''Doc.'''\n    print(a)\n    print(b)\n    return None\n",
            ["a", "b"],
            False,
        ),
        (
            "typescript",
            "// Doc.\n// More.\nfunction f(a: number, b?: string, ...rest: any[]): void {\n"
            "  g(a);\n  g(b);\n}\n",
            ["a", "b", "rest"],
            False,
        ),
        (
            "typescript",
            "/** Doc. */\nexport const f = (x: number) => {\n  const y = x;\n  return y;\n};\n",
            ["x"],
            True,
        ),
        (
            "go",
            "package p\n\n// F doc.\nfunc (r *R) f(a, b int, rest ...string) error {\n\tg(a)\n"
            "\treturn nil\n}\n",
            ["a", "b", "rest"],
            True,
        ),
    ],
)
def test_function_reading_and_doc_removal(
    language: str, source: str, params: list[str], returns: bool
) -> None:
    doc = doc_of(source, language)
    [fn] = functions_in(doc, language, "r", f"x.{EXT[language]}")
    node = node_of(doc, fn)
    assert node is not None
    assert parameters(node, "." in fn.name) == params
    assert returns_something(node, language) is returns
    removed = remove_doc(doc, node)
    assert removed is not None
    text, had = removed
    assert had and "Doc." not in text and "More." not in text
    again = doc_of(text, language)
    assert node_of(again, fn) is not None  # still found by name, code untouched
    assert text.count("\n") < source.count("\n")


def test_a_destructured_parameter_or_a_docstring_only_body_is_not_explained() -> None:
    ts = doc_of("function f({a, b}: P): number {\n  g(a);\n  g(b);\n  return 1;\n}\n", "typescript")
    [fn] = functions_in(ts, "typescript", "r", "x.ts")
    assert parameters(node_of(ts, fn), False) is None  # type: ignore[arg-type]
    py = doc_of("def f(a):\n    '''Only\n    a\n    doc.'''\n", "python")
    [fn] = functions_in(py, "python", "r", "x.py")
    assert remove_doc(py, node_of(py, fn)) is None  # type: ignore[arg-type]


def test_draws_are_seeded_and_take_every_file_before_a_second_function() -> None:
    fns = [Function("go", "r", f"f{i % 3}.go", f"fn{i}", i, i + 5) for i in range(30)]
    first = draw(fns, "review", "go", "all", 7)
    assert first == draw(fns, "review", "go", "all", 7) != draw(fns, "review", "go", "all", 8)
    assert sorted(f.identity for f in first) == sorted(f.identity for f in fns)
    assert len({f.file for f in first[:3]}) == 3
    held = draw(fns, "review", "go", "held-out", 7)
    assert held and all(f.half == "held-out" for f in held)
    assert not {f.identity for f in held} & {
        f.identity for f in draw(fns, "review", "go", "tune", 7)
    }


def test_halves_are_fixed_by_name_and_split_roughly_evenly() -> None:
    names = [f"repo/file{i}.py::fn{i}" for i in range(400)]
    halves = Counter(half_of(n) for n in names)
    assert set(halves) == {"tune", "held-out"} and min(halves.values()) > 150
    fn = Function("python", "repo", "file1.py", "fn1", 0, 5)
    assert fn.half == half_of("repo/file1.py::fn1") == half_of(fn.identity)


# -- purity filter and the sandboxed comparison -----------------------------------------------

PKG = """import os
import re

_PATTERN = re.compile(r"\\s+")
_CACHE = {}


def squash(text: str) -> str:
    return _PATTERN.sub(" ", text).strip()


def split_opt(opt):
    first = opt[:1]
    if first.isalnum():
        return "", opt
    if opt[1:2] == first:
        return opt[:2], opt[2:]
    return first, squash(opt[1:])


def remember(key):
    _CACHE[key] = 1
    return key


def home(name):
    return os.path.join(os.environ["HOME"], name)


def shout(text):
    print(text)
    return text


def calls_impure(text):
    return shout(text)


def typed(ctx: "Context") -> int:
    return 1
"""


def test_the_purity_filter(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    mod = pkg / "mod.py"
    mod.write_text(PKG)
    assert purity(pkg, mod, "split_opt").ok and purity(pkg, mod, "squash").ok
    reasons = {
        n: purity(pkg, mod, n).reason
        for n in ("remember", "home", "shout", "calls_impure", "typed", "nothere")
    }
    assert reasons["remember"] == "writes to something it did not create"
    assert "os" in reasons["home"]
    assert reasons["shout"] == "calls print()"
    assert "calls shout" in reasons["calls_impure"]
    assert "not a builtin type" in reasons["typed"]
    assert reasons["nothere"] == "not a module-level function"
    sneaky = "def split_opt(opt):\n    import socket\n    return opt, opt\n"
    assert refactored_purity(pkg, mod, "split_opt", sneaky).reason == "imports something"
    printing = "def split_opt(opt):\n    print(opt)\n    return opt, opt\n"
    assert refactored_purity(pkg, mod, "split_opt", printing).reason == "calls print()"
    beside = "def split_opt(opt):\n    return opt, opt\n\n_CACHE.clear()\n"
    assert refactored_purity(pkg, mod, "split_opt", beside).reason == (
        "runs statements beside its definitions"
    )
    helper = "def _h(o):\n    return o\n\n\ndef split_opt(opt):\n    return _h(opt), opt\n"
    assert refactored_purity(pkg, mod, "split_opt", helper).ok


ORIGINAL = """def _split_opt(opt: str) -> tuple[str, str]:
    first = opt[:1]
    if first.isalnum():
        return "", opt
    if opt[1:2] == first:
        return opt[:2], opt[2:]
    return first, opt[1:]
"""


def _run(new: str) -> dict:  # type: ignore[type-arg]
    return compare("click.parser", "_split_opt", ORIGINAL, new, seed=1, examples=40)


def test_the_comparison_tells_same_from_different() -> None:
    renamed = ORIGINAL.replace("first", "head")
    assert _run(renamed)["verdict"] == "same"
    flipped = _run(ORIGINAL.replace("opt[1:2] == first", "opt[1:2] != first"))
    assert flipped["verdict"] == "differs" and "original" in flipped["counterexample"]
    assert _run(ORIGINAL.replace("def _split_opt", "def split_opt"))["verdict"] == "lost"


def test_behaviour_includes_changes_to_the_arguments_and_the_result_type() -> None:
    largest = "def f(xs: list[int]) -> int:\n    return max(xs) if xs else 0\n"
    sorting = "def f(xs: list[int]) -> int:\n    xs.sort()\n    return xs[-1] if xs else 0\n"
    result = compare("string", "f", largest, sorting, seed=2, examples=40)
    assert result["verdict"] == "differs"  # same answers, but the caller's list is reordered
    truthy = "def f(xs: list[int]) -> int:\n    return True if xs else 0\n"
    one = "def f(xs: list[int]) -> int:\n    return 1 if xs else 0\n"
    assert compare("string", "f", one, truthy, seed=2, examples=40)["verdict"] == "differs"


def test_a_parameter_that_takes_anything_is_tried_with_every_kind_that_runs() -> None:
    # Seen with the 0.5B model: "rename locals" renamed the parameter `type` but not its uses,
    # which then meant the builtin. Strings alone (the first kind that never raises) give
    # False both ways; types tell them apart.
    original = (
        "def f(type):\n    origin = getattr(type, '__origin__', None)\n"
        "    return type in (list, dict) or origin in (list, dict)\n"
    )
    renamed = original.replace("f(type)", "f(obj)").replace("getattr(type", "getattr(obj")
    result = compare("string", "f", original, renamed, seed=3, examples=60)
    assert result["verdict"] == "differs" and "type" in result["kinds"]["type"]


def test_the_sandbox_refuses_network_writes_and_endless_loops(tmp_path: Path) -> None:
    target = tmp_path / "written"
    head = "    first = opt[:1]\n"
    net = _run(
        ORIGINAL.replace(head, head + "    __import__('socket').getaddrinfo('example.org', 80)\n")
    )
    assert net["verdict"] == "differs" and any("example.org" in e for e in net["egress"])
    wrote = _run(ORIGINAL.replace(head, head + f"    open({str(target)!r}, 'w').write('x')\n"))
    assert wrote["verdict"] == "differs" and wrote["blocked"] and not target.exists()
    loop = _run(ORIGINAL.replace(head, head + "    while opt == '': pass\n"))
    assert loop["verdict"] == "differs" and "timeout" in loop["counterexample"]
    beside = _run(ORIGINAL + f"\nopen({str(target)!r}, 'w').write('x')\n")
    assert beside["verdict"] == "lost" and beside["blocked"] and not target.exists()
    marker = tmp_path / "spawned"
    spawn = _run(ORIGINAL.replace(head, head + f"    __import__('os').system('touch {marker}')\n"))
    assert spawn["verdict"] == "differs" and "os.system" in spawn["blocked"]
    assert not marker.exists()


def test_workspace_edits_apply_in_utf16_positions() -> None:
    from lsprotocol import types

    text = "x = 'é𝄞'\ny = 1\n"
    uri = "file:///tmp/bench/e.py"
    edit = types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=1),
                [types.TextEdit(types.Range(types.Position(0, 5), types.Position(0, 8)), "ab")],
            )
        ]
    )
    new, inserted = apply_workspace_edit(text, uri, edit)
    assert new == "x = 'ab'\ny = 1\n" and inserted == ["ab"]
