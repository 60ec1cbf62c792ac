"""Open documents: text, versions, LSP (UTF-16) positions and an incrementally kept syntax tree."""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import tree_sitter

from lsp_server.context.languages import LanguageInfo, language_for, new_parser, parse
from lsp_server.errors import (
    InvalidEdit,
    OutOfSync,
    PositionOutOfRange,
    StaleVersion,
    UnknownDocument,
)

logger = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")


def file_name(uri: str) -> str:
    """The last part of a URI or path: what prompts and titles call the file."""
    return uri.rsplit("/", 1)[-1]


def clean_text(text: str) -> str:
    """Replace lone surrogates with U+FFFD so the text always encodes to UTF-8."""
    if _SURROGATE.search(text) is None:
        return text
    # A str built from UTF-16 data may hold valid surrogate pairs: join those, replace the rest.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass(frozen=True)
class Position:
    line: int
    character: int  # UTF-16 code units


@dataclass(frozen=True)
class Range:
    start: Position
    end: Position


@dataclass(frozen=True)
class TextChange:
    range: Range | None  # None: replace the whole text
    text: str


def _utf16_len(s: str) -> int:
    return len(s) + len(_ASTRAL.findall(s))


class TextIndex:
    """Immutable line index over one text; converts between LSP positions and str offsets."""

    __slots__ = ("_ascii", "_astral", "_line_ends", "_line_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        ends: list[int] = []
        for m in _LINE_BREAK.finditer(text):
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(text))
        self._line_starts = starts
        self._line_ends = ends  # end of each line's content, before its line break
        self._astral = _ASTRAL.search(text) is not None
        self._ascii = text.isascii()

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_text(self, line: int) -> str:
        return self.text[self._line_starts[line] : self._line_ends[line]]

    def line_start(self, line: int) -> int:
        return self._line_starts[line]

    def clamp(self, pos: Position) -> Position:
        """The position a client means (LSP, Position): a character past the end of its line is
        the line's end, a line past the last is the document's end, and a character inside a
        surrogate pair is the pair's start. Only negative values raise PositionOutOfRange.
        (Edits do not go through here: a change range past the end is a sync fault.)"""
        if pos.line < 0 or pos.character < 0:
            raise PositionOutOfRange(f"line {pos.line} character {pos.character} is negative")
        if pos.line >= len(self._line_starts):
            last = len(self._line_starts) - 1
            return Position(last, _utf16_len(self.line_text(last)))
        if not self._astral:
            length = self._line_ends[pos.line] - self._line_starts[pos.line]
            return Position(pos.line, min(pos.character, length))
        units = 0
        for ch in self.line_text(pos.line):
            width = 2 if ord(ch) > 0xFFFF else 1
            if units + width > pos.character:
                break
            units += width
        return Position(pos.line, units)

    def offset_at(self, pos: Position) -> int:
        """The str offset of a position inside the document; anything else raises
        PositionOutOfRange (use `clamp` first for a position a client sent)."""
        if pos.line < 0 or pos.character < 0 or pos.line >= len(self._line_starts):
            raise PositionOutOfRange(f"line {pos.line} character {pos.character} is outside")
        start = self._line_starts[pos.line]
        end = self._line_ends[pos.line]
        if not self._astral:
            if start + pos.character > end:
                raise PositionOutOfRange(f"character {pos.character} beyond line {pos.line}")
            return start + pos.character
        units = 0
        offset = start
        while units < pos.character:
            if offset >= end:
                raise PositionOutOfRange(f"character {pos.character} beyond line {pos.line}")
            units += 2 if ord(self.text[offset]) > 0xFFFF else 1
            offset += 1
        if units != pos.character:
            # Splitting a surrogate pair cannot be mapped onto a str offset.
            raise PositionOutOfRange(f"character {pos.character} splits a surrogate pair")
        return offset

    def position_at(self, offset: int) -> Position:
        if offset < 0 or offset > len(self.text):
            raise PositionOutOfRange(f"offset {offset} is outside the document")
        line = bisect.bisect_right(self._line_starts, offset) - 1
        # An offset inside a line break belongs to the end of that line.
        offset = min(offset, self._line_ends[line])
        segment = self.text[self._line_starts[line] : offset]
        return Position(line, _utf16_len(segment) if self._astral else len(segment))

    def byte_offset(self, offset: int) -> int:
        if self._ascii:
            return offset
        return len(self.text[:offset].encode("utf-8"))

    def point_at(self, offset: int) -> tuple[int, int]:
        """tree-sitter point of a str offset: rows split at '\n' only, columns in UTF-8 bytes."""
        row = self.text.count("\n", 0, offset)
        line_start = self.text.rfind("\n", 0, offset) + 1
        if self._ascii:
            return (row, offset - line_start)
        return (row, len(self.text[line_start:offset].encode("utf-8")))


class _PositionsMixin:
    """offset_at / position_at / byte_offset shared by Document and DocumentSnapshot."""

    @property
    def index(self) -> TextIndex:
        raise NotImplementedError

    def clamp(self, pos: Position) -> Position:
        return self.index.clamp(pos)

    def offset_at(self, pos: Position) -> int:
        return self.index.offset_at(pos)

    def position_at(self, offset: int) -> Position:
        return self.index.position_at(offset)

    def byte_offset(self, offset: int) -> int:
        return self.index.byte_offset(offset)


