"""Positions a client sends, as the document means them (LSP, Position): past a line's end is
the line's end, past the last line is the document's end, inside a surrogate pair is the pair's
start; only negative values are refused. Checked against an independent reference."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document, Position
from lsp_server.errors import PositionOutOfRange
from tests.unit.test_document_fuzz import TEXTS, lines_of, utf16_units


def reference_clamp(text: str, line: int, character: int) -> Position:
    lines = lines_of(text)
    if line >= len(lines):
        return Position(len(lines) - 1, len(utf16_units(lines[-1])))
    units = utf16_units(lines[line])
    c = min(character, len(units))
    if 0 < c < len(units) and "\ud800" <= units[c - 1] <= "\udbff":
        c -= 1  # between the two halves of a pair: the pair's start
    return Position(line, c)


def reference_offset(text: str, pos: Position) -> int:
    lines = lines_of(text)
    index = 0
    for i in range(pos.line):
        index += len(lines[i])
        index += 2 if text[index : index + 2] == "\r\n" else 1
    head = "".join(utf16_units(lines[pos.line])[: pos.character])
    return index + len(head.encode("utf-16-le", "surrogatepass").decode("utf-16-le"))


COORDINATE = st.one_of(st.integers(0, 12), st.sampled_from([10**6, 2**31 - 1]))


@settings(max_examples=400, deadline=None)
@given(TEXTS, COORDINATE, COORDINATE)
def test_clamp_matches_the_reference_and_always_maps_to_an_offset(
    text: str, line: int, character: int
) -> None:
    doc = Document("file:///p.py", "python", 1, text)
    clamped = doc.clamp(Position(line, character))
    assert clamped == reference_clamp(text, line, character)
    assert doc.offset_at(clamped) == reference_offset(text, clamped)
    assert doc.clamp(clamped) == clamped  # idempotent
    assert doc.snapshot().clamp(Position(line, character)) == clamped


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.data())
def test_positions_inside_the_document_are_unchanged(text: str, data: st.DataObject) -> None:
    doc = Document("file:///p.py", "python", 1, text)
    lines = lines_of(text)
    line = data.draw(st.integers(0, len(lines) - 1))
    units = utf16_units(lines[line])
    stops = [0] + [i + 1 for i, u in enumerate(units) if not "\ud800" <= u <= "\udbff"]
    pos = Position(line, data.draw(st.sampled_from(stops)))
    assert doc.clamp(pos) == pos


@pytest.mark.parametrize(
    ("text", "asked", "meant"),
    [
        ("", (0, 0), (0, 0)),
        ("", (0, 15), (0, 0)),  # a code action range ending at character 15 of an empty line
        ("", (1, 0), (0, 0)),
        ("", (10**6, 10**6), (0, 0)),
        ("ab\n\ncd", (1, 15), (1, 0)),
        ("ab\r\ncd\r\n", (0, 3), (0, 2)),  # the \r\n is not part of the line
        ("ab\r\ncd\r\n", (0, 10**6), (0, 2)),
        ("ab\r\ncd\r\n", (2, 1), (2, 0)),
        ("ab\r\ncd\r\n", (3, 0), (2, 0)),  # last line + 1: the document's end
        ("ab\rcd", (0, 9), (0, 2)),
        ("x😀y", (0, 2), (0, 1)),  # splits the pair: its start
        ("x😀y", (0, 3), (0, 3)),
        ("x😀y", (0, 4), (0, 4)),
        ("x😀y", (0, 5), (0, 4)),
        ("😀😀", (0, 3), (0, 2)),
        ("😀😀", (7, 3), (0, 4)),
        ("a\n😀", (1, 1), (1, 0)),
        ("a\n😀", (2, 0), (1, 2)),
    ],
)
def test_edge_cases(text: str, asked: tuple[int, int], meant: tuple[int, int]) -> None:
    doc = Document("file:///p.txt", "plaintext", 1, text)
    assert doc.clamp(Position(*asked)) == Position(*meant)


@pytest.mark.parametrize("pos", [Position(-1, 0), Position(0, -1), Position(-5, -5)])
def test_negative_positions_are_refused(pos: Position) -> None:
    doc = Document("file:///p.txt", "plaintext", 1, "abc\n")
    with pytest.raises(PositionOutOfRange):
        doc.clamp(pos)


def test_offset_at_stays_strict_for_edits() -> None:
    doc = Document("file:///p.txt", "plaintext", 1, "x😀y\n")
    for pos in (Position(0, 5), Position(0, 2), Position(2, 0)):
        with pytest.raises(PositionOutOfRange):
            doc.offset_at(pos)
