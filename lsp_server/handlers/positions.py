"""Positions and ranges from requests, as the document means them: the one conversion every
handler that takes a position or a range uses (inline completion, completion, code actions and
their resolve data, enclave/didFocus, the enclave commands).

LSP (Position): a character past the end of its line means the end of that line; Enclave also
reads a line past the document's end as the document's end (as vscode-languageserver's
TextDocument does), and a character inside a surrogate pair as the pair's start. Only a
malformed value (not an integer in 0..2^31-1, LSP's uinteger) is an error (InvalidParams).
Document edits (didChange) do not come here: there a range that does not fit is a sync fault.
"""

from __future__ import annotations

from typing import Any, Protocol

from lsprotocol import types

from lsp_server.context.documents import Position, Range
from lsp_server.errors import InvalidPosition

MAX_UINTEGER = 2**31 - 1


class Clamps(Protocol):
    def clamp(self, pos: Position) -> Position: ...


def field_of(obj: Any, name: str) -> Any:
    # Params of methods lsprotocol does not know, and code action data, arrive as dicts.
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _uinteger(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINTEGER:
        raise InvalidPosition(f"{what} must be an integer in 0..{MAX_UINTEGER}, not {value!r:.40}")
    return value


def position_in(doc: Clamps, raw: Any, what: str = "position") -> Position:
    """The position `raw` (an LSP Position or its JSON) means in `doc`."""
    if raw is None:
        raise InvalidPosition(f"{what} is missing")
    line = _uinteger(field_of(raw, "line"), f"{what}.line")
    character = _uinteger(field_of(raw, "character"), f"{what}.character")
    return doc.clamp(Position(line, character))


def range_in(doc: Clamps, raw: Any, what: str = "range") -> Range:
    """The range `raw` (an LSP Range or its JSON) means in `doc`; a backwards one is turned
    around (a selection made upwards)."""
    if raw is None:
        raise InvalidPosition(f"{what} is missing")
    start = position_in(doc, field_of(raw, "start"), f"{what}.start")
    end = position_in(doc, field_of(raw, "end"), f"{what}.end")
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    return Range(start, end)


def to_lsp_position(pos: Position) -> types.Position:
    return types.Position(pos.line, pos.character)


def to_lsp_range(rng: Range) -> types.Range:
    return types.Range(to_lsp_position(rng.start), to_lsp_position(rng.end))


def range_to_json(rng: Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }
