from __future__ import annotations

import random

import pytest

from lsp_server.context.documents import (
    Document,
    DocumentStore,
    Position,
    Range,
    TextChange,
    clean_text,
)
from lsp_server.context.languages import language_for, new_parser
from lsp_server.errors import (
    InvalidEdit,
    OutOfSync,
    PositionOutOfRange,
    StaleVersion,
    UnknownDocument,
)


def rng(sl: int, sc: int, el: int, ec: int) -> Range:
    return Range(Position(sl, sc), Position(el, ec))


def fresh_sexp(doc: Document) -> str:
    assert doc.language is not None
    tree = new_parser(doc.language).parse(doc.text.encode("utf-8"))
    return str(tree.root_node)


def reference_apply(text: str, r: Range, new: str) -> str:
    """Independent reference: positions via UTF-16 encoding of each line."""
    lines = text.split("\n")

    def off(p: Position) -> int:
        base = sum(len(x) + 1 for x in lines[: p.line])
        units = lines[p.line].encode("utf-16-le")[: p.character * 2]
        return base + len(units.decode("utf-16-le"))

    return text[: off(r.start)] + new + text[off(r.end) :]


# --- positions -------------------------------------------------------------------------------


def test_utf16_positions_with_emoji() -> None:
    doc = Document("file:///x.txt", "plaintext", 1, "a😀b\nc")
    assert doc.offset_at(Position(0, 0)) == 0
    assert doc.offset_at(Position(0, 1)) == 1
    assert doc.offset_at(Position(0, 3)) == 2  # after the emoji (2 UTF-16 units)
    assert doc.text[doc.offset_at(Position(0, 3))] == "b"
    assert doc.offset_at(Position(0, 4)) == 3  # line end is allowed
    assert doc.offset_at(Position(1, 1)) == 5
    assert doc.position_at(2) == Position(0, 3)
    assert doc.position_at(3) == Position(0, 4)
    assert doc.position_at(5) == Position(1, 1)
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(0, 5))
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(0, 2))  # splits the surrogate pair


def test_cjk_positions_and_bytes() -> None:
    doc = Document("file:///x.py", "python", 1, "s = '漢字'\nx")
    # CJK is one UTF-16 unit but three UTF-8 bytes.
    assert doc.offset_at(Position(0, 6)) == 6
    assert doc.text[6] == "字"
    assert doc.byte_offset(6) == 5 + 3
    assert doc.snapshot().byte_offset(len(doc.text)) == len(doc.text.encode("utf-8"))


def test_crlf_and_lone_cr_lines() -> None:
    doc = Document("file:///x.txt", "plaintext", 1, "ab\r\ncd\ref\n")
    assert doc.offset_at(Position(1, 0)) == 4
    assert doc.offset_at(Position(1, 2)) == 6
    assert doc.offset_at(Position(2, 1)) == 8
    assert doc.offset_at(Position(3, 0)) == len(doc.text)
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(0, 3))  # the \r\n is not part of the line
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(4, 0))
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(-1, 0))
    with pytest.raises(PositionOutOfRange):
        doc.offset_at(Position(0, -1))
    assert doc.position_at(4) == Position(1, 0)
    assert doc.position_at(3) == Position(0, 2)  # inside the line break
    for off in range(len(doc.text) + 1):
        if doc.text[off - 1 : off + 1] != "\r\n":
            assert doc.offset_at(doc.position_at(off)) == off


def test_clean_text_replaces_only_lone_surrogates() -> None:
    assert clean_text("plain 😀") == "plain 😀"
    assert clean_text("a\ud800b") == "a\ufffdb"
    assert clean_text("a\udc00") == "a\ufffd"
    assert clean_text("\ud83d\ude00") == "😀"  # a valid pair is joined, not replaced
    doc = Document("file:///x.txt", "plaintext", 1, "x\ud800")
    doc.text.encode("utf-8")
    doc.apply_changes([TextChange(rng(0, 0, 0, 0), "\udfff")], 2)
    assert doc.text == "\ufffdx\ufffd"


