"""Property test: any sequence of valid incremental edits (UTF-16 positions over ASCII, CJK,
emoji, CRLF) leaves the document equal to an independent reference, and its incrementally
edited tree equal to a fresh parse; any invalid edit changes nothing and marks the document."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document, Position, Range, TextChange
from lsp_server.context.languages import new_parser
from lsp_server.errors import InvalidEdit

ALPHABET = st.sampled_from([*"ab_ (){}:=+\n\t", "\r\n", "漢", "字", "😀", "é", '"', "#"])
TEXTS = st.lists(ALPHABET, max_size=30).map("".join)


def utf16_units(text: str) -> list[str]:
    """The text as UTF-16 code units (astral characters become two surrogates)."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(data), 2)]


def lines_of(text: str) -> list[str]:
    out, line, i = [], "", 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            out.append(line)
            line, i = "", i + 2
            continue
        if text[i] in "\r\n":
            out.append(line)
            line = ""
        else:
            line += text[i]
        i += 1
    return [*out, line]


@st.composite
def edit_for(draw: st.DrawFn, text: str) -> tuple[Range, str]:
    lines = lines_of(text)

    def position() -> Position:
        line = draw(st.integers(0, len(lines) - 1))
        units = utf16_units(lines[line])
        # Only positions between whole characters (not inside a surrogate pair).
        stops = [0]
        for i, u in enumerate(units):
            if not ("\ud800" <= u <= "\udbff"):
                stops.append(i + 1)
        return Position(line, draw(st.sampled_from(stops)))

    a, b = position(), position()
    start, end = sorted([a, b], key=lambda p: (p.line, p.character))
    return Range(start, end), draw(TEXTS)


def reference(text: str, r: Range, new: str) -> str:
    def offset(p: Position) -> int:
        # Walk lines with their real line breaks.
        index, line = 0, 0
        while line < p.line:
            nl = min(i for i in (text.find("\r", index), text.find("\n", index)) if i >= 0)
            index = nl + (2 if text[nl : nl + 2] == "\r\n" else 1)
            line += 1
        units = 0
        while units < p.character:
            units += 2 if ord(text[index]) > 0xFFFF else 1
            index += 1
        return index

    return text[: offset(r.start)] + new + text[offset(r.end) :]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), TEXTS)
def test_edits_match_reference_and_fresh_parse(data: st.DataObject, initial: str) -> None:
    doc = Document("file:///fuzz.py", "python", 1, initial)
    expected = initial
    for version in range(2, 2 + data.draw(st.integers(1, 8))):
        r, new = data.draw(edit_for(expected))
        expected = reference(expected, r, new)
        doc.apply_changes([TextChange(r, new)], version)
        assert doc.text == expected
    assert doc.language is not None and doc.tree is not None
    fresh = new_parser(doc.language).parse(doc.text.encode())
    assert str(doc.tree.root_node) == str(fresh.root_node)


@settings(max_examples=80, deadline=None)
@given(TEXTS, st.integers(-2, 40), st.integers(-2, 40), st.integers(-2, 40), st.integers(-2, 40))
def test_invalid_range_changes_nothing(initial: str, sl: int, sc: int, el: int, ec: int) -> None:
    doc = Document("file:///fuzz.py", "python", 1, initial)
    r = Range(Position(sl, sc), Position(el, ec))
    try:
        doc.apply_changes([TextChange(r, "X")], 2)
    except InvalidEdit:
        assert doc.text == initial and doc.version == 2 and doc.desynced
    else:
        assert doc.text == reference(initial, r, "X")