@dataclass(frozen=True)
class DocumentSnapshot(_PositionsMixin):
    uri: str
    language_id: str
    version: int
    text: str
    language: LanguageInfo | None
    tree: tree_sitter.Tree | None
    text_index: TextIndex = field(repr=False, compare=False)

    @property
    def index(self) -> TextIndex:
        return self.text_index


@dataclass(frozen=True)
class _TreeEdit:
    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class Document(_PositionsMixin):
    def __init__(self, uri: str, language_id: str, version: int, text: str) -> None:
        self.uri = uri
        self.language_id = language_id
        self._version = version
        self._index = TextIndex(clean_text(text))
        self.language: LanguageInfo | None = language_for(language_id, uri)
        self._parser = new_parser(self.language) if self.language is not None else None
        self.desync_reason = ""  # why the text is not the editor's; "" while in sync
        self.tree: tree_sitter.Tree | None = None
        self._reparse(None)

    @property
    def version(self) -> int:
        return self._version

    @property
    def text(self) -> str:
        return self._index.text

    @property
    def index(self) -> TextIndex:
        return self._index

    @property
    def desynced(self) -> bool:
        return bool(self.desync_reason)

    def apply_changes(self, changes: Sequence[TextChange], version: int) -> None:
        """Apply the changes of one didChange in order, all or none.

        What cannot be trusted marks the document out of sync and raises a DocumentError: a
        version not newer than the newest seen (StaleVersion: reordered, replayed or repeated),
        a range that does not fit (InvalidEdit), and, once out of sync, any change without a
        full text (OutOfSync). A full-text change with a newer version makes it whole again;
        the changes before it in the same call are overwritten by it and not looked at."""
        if version <= self._version:
            self.desync_reason = f"version {version} is not newer than {self._version}"
            raise StaleVersion(self.desync_reason)
        self._version = version  # seen, applied or not: a repair must be newer still
        full = [i for i, c in enumerate(changes) if c.range is None]
        if self.desynced and not full:
            raise OutOfSync(f"{self.desync_reason}; a full-text change or a reopen repairs it")
        index = self._index
        edits: list[_TreeEdit] = []
        first = full[-1] if full else 0
        for i, change in enumerate(changes[first:], start=first):
            new_text = clean_text(change.text)
            if change.range is None:
                index = TextIndex(new_text)
                continue
            try:
                start = index.offset_at(change.range.start)
                end = index.offset_at(change.range.end)
            except PositionOutOfRange as exc:
                self.desync_reason = f"change {i}: range outside the document ({exc})"
                raise InvalidEdit(self.desync_reason) from None
            if start > end:
                self.desync_reason = f"change {i}: range end is before its start"
                raise InvalidEdit(self.desync_reason)
            edits.append(_edit_for(index, start, end, new_text))
            index = TextIndex(index.text[:start] + new_text + index.text[end:])

        self._index = index
        full_replace = bool(full)
        if full_replace:
            self.desync_reason = ""
        old_tree = self.tree
        if full_replace or old_tree is None:
            self._reparse(None)
            return
        for e in edits:
            old_tree.edit(
                e.start_byte,
                e.old_end_byte,
                e.new_end_byte,
                e.start_point,
                e.old_end_point,
                e.new_end_point,
            )
        self._reparse(old_tree)

    def _reparse(self, old_tree: tree_sitter.Tree | None) -> None:
        if self._parser is None:
            self.tree = None
            return
        try:
            self.tree = parse(self._parser, self.text.encode("utf-8"), old_tree)
        except Exception as exc:  # a broken tree must never break editing
            logger.warning("parse failed for %s: %s", self.uri, type(exc).__name__)
            self.tree = None
            self._parser.reset()

    def snapshot(self) -> DocumentSnapshot:
        # Trees are edited in place by later changes, so hand out a copy.
        return DocumentSnapshot(
            uri=self.uri,
            language_id=self.language_id,
            version=self._version,
            text=self.text,
            language=self.language,
            tree=self.tree.copy() if self.tree is not None else None,
            text_index=self._index,
        )


def _edit_for(index: TextIndex, start: int, end: int, new_text: str) -> _TreeEdit:
    start_byte = index.byte_offset(start)
    start_point = index.point_at(start)
    new_bytes = new_text.encode("utf-8")
    newlines = new_text.count("\n")
    if newlines == 0:
        new_end_point = (start_point[0], start_point[1] + len(new_bytes))
    else:
        tail = new_text[new_text.rfind("\n") + 1 :]
        new_end_point = (start_point[0] + newlines, len(tail.encode("utf-8")))
    return _TreeEdit(
        start_byte=start_byte,
        old_end_byte=index.byte_offset(end),
        new_end_byte=start_byte + len(new_bytes),
        start_point=start_point,
        old_end_point=index.point_at(end),
        new_end_point=new_end_point,
    )


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        doc = Document(uri, language_id, version, text)
        self._docs[uri] = doc
        return doc

    def change(self, uri: str, version: int, changes: Sequence[TextChange]) -> Document:
        doc = self.get(uri)
        doc.apply_changes(changes, version)
        return doc

    def close(self, uri: str) -> None:
        if self._docs.pop(uri, None) is None:
            raise UnknownDocument(f"document not open: {uri}")

    def get(self, uri: str) -> Document:
        try:
            return self._docs[uri]
        except KeyError:
            raise UnknownDocument(f"document not open: {uri}") from None

    def snapshot(self, uri: str) -> DocumentSnapshot:
        return self.get(uri).snapshot()

    def __contains__(self, uri: object) -> bool:
        return uri in self._docs

    def uris(self) -> Iterator[str]:
        return iter(list(self._docs))