# --- edits ------------------------------------------------------------------------------------

PY = "def f(a):\n    return a + 1\n\n\nclass C:\n    x = '😀'\n"


def test_incremental_edits_match_reference_and_fresh_parse() -> None:
    doc = Document("file:///m.py", "python", 1, PY)
    expected = PY
    steps = [
        (rng(1, 15, 1, 16), "2"),  # replace
        (rng(2, 0, 2, 0), "y = [1,\n     2]\n"),  # insert lines
        (rng(0, 4, 0, 5), "g"),
        (rng(1, 4, 3, 0), ""),  # delete across lines
        (rng(5, 12, 5, 12), " + 'z'"),  # line end: the emoji counts 2 units
    ]
    version = 1
    for r, new in steps:
        expected = reference_apply(expected, r, new)
        version += 1
        doc.apply_changes([TextChange(r, new)], version)
        assert doc.text == expected
        assert doc.tree is not None
        assert str(doc.tree.root_node) == fresh_sexp(doc)
    assert doc.version == version
    assert doc.text.endswith("x = '😀' + 'z'\n")


def test_several_changes_in_one_call_apply_in_order() -> None:
    doc = Document("file:///m.ts", "typescript", 1, "let a = 1;\nlet b = 2;\n")
    changes = [
        TextChange(rng(0, 4, 0, 5), "alpha"),  # now "let alpha = 1;"
        TextChange(rng(0, 12, 0, 13), "42"),  # positions refer to the text after change 1
        TextChange(rng(1, 0, 2, 0), ""),
    ]
    doc.apply_changes(changes, 2)
    assert doc.text == "let alpha = 42;\n"
    assert doc.tree is not None
    assert str(doc.tree.root_node) == fresh_sexp(doc)


def test_random_edits_keep_tree_equal_to_fresh_parse() -> None:
    random.seed(7)
    text = 'fn main() {\n    let x = "ü😀";\r\n    println!("{}", x);\n}\n'
    doc = Document("file:///m.rs", "rust", 1, text)
    pieces = ["x", "\n", "😀", "{", "}", "let y = 1;", "é", "\r\n", ""]
    for v in range(2, 60):
        a, b = sorted(random.randint(0, len(doc.text)) for _ in range(2))
        # Do not split a \r\n pair: positions cannot express that.
        if doc.text[a - 1 : a + 1] == "\r\n" or doc.text[b - 1 : b + 1] == "\r\n":
            continue
        r = Range(doc.position_at(a), doc.position_at(b))
        new = random.choice(pieces)
        expected = doc.text[:a] + new + doc.text[b:]
        doc.apply_changes([TextChange(r, new)], v)
        assert doc.text == expected
        assert doc.tree is not None
        assert str(doc.tree.root_node) == fresh_sexp(doc)


@pytest.mark.parametrize(
    "bad",
    [rng(1, 5, 1, 2), rng(0, 0, 9, 0), rng(0, 0, 0, 99)],
    ids=["backwards", "past-last-line", "past-line-end"],
)
def test_invalid_range_is_atomic_and_desyncs(bad: Range) -> None:
    doc = Document("file:///m.py", "python", 3, "x = 1\ny = 2\n")
    with pytest.raises(InvalidEdit):
        doc.apply_changes([TextChange(rng(0, 0, 0, 1), "z"), TextChange(bad, "q")], 4)
    assert doc.text == "x = 1\ny = 2\n"
    assert doc.version == 4  # seen: a repair must be newer
    assert doc.desynced and "change 1" in doc.desync_reason
    with pytest.raises(OutOfSync):  # incremental changes cannot repair it
        doc.apply_changes([TextChange(rng(0, 0, 0, 0), "# ")], 5)
    assert doc.text == "x = 1\ny = 2\n" and doc.desynced
    doc.apply_changes([TextChange(None, "fresh = True\n")], 6)
    assert not doc.desynced
    assert doc.text == "fresh = True\n"
    assert doc.tree is not None and str(doc.tree.root_node) == fresh_sexp(doc)


@pytest.mark.parametrize("full", [True, False], ids=["full-text", "incremental"])
@pytest.mark.parametrize("stale", [5, 4, 0, -3], ids=["repeat", "older", "zero", "negative"])
def test_stale_version_is_refused_and_desyncs(stale: int, full: bool) -> None:
    doc = Document("file:///m.py", "python", 5, "x = 1\n")
    change = TextChange(None if full else rng(0, 0, 0, 0), "y")
    with pytest.raises(StaleVersion) as info:
        doc.apply_changes([change], stale)
    assert doc.text == "x = 1\n" and doc.version == 5
    # Not applied, and not "in sync" either: the editor's copy and ours may differ now.
    assert doc.desynced and str(info.value) in doc.desync_reason
    with pytest.raises(StaleVersion):  # a stale full text is no repair: it may be the old one
        doc.apply_changes([TextChange(None, "old = 0\n")], 5)
    doc.apply_changes([TextChange(None, "z = 3\n")], 6)
    assert not doc.desynced and doc.text == "z = 3\n" and doc.version == 6


def test_full_text_after_bad_changes_in_one_call_repairs() -> None:
    doc = Document("file:///m.py", "python", 1, "x = 1\n")
    bad = TextChange(rng(9, 0, 9, 0), "lost")
    doc.apply_changes([bad, TextChange(None, "a = 1\n"), TextChange(rng(0, 0, 0, 1), "b")], 2)
    assert doc.text == "b = 1\n" and not doc.desynced
    with pytest.raises(InvalidEdit):  # a bad change after the full text still counts
        doc.apply_changes([TextChange(None, "c = 1\n"), bad], 3)
    assert doc.text == "b = 1\n" and doc.desynced


def test_full_replacement_then_incremental_in_one_call() -> None:
    doc = Document("file:///m.go", "go", 1, "package a\n")
    doc.apply_changes(
        [
            TextChange(None, "package b\n\nfunc f() {}\n"),
            TextChange(rng(2, 5, 2, 6), "g"),
        ],
        2,
    )
    assert doc.text == "package b\n\nfunc g() {}\n"
    assert doc.tree is not None and str(doc.tree.root_node) == fresh_sexp(doc)


def test_snapshot_is_unchanged_by_later_edits() -> None:
    doc = Document("file:///m.py", "python", 1, "def f():\n    pass\n")
    snap = doc.snapshot()
    before = str(snap.tree.root_node) if snap.tree else ""
    doc.apply_changes([TextChange(rng(0, 0, 0, 0), "import os\n")], 2)
    assert snap.text == "def f():\n    pass\n"
    assert snap.version == 1
    assert snap.tree is not None
    assert str(snap.tree.root_node) == before
    assert snap.tree.root_node.end_byte == len(snap.text)
    assert snap.offset_at(Position(1, 4)) == 13
    assert snap.position_at(13) == Position(1, 4)


def test_plain_text_has_no_tree() -> None:
    doc = Document("file:///notes.txt", "plaintext", 1, "hello")
    assert doc.language is None and doc.tree is None
    doc.apply_changes([TextChange(rng(0, 5, 0, 5), " world")], 2)
    assert doc.text == "hello world"


# --- store ------------------------------------------------------------------------------------


def test_store_lifecycle() -> None:
    store = DocumentStore()
    doc = store.open("file:///a.py", "python", 1, "x = 1\n")
    assert "file:///a.py" in store
    assert list(store.uris()) == ["file:///a.py"]
    assert store.get("file:///a.py") is doc
    store.change("file:///a.py", 2, [TextChange(rng(0, 4, 0, 5), "2")])
    assert store.snapshot("file:///a.py").text == "x = 2\n"
    reopened = store.open("file:///a.py", "python", 1, "secret = 3\n")
    assert store.get("file:///a.py") is reopened
    store.close("file:///a.py")
    assert "file:///a.py" not in store
    with pytest.raises(UnknownDocument) as info:
        store.get("file:///a.py")
    assert "secret" not in str(info.value)
    with pytest.raises(UnknownDocument):
        store.change("file:///b.py", 2, [])
    with pytest.raises(UnknownDocument):
        store.snapshot("file:///b.py")


# --- languages --------------------------------------------------------------------------------

SAMPLES = {
    ("python", "file:///a"): "import os\n\ndef f(x):\n    return x\n",
    ("javascript", "file:///a"): "import x from 'y';\nfunction f(a) { return a; }\n",
    ("typescript", "file:///a"): "function f(a: number): number { return a; }\n",
    ("typescriptreact", "file:///a"): "const e = <div>{1}</div>;\n",
    ("go", "file:///a"): "package main\n\nfunc main() {}\n",
    ("rust", "file:///a"): "fn main() { let x: i32 = 1; }\n",
    ("java", "file:///a"): "class A { int f() { return 1; } }\n",
    ("c", "file:///a"): "#include <stdio.h>\nint main(void) { return 0; }\n",
    ("cpp", "file:///a"): "namespace n { class A { public: int x; }; }\n",
    ("lua", "file:///a"): "local m = require('m')\nfunction f(a) return a end\n",
    ("shellscript", "file:///a"): "if [ -f x ]; then\n  echo hi\nfi\n",
}


@pytest.mark.parametrize(("key", "source"), list(SAMPLES.items()), ids=[k[0] for k in SAMPLES])
def test_languages_parse_samples(key: tuple[str, str], source: str) -> None:
    doc = Document(key[1], key[0], 1, source)
    assert doc.language is not None
    assert doc.tree is not None
    assert not doc.tree.root_node.has_error, str(doc.tree.root_node)


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("file:///a.py", "python"),
        ("file:///a.mjs", "javascript"),
        ("file:///a.cjs", "javascript"),
        ("file:///a.jsx", "javascript"),
        ("file:///a.ts", "typescript"),
        ("file:///a.tsx", "tsx"),
        ("file:///a.go", "go"),
        ("file:///a.rs", "rust"),
        ("file:///A.JAVA", "java"),
        ("file:///a.h", "c"),
        ("file:///a.hpp", "cpp"),
        ("file:///a.cc", "cpp"),
        ("file:///a.lua", "lua"),
        ("file:///dir%20x/a.sh", "bash"),
        ("file:///a.bash", "bash"),
    ],
)
def test_language_for_extension_fallback(uri: str, name: str) -> None:
    info = language_for("unknown-id", uri)
    assert info is not None and info.name == name


def test_language_for_ids_and_unknown() -> None:
    assert language_for("typescriptreact") is not None
    assert language_for("typescriptreact") is language_for("", "file:///x.tsx")
    assert language_for("sh") is language_for("bash")
    assert language_for("markdown", "file:///README.md") is None
    assert language_for("plaintext") is None


def test_parse_failure_keeps_editing_working(monkeypatch: pytest.MonkeyPatch) -> None:
    import lsp_server.context.documents as documents

    doc = Document("file:///m.py", "python", 1, "x = 1\n")

    def failing_parse(*_args: object, **_kwargs: object) -> None:
        raise ValueError("Parsing failed")

    monkeypatch.setattr(documents, "parse", failing_parse)
    doc.apply_changes([TextChange(rng(0, 4, 0, 5), "2")], 2)
    assert doc.text == "x = 2\n" and doc.tree is None
    monkeypatch.undo()
    # Without an old tree the next change parses from scratch.
    doc.apply_changes([TextChange(rng(0, 4, 0, 5), "3")], 3)
    assert doc.tree is not None and str(doc.tree.root_node) == fresh_sexp(doc)


def test_position_at_out_of_range() -> None:
    doc = Document("file:///x.txt", "plaintext", 1, "ab")
    with pytest.raises(PositionOutOfRange):
        doc.position_at(3)
    with pytest.raises(PositionOutOfRange):
        doc.position_at(-1)
