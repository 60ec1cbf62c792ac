"""Repository context for a completion: definitions of the symbols used near the cursor and
imported by the file (resolved through the workspace index), and chunks of recently edited or
viewed files, within a token budget and a time budget.

The result is a deterministic tuple of (path, content) pairs, least relevant first, which the
prompt renders as other files of the repository before the current one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import os
import posixpath
import re
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot, DocumentStore, TextChange
from lsp_server.context.index import (
    GO_BLOCKS,
    Definition,
    FileEntry,
    Progress,
    WorkspaceIndex,
    extract,
    is_secret,
)
from lsp_server.context.languages import language_for
from lsp_server.settings import ContextSettings

logger = logging.getLogger(__name__)

CHARS_PER_TOKEN = 3
TIME_BUDGET_S = ContextSettings().timeBudgetMs / 1000
NEAR_LINES = 10  # identifiers this many lines above and below the cursor count as "used"
NEAR_BAND = 8
MAX_DEFS_PER_NAME = 2
AMBIGUOUS = 6  # a name defined more often than this is only used when the file imports it
IMPORTED_DISTANCE = 3 * NEAR_LINES  # rank of imported names not seen near the cursor
MAX_USE_SCAN = 256 * 1024  # characters of a file searched for the uses of its imported names
# Lines above and below the cursor searched for members of the classes in scope (and, in Go,
# names of the package) used there: what the code nearby calls, the line being written may too.
USE_WINDOW_LINES = 300
# Of those, the nearest MAX_FAR_NAMES with at most MAX_FAR_DEFINITIONS definitions in the
# index are looked at: a name defined everywhere (`get`) says little, and looking through its
# definitions in a large repository would eat the time budget the recent chunks need.
MAX_FAR_NAMES = 64
MAX_FAR_DEFINITIONS = 32
FREQUENT_USES = 4  # a far name's distance is divided by its number of uses, at most this
CHUNK_LINES = 32
RING_SIZE = 16
DUPLICATE_JACCARD = 0.7
REINDEX_DELAY_S = 0.5


def path_of(uri: str) -> str:
    return unquote(urlparse(uri).path) if "://" in uri else uri


# -- recent chunks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    path: str
    start: int  # first line, 0-based
    text: str

    @property
    def end(self) -> int:
        return self.start + self.text.count("\n") + 1

    def line_set(self) -> frozenset[str]:
        return frozenset(s for line in self.text.split("\n") if (s := line.strip()))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class RecentChunks:
    """Ring buffer of chunks around recent edits and views; a new chunk replaces those of the
    same file it overlaps and any near-duplicate (line-set Jaccard above the threshold)."""

    def __init__(self, size: int = RING_SIZE, lines: int = CHUNK_LINES) -> None:
        self.size = size
        self.lines = lines
        self._chunks: deque[Chunk] = deque()

    def add(self, path: str, text_lines: Sequence[str], around: int) -> None:
        if not text_lines or is_secret(path):
            return
        start = max(0, min(around - self.lines // 2, len(text_lines) - self.lines))
        body = "\n".join(text_lines[start : start + self.lines]).rstrip("\n")
        if not body.strip():
            return
        new = Chunk(path, start, body)
        lines = new.line_set()
        kept = [
            c
            for c in self._chunks
            if not (c.path == path and c.start < new.end and new.start < c.end)
            and jaccard(c.line_set(), lines) <= DUPLICATE_JACCARD
        ]
        kept.append(new)
        self._chunks = deque(kept[-self.size :])

    def forget(self, path: str) -> None:
        self._chunks = deque(c for c in self._chunks if c.path != path)

    def chunks(self) -> list[Chunk]:
        """Oldest first."""
        return list(self._chunks)


# -- similar code ----------------------------------------------------------------------------

# The lines above the cursor's band are compared, as word sets, with windows of as many lines
# in the files beside the current one (same folder, imported, recently edited); the best window
# over MIN_SIMILARITY is shown with what follows it there: code that reads like the code above
# the cursor often goes on like the line being written (RepoCoder's sliding-window retrieval).
SIMILAR_LINES = 12
SIMILAR_STEP = 4
SIMILAR_SHOWN_BEFORE = 6  # lines of the matched window shown, then what came after it
SIMILAR_SHOWN_AFTER = NEAR_BAND + 4
MIN_SIMILARITY = 0.4
MIN_QUERY_WORDS = 8
MAX_SIMILAR_FILES = 16
MAX_SIMILAR_BYTES = 128 * 1024
SIMILAR_CACHE_FILES = 64


@dataclass(frozen=True)
class Snippet:
    path: str
    text: str
    similarity: float


# An open document's text and version, by path: what the user sees, saved or not.
OpenText = Callable[[str], tuple[int, str] | None]


class SimilarCode:
    """Files cut into windows of word sets, kept for the most recently searched files: an open
    document's text (checked against its version), else the file on disk (checked against its
    size and modification time)."""

    def __init__(self, size: int = SIMILAR_CACHE_FILES) -> None:
        self.size = size
        self._files: OrderedDict[str, tuple[tuple[int, int], list[str], list[frozenset[str]]]]
        self._files = OrderedDict()

    def windows(
        self, path: str, opened: tuple[int, str] | None = None
    ) -> tuple[list[str], list[frozenset[str]]] | None:
        """(lines, word set per window) of `path`, or of its open document's (version, text)."""
        if is_secret(path):
            return None
        if opened is not None:
            if len(opened[1]) > MAX_SIMILAR_BYTES:
                return None
            stamp = (-1, opened[0])  # no file has a negative modification time
        else:
            try:
                st = os.stat(path)
            except OSError:
                return None
            if st.st_size > MAX_SIMILAR_BYTES:
                return None
            stamp = (st.st_mtime_ns, st.st_size)
        held = self._files.get(path)
        if held is not None and held[0] == stamp:
            self._files.move_to_end(path)
            return held[1], held[2]
        if opened is not None:
            lines = opened[1].split("\n")
        else:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().split("\n")
            except OSError:
                return None
        words = [frozenset(_WORD.findall(line)) for line in lines]
        sets = [
            frozenset().union(*words[i : i + SIMILAR_LINES])
            for i in range(0, max(1, len(lines) - SIMILAR_LINES + 1), SIMILAR_STEP)
        ]
        self._files[path] = (stamp, lines, sets)
        while len(self._files) > self.size:
            self._files.popitem(last=False)
        return lines, sets

    def forget(self, path: str) -> None:
        self._files.pop(path, None)


def query_words(snap: DocumentSnapshot, offset: int) -> frozenset[str]:
    """Words of the SIMILAR_LINES lines above the cursor's band: they do not change while the
    user types in the band, so neither does the prompt's start."""
    band = band_of(snap, offset)
    first = max(0, band - SIMILAR_LINES)
    return frozenset(w for i in range(first, band) for w in _WORD.findall(snap.index.line_text(i)))


def similar_candidates(
    current: str, entry: FileEntry | None, index: WorkspaceIndex, also: Sequence[str]
) -> list[str]:
    """Files of the current one's language beside it (same folder), then those it imports, then
    `also` (the recent chunks' files)."""
    folder = posixpath.dirname(current)
    language = entry.language if entry is not None else ""
    out = [p for p in index.in_folder(folder) if index.files[p].language == language]
    if entry is not None:
        out += sorted(p for p in index.linked(entry).files if p in index.files)
    out += also
    return [p for p in dict.fromkeys(out) if p != current][:MAX_SIMILAR_FILES]


def find_similar(
    query: frozenset[str],
    paths: Sequence[str],
    cache: SimilarCode,
    deadline: float,
    open_text: OpenText | None = None,
) -> Snippet | None:
    """The window most like `query` among `paths` (at least MIN_SIMILARITY), shown as its last
    SIMILAR_SHOWN_BEFORE lines and the SIMILAR_SHOWN_AFTER lines after it. Open documents are
    read through `open_text`."""
    if len(query) < MIN_QUERY_WORDS:
        return None
    best: tuple[float, str, list[str], int] | None = None  # score, path, lines, window start
    for path in paths:
        if time.monotonic() > deadline:
            break
        got = cache.windows(path, open_text(path) if open_text is not None else None)
        if got is None:
            continue
        for n, words in enumerate(got[1]):
            union = len(query | words)
            score = len(query & words) / union if union else 0.0
            if score >= MIN_SIMILARITY and (best is None or score > best[0]):
                best = (score, path, got[0], n * SIMILAR_STEP)
    if best is None:
        return None
    score, path, lines, start = best
    end = start + SIMILAR_LINES  # the line after the matched window
    text = "\n".join(lines[end - SIMILAR_SHOWN_BEFORE : end + SIMILAR_SHOWN_AFTER]).strip("\n")
    return Snippet(path, text, score) if text.strip() else None


# -- gathering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatheredContext:
    files: tuple[tuple[str, str], ...] = ()  # (path, content), least relevant first
    path: str = ""  # the current file's path relative to its workspace folder
    repo: str = ""  # the workspace folder's name
    elapsed_ms: float = 0.0


def band_of(snap: DocumentSnapshot, offset: int) -> int:
    """First line of the cursor's band. The window moves in bands of NEAR_BAND lines, so the
    gathered context (and the prompt's start, which the model has already evaluated) stays the
    same while the cursor moves within a band."""
    row = snap.index.position_at(offset).line
    return row - row % NEAR_BAND


def names_near(snap: DocumentSnapshot, offset: int, lines: int = NEAR_LINES) -> dict[str, int]:
    """Identifiers within `lines` lines of the cursor's band -> their distance in lines from
    the band."""
    if snap.tree is None:
        return {}
    band = band_of(snap, offset)
    first = max(0, band - lines)
    last = min(snap.index.line_count - 1, band + NEAR_BAND - 1 + lines)
    start_b = snap.byte_offset(snap.index.line_start(first))
    end_b = snap.byte_offset(
        snap.index.line_start(last + 1) if last + 1 < snap.index.line_count else len(snap.text)
    )
    found: dict[str, int] = {}
    stack: list[tree_sitter.Node] = [snap.tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte < start_b or node.start_byte > end_b:
            continue
        if node.child_count == 0:
            if node.type.endswith("identifier") and node.text:
                name = node.text.decode("utf-8", "replace")
                r = node.start_point.row
                distance = max(0, band - r, r - (band + NEAR_BAND - 1))
                if distance < found.get(name, 1 << 30):
                    found[name] = distance
            continue
        stack.extend(node.children)
    return found


def nearest_uses(
    snap: DocumentSnapshot,
    offset: int,
    names: Sequence[str] | None = None,
    first_is_import: bool = False,
    window_lines: int | None = None,
    counts: Counter[str] | None = None,
) -> dict[str, int]:
    """Distance in lines from the cursor's band to the nearest use above or below it (not in
    it) of each of `names` (None: of every identifier), found within `window_lines` lines of
    the band (None: the whole file). With `first_is_import`, a name's first occurrence is
    taken for its import and not counted. Names with no such use are left out. With `counts`,
    the uses outside the band are counted there too."""
    lines = snap.index
    band = band_of(snap, offset)
    lo = lines.line_start(band)
    hi = (
        lines.line_start(band + NEAR_BAND)
        if band + NEAR_BAND < lines.line_count
        else len(snap.text)
    )
    start, end = 0, len(snap.text)
    if window_lines is not None:
        start = lines.line_start(max(0, band - window_lines))
        last = band + NEAR_BAND + window_lines
        end = lines.line_start(last) if last < lines.line_count else len(snap.text)
        # Long lines (minified or generated code): at most MAX_USE_SCAN characters around it.
        start = max(start, lo - MAX_USE_SCAN // 2)
        end = min(end, hi + MAX_USE_SCAN // 2)
    if names is not None and not names:
        return {}
    # Every word, filtered by a set: compiling an alternation of the names at each call cost
    # more than the scan (8 ms for cattrs' converters.py).
    wanted = set(names) if names is not None else None
    imports: set[str] = set()
    before: dict[str, int] = {}  # the last use above the band
    after: dict[str, int] = {}  # the first use below it
    for m in _WORD.finditer(snap.text, start, end):
        name, at = m.group(), m.start()
        if wanted is not None and name not in wanted:
            continue
        if first_is_import and name not in imports:
            imports.add(name)
        elif at < lo or at >= hi:
            if at < lo:
                before[name] = at
            else:
                after.setdefault(name, at)
            if counts is not None:
                counts[name] += 1
    out: dict[str, int] = {}
    for name in before.keys() | after.keys():
        found = [band - lines.position_at(before[name]).line] if name in before else []
        if name in after:
            found.append(lines.position_at(after[name]).line - (band + NEAR_BAND - 1))
        out[name] = max(1, min(found))
    return out


def imported_uses(
    snap: DocumentSnapshot,
    offset: int,
    imported: Sequence[str],
    near: dict[str, int],
    aliases: Sequence[tuple[str, str]] = (),
) -> dict[str, int]:
    """Imported names not used near the cursor -> distance in lines from the cursor's band to
    their nearest use elsewhere in the file (under their local name, see
    FileEntry.import_aliases). A name the file imports but does not use yet gets 0: the import
    was written for code still to come. The first occurrence of a name is taken for its
    import. Files over MAX_USE_SCAN characters are not scanned (about 4 ms for 150 KB here):
    their imported names keep the default rank."""
    local = dict(aliases)
    names = [n for n in imported if n not in near]
    if not names or len(snap.text) > MAX_USE_SCAN:
        return {}
    found = nearest_uses(snap, offset, [local.get(n, n) for n in names], first_is_import=True)
    return {name: found.get(local.get(name, name), 0) for name in names}


def with_aliases(near: dict[str, int], aliases: Sequence[tuple[str, str]]) -> dict[str, int]:
    """`near` with each imported name whose local name is near the cursor, at its distance."""
    out = dict(near)
    for original, local in aliases:
        if local in near:
            out[original] = min(out.get(original, near[local]), near[local])
    return out


def _comment_prefix(path: str) -> str:
    info = language_for("", path)
    return info.comment_prefix if info is not None else "#"


def is_whole(signature: str) -> bool:
    """False for a header the index cut short (a long parameter list: `def prompt(`): a
    bracket is left open. Such a stub tells the model little and reads as broken code."""
    depth = 0
    for ch in signature.rstrip().removesuffix("{"):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return depth == 0


# A body left out, in code that still parses: `{ ... }` is a syntax error in Go, TypeScript
# and Rust, and a context file that does not parse is not what the model saw in training.
STUB_BODY = "{ /* ... */ }"


def _stubbed(header: str) -> str:
    """`header` (its opening brace, if any, dropped) with a left-out body."""
    return header.rstrip().rstrip("{").rstrip() + " " + STUB_BODY


# Headers the index keeps without their `{`: interfaces and enums (`const enum State`).
_BRACED_TYPE = re.compile(
    r"(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:const\s+)?(?:interface|enum)\b"
)


def render_definition(d: Definition, comment: str) -> str:
    sig = d.signature
    one_line = sig.strip()
    if "\n" in one_line:
        header_only = not one_line.endswith(("}", ")", ";"))
    else:  # `func (h *headerV7) mode() []byte { return h[100:][:8] }` is whole
        header_only = not (one_line.endswith("}") and "{" in one_line and is_whole(one_line))
    python = comment == "#"
    if python and sig.rstrip().endswith(":"):
        # A docstring is a whole body; without one, `...` on the header's line, as stubs
        # write it: a `...` line at the indentation of the line being written was copied.
        if d.doc:
            return f'{sig}\n    """{d.doc}"""'
        return f"{sig.rstrip()} ..."
    if not python and d.kind == "constant" and one_line.endswith("{"):
        sig = _stubbed(sig)  # `const f = (): T => {`
        one_line = sig.strip()
    if d.kind == "constant" and d.doc and "\n" not in one_line and d.doc not in sig:
        return f"{sig}  {comment} {d.doc}"  # as a const block writes it
    doc = f"{comment} {d.doc}\n" if d.doc and d.doc not in sig else ""
    if python:
        return doc + sig
    if header_only and d.kind in ("function", "method"):
        abstract = re.match(r"(?:\w+\s+)*abstract\s", sig)
        sig = sig.rstrip().rstrip("{").rstrip() + ";" if abstract else _stubbed(sig)
    elif d.kind in ("class", "type") and (
        one_line.endswith("{")
        or (
            (d.kind == "class" or _BRACED_TYPE.match(one_line))
            and not one_line.endswith(("}", ";"))
        )
    ):
        sig = _stubbed(sig)  # `type Reader struct {`, a class or interface header
    return doc + sig


def render_file_definitions(defs: Sequence[Definition], preamble: str = "") -> str:
    """Definitions of one file in line order, after its `preamble` (see FileEntry); methods
    under their class header, Go specs in their `const ( ... )` block."""
    if not defs:
        return ""
    comment = _comment_prefix(defs[0].path)
    python = comment == "#"
    containers = {d.container for d in defs if d.container}
    # A class shown with some of its methods is written once, as their header, with its doc.
    headers = {d: d.signature.split("\n")[0] for d in defs if d.kind == "class"}
    class_docs = {h: d.doc for d, h in headers.items() if h in containers}
    parts: list[str] = [preamble + "\n"] if preamble else []
    container = ""

    def close() -> None:
        if container and not python:
            parts.append(")" if container in GO_BLOCKS else "}")

    for d in sorted(defs, key=lambda d: d.line):
        if headers.get(d) in class_docs:
            continue
        text = render_definition(d, comment)
        if d.container != container:
            close()
            container = d.container
            doc = class_docs.get(container, "")
            if container and python:
                parts.append(container + (f'\n    """{doc}"""' if doc else ""))
            elif container in GO_BLOCKS:
                parts.append(container + " (")
            elif container:
                parts.append((f"{comment} {doc}\n" if doc else "") + container + " {")
        if container:
            pad = "\t" if container in GO_BLOCKS else "    "
            text = "\n".join(pad + line if line else line for line in text.split("\n"))
        parts.append(text)
    close()
    return "\n".join(parts) + "\n"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")
MIN_SHARED_NAMES = 2

_CLASS_NAME = re.compile(r"\bclass\s+([A-Za-z_$][\w$]*)")
_PY_BASES = re.compile(r"\bclass\s+\w+\s*\(([^)]*)\)")
_TS_BASES = re.compile(r"\b(?:extends|implements)\s+([^{]*)")
CLASS_NODES = frozenset({"class_definition", "class_declaration", "abstract_class_declaration"})
BASE_DEPTH = 3  # base classes followed this many steps up


def class_name(header: str) -> str:
    """`class Foo(Bar):` or `export class Foo<T> extends Bar {` -> `Foo`."""
    m = _CLASS_NAME.search(header)
    return m.group(1) if m else ""


def base_names(header: str) -> list[str]:
    """The base classes (and TypeScript interfaces) a class header names, without module
    qualifiers or type arguments: `class A(mod.B, C[T], metaclass=M):` -> [B, C]."""
    m = _PY_BASES.search(header)
    if m is not None:
        parts = [p for p in m.group(1).split(",") if "=" not in p]
    else:
        parts = [p for g in _TS_BASES.findall(header) for p in re.split(r",|\bimplements\b", g)]
    out: list[str] = []
    for part in parts:
        name = re.sub(r"[\[<].*", "", part).strip().rsplit(".", 1)[-1]
        if name.isidentifier() and name not in out:
            out.append(name)
    return out


def enclosing_class(snap: DocumentSnapshot, offset: int) -> str:
    """The header (first line) of the class the cursor is in, or ""."""
    if snap.tree is None:
        return ""
    at = snap.byte_offset(offset)
    node: tree_sitter.Node | None = snap.tree.root_node.descendant_for_byte_range(at, at)
    while node is not None and node.type not in CLASS_NODES:
        node = node.parent
    if node is None:
        return ""
    return snap.index.line_text(node.start_point.row)


def receiver_classes(header: str, imported: Sequence[str], index: WorkspaceIndex) -> set[str]:
    """Classes whose methods a member name near the cursor may well belong to: the enclosing
    class's bases (`self.x`, `this.x`), the classes the file imports, and their bases, up to
    BASE_DEPTH steps. Their files need not be imported by the current file."""
    out: set[str] = set()
    frontier = [*base_names(header), *imported]
    for _ in range(BASE_DEPTH):
        grown: list[str] = []
        for name in frontier:
            if name in out:
                continue
            classes = [d for d in index.lookup(name) if d.kind == "class"]
            if classes:
                out.add(name)
            for d in classes[:MAX_DEFS_PER_NAME]:
                grown += base_names(d.signature.split("\n", 1)[0])
        frontier = grown
    return out


# How sure we are that a definition is the one a name near the cursor refers to (lower is
# surer). A name neither imported by the file nor defined in a file it imports from (or, in Go,
# in its own package) is most often a local variable, a parameter or an attribute that happens
# to share a name with some definition elsewhere: such look-alikes are left out (measured:
# docs/context.md).
IMPORTED_LINKED = 0  # imported by the file, defined in the file it is imported from / same package
IMPORTED = 1  # imported, but its module could not be told: any definition of the name
LINKED = 2  # not imported by name, defined in a file the current file imports (obj.method)
SAME_PACKAGE = frozenset({"go"})  # languages where a folder is one namespace
SIBLING_SPAN = 2  # neighbours taken on each side
MAX_SIBLING_SOURCES = 8  # definitions near the cursor whose neighbours are looked at
_GO_RECEIVER = re.compile(r"^func\s*\(\s*(?:\w+\s+)?\*?\s*(\w+)")
_THIS_PARAM = re.compile(r"\(\s*this\s*:\s*([A-Za-z_$][\w$]*)")


def this_class(signature: str) -> str:
    """The class a TypeScript function declares as its `this` (`function find(this:
    Cheerio<T>, ...)`): a method of it, mixed in (`this.find(...)`)."""
    m = _THIS_PARAM.search(signature)
    return m.group(1) if m else ""


def group_of(d: Definition) -> str:
    """What a definition is listed with: methods by their class (in Go their receiver's
    type), others by their kind."""
    if d.kind == "method":
        if d.container:
            return d.container
        m = _GO_RECEIVER.match(d.signature)
        return f"func ({m.group(1)})" if m else ""
    return d.kind


_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
RARE_WORD = 3  # a word shared by at most this many of the other names tells them apart
_COMMON_WORDS = frozenset({"get", "set", "self", "this", "new", "init", "make", "from"})


@lru_cache(maxsize=4096)
def _split(name: str) -> tuple[str, ...]:
    """A name's words, lower case: `itemBreak` -> item, break; `send_request` -> send, request."""
    return tuple(w.lower() for w in _NAME_PART.findall(name))


def words_of(name: str) -> frozenset[str]:
    """The telling words of a name: `_structure_final_factory` -> structure, final, factory."""
    return frozenset(w for w in _split(name) if len(w) >= 3 and w not in _COMMON_WORDS)


def name_parts(name: str) -> set[str]:
    """The first and last word of a name: neighbours that share one are of a kind
    (`itemContinue` beside `itemBreak`, `write_paragraph` beside `write_text`); `feature`
    beside `stopped` is just the next method."""
    words = _split(name)
    return {words[0], words[-1]} if words else set()


def group_members(d: Definition, index: WorkspaceIndex) -> list[Definition]:
    """The definitions of `d`'s file in its group (see group_of), in line order."""
    entry = index.entry(d.path)
    if entry is None:
        return []
    key = group_of(d)
    return [x for x in entry.definitions if group_of(x) == key]


def siblings(d: Definition, index: WorkspaceIndex) -> list[tuple[int, Definition]]:
    """The definitions listed next to `d` in its file, of its group (the other methods of its
    class, the other constants of its block), with their distance in that list: the line
    being written often uses the neighbour of what the code around uses (`case itemBreak:`,
    then `case itemContinue:`; `v7.mode()`, then `v7.uid()`)."""
    group = group_members(d, index)
    at = next((i for i, x in enumerate(group) if x.line == d.line and x.name == d.name), None)
    if at is None:
        return []
    lo, hi = max(0, at - SIBLING_SPAN), min(len(group), at + SIBLING_SPAN + 1)
    return [(abs(i - at), group[i]) for i in range(lo, hi) if i != at]


MAX_GAP = 2  # missing members filled in between two shown ones of a group


def gaps(shown: Sequence[Definition], d: Definition, index: WorkspaceIndex) -> list[Definition]:
    """Members of `d`'s group (methods or constants) missing between two shown ones, at most
    MAX_GAP in a row. A list with a hole reads as complete: shown `mode()`, `gid()` of
    `headerV7` (used near the cursor) but not `uid()` (the line being written), the model
    wrote `v7.gid()` where `v7.uid()` belongs."""
    if d.kind not in ("method", "constant"):
        return []
    key = group_of(d)
    keys = {(x.line, x.name) for x in shown if x.path == d.path and group_of(x) == key}
    if len(keys) < 2:
        return []
    members = group_members(d, index)
    at = [i for i, x in enumerate(members) if (x.line, x.name) in keys]
    out: list[Definition] = []
    for a, b in itertools.pairwise(at):
        if 1 < b - a <= MAX_GAP + 1:
            out.extend(members[a + 1 : b])
    return out


def rank_definitions(
    near: dict[str, int],
    entry: FileEntry | None,
    index: WorkspaceIndex,
    current: str,
    deadline: float = float("inf"),
    imported_far: dict[str, int] | None = None,
    classes: set[str] | None = None,
    used_far: dict[str, int] | None = None,
) -> list[tuple[tuple[int, int, int, int, str, int], Definition]]:
    """Definitions from other files for the names near the cursor (and the file's imports),
    best first: the names near the cursor before the other imported names, then by confidence
    (IMPORTED_LINKED, IMPORTED, LINKED), then by distance from the cursor (for the other
    imported names: `imported_far`, see imported_uses). Names the current file defines itself
    are visible already and left out. Methods of `classes` (see receiver_classes) count as
    linked wherever they are defined. Names used farther from the cursor (`used_far`, see
    nearest_uses) come in by their distance only as such methods or, in Go, as names of the
    package: names the nearby code calls, which the line being written may call too."""
    imported = set(entry.imported_names) if entry is not None else set()
    own = {d.name for d in entry.definitions} if entry is not None else set()
    linked = index.linked(entry) if entry is not None else None
    here = str(PurePosixPath(current).parent)
    package = entry is not None and entry.language in SAME_PACKAGE
    names = dict(near)
    members = classes or set()
    far_distance = imported_far or {}
    for name in imported:
        names.setdefault(name, far_distance.get(name, IMPORTED_DISTANCE))
    for name, distance in (used_far or {}).items():
        names.setdefault(name, distance)
    # A name not used near the cursor that shares words with what is (`get_final_base` in
    # `_structure_final_factory`, beside `get_newtype_base(type)`) ranks as if used closer.
    # Only rare words count: in a library about structuring, `structure` says nothing.
    near_words = {w for n in near for w in words_of(n)}
    others = [n for n in names if n not in near]
    frequency = Counter(w for n in others for w in words_of(n) & near_words)
    for name in others:
        shared = sum(1 for w in words_of(name) & near_words if frequency[w] <= RARE_WORD)
        names[name] >>= 2 * min(2, shared)
    out: list[tuple[tuple[int, int, int, int, str, int], Definition]] = []
    sources: list[tuple[int, int, Definition]] = []
    for name, distance in names.items():
        if time.monotonic() > deadline:
            break
        if name in own:
            continue
        defs = [d for d in index.lookup(name) if d.path != current]
        if not defs:
            continue

        def is_sure(d: Definition) -> bool:
            return (
                (package and str(PurePosixPath(d.path).parent) == here)
                or (d.kind == "method" and class_name(d.container) in members)
                or (d.kind == "function" and this_class(d.signature) in members)
            )

        flags = [(d, is_sure(d)) for d in defs]
        sure_defs = [d for d, sure in flags if sure]
        linked_defs = [d for d, sure in flags if sure or (linked is not None and d.path in linked)]
        if name not in near and name not in imported:
            if not sure_defs:
                continue
            confidence = IMPORTED_LINKED
            defs = sure_defs
        elif name in imported:
            confidence = IMPORTED_LINKED if linked_defs else IMPORTED
            if linked_defs:
                defs = linked_defs
            elif len(defs) > AMBIGUOUS:
                continue
        elif linked_defs:
            confidence = IMPORTED_LINKED if package or sure_defs else LINKED
            defs = linked_defs
        else:
            continue
        for d in defs:
            same_dir = 0 if str(PurePosixPath(d.path).parent) == here else 1
            far = 0 if name in near else 1
            out.append(((far, confidence, distance, same_dir, d.rel, d.line), d))
            if far == 0 and (d.kind == "method" or (package and same_dir == 0)):
                sources.append((confidence, distance, d))
    # Neighbours of what is used near the cursor rank as if used `gap` lines farther than it,
    # after the names really used at that distance (the fourth key). Reachable ones only:
    # methods of an object the code holds, or in Go names of the same package.
    sources.sort(key=lambda s: (s[1], s[2].rel, s[2].line))
    for confidence, distance, source in sources[:MAX_SIBLING_SOURCES]:
        if time.monotonic() > deadline:
            break
        parts = name_parts(source.name)
        for gap, d in siblings(source, index):
            if d.name not in own and parts & name_parts(d.name):
                out.append(((0, confidence, distance + gap, 1, d.rel, d.line), d))
    out.sort(key=lambda c: c[0])
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for c in out:  # a definition can come both by its name and as a neighbour: keep the best
        if (c[1].path, c[1].line, c[1].name) not in seen:
            seen.add((c[1].path, c[1].line, c[1].name))
            unique.append(c)
    return unique


def gather(
    snap: DocumentSnapshot,
    offset: int,
    index: WorkspaceIndex,
    recent: RecentChunks,
    budget_tokens: int,
    time_budget_s: float = TIME_BUDGET_S,
    similar: SimilarCode | None = None,
    open_text: OpenText | None = None,
) -> GatheredContext:
    """Context files for a completion at `offset`, within `budget_tokens` (estimated at
    CHARS_PER_TOKEN) and `time_budget_s` (what was gathered by then is used); with `similar`,
    first the code most like the lines above the cursor (at most half the budget, and a time
    budget as long again)."""
    t0 = time.monotonic()
    deadline = t0 + time_budget_s
    budget = budget_tokens * CHARS_PER_TOKEN
    current = path_of(snap.uri)
    where = index.relative(current)
    repo, rel = where if where is not None else ("", "")
    if budget <= 0:
        return GatheredContext((), rel, repo)

    entry = index.entry(current)
    if entry is None and snap.tree is not None and snap.language is not None:
        entry = extract(snap.tree, snap.text.encode("utf-8"), snap.language, current, rel)
    imported = entry.imported_names if entry is not None else ()
    aliases = entry.import_aliases if entry is not None else ()
    used = 0
    snippet_files: list[tuple[str, str]] = []
    if similar is not None:
        paths = similar_candidates(current, entry, index, [c.path for c in recent.chunks()])
        query = query_words(snap, offset)
        found = find_similar(query, paths, similar, t0 + time_budget_s, open_text)
        if found is not None:
            where_s = index.relative(found.path)
            name = where_s[1] if where_s is not None else PurePosixPath(found.path).name
            text, room = found.text, budget // 2 - len(name) - 16
            while len(text) > room and "\n" in text:
                text = text.rsplit("\n", 1)[0]
            if len(text) <= room:
                snippet_files.append((name, text + "\n"))
                used += len(text) + len(name) + 16
        deadline = time.monotonic() + time_budget_s
    near = with_aliases(names_near(snap, offset), aliases)
    classes = receiver_classes(enclosing_class(snap, offset), imported, index)
    counts: Counter[str] = Counter()
    uses = nearest_uses(snap, offset, window_lines=USE_WINDOW_LINES, counts=counts)
    # A name the code around uses again and again (`this._make(...)` in cheerio) is likelier in
    # the line being written than its nearest use alone says.
    far = sorted(
        (max(1, d // min(FREQUENT_USES, counts[n])), n)
        for n, d in uses.items()
        if n not in near and 0 < len(index.lookup(n)) <= MAX_FAR_DEFINITIONS
    )
    used_far = {n: d for d, n in far[:MAX_FAR_NAMES]}
    ranked = rank_definitions(
        near,
        entry,
        index,
        current,
        deadline,
        imported_uses(snap, offset, imported, near, aliases),
        classes,
        used_far,
    )

    chosen: dict[str, list[Definition]] = {}
    preambles: dict[str, str] = {}  # per chosen file: its FileEntry.preamble
    best: dict[str, tuple[int, int, int, int]] = {}
    per_name: dict[str, int] = {}
    shown_signatures: set[tuple[str, str]] = set()
    for key, d in ranked:
        if per_name.get(d.name, 0) >= MAX_DEFS_PER_NAME or not is_whole(d.signature):
            continue
        if (d.name, d.signature) in shown_signatures:  # defined per Python version: once will do
            continue
        if key[0] == 1 and d.doc:  # a name not used near the cursor: its signature will do
            d = dataclasses.replace(d, doc="")
        shown = chosen.get(d.rel, [])
        container = d.container if all(c.container != d.container for c in shown) else ""
        cost = len(d.signature) + len(d.doc) + len(container) + 16
        if used + cost > budget:
            continue
        if d.rel not in chosen:
            e = index.entry(d.path)
            preambles[d.rel] = e.preamble if e is not None else ""
            used += len(d.rel) + 8 + len(preambles[d.rel])
        chosen.setdefault(d.rel, []).append(d)
        shown_signatures.add((d.name, d.signature))
        best.setdefault(d.rel, (*key[:3], len(best)))
        per_name[d.name] = per_name.get(d.name, 0) + 1
        used += cost
        for g in gaps(chosen[d.rel], d, index):  # before anything ranked lower
            cost = len(g.signature) + 16
            if used + cost <= budget and is_whole(g.signature):
                chosen[d.rel].append(dataclasses.replace(g, doc=""))
                shown_signatures.add((g.name, g.signature))
                used += cost

    # Most relevant last, next to the current file.
    def_files = [
        (r, render_file_definitions(chosen[r], preambles[r]))
        for r in sorted(chosen, key=lambda r: best[r], reverse=True)
    ]

    chunk_files: list[tuple[str, str]] = []
    for chunk in reversed(recent.chunks()):  # newest first while budgeting
        if time.monotonic() > deadline:
            break
        if chunk.path == current:
            continue
        # Only chunks that talk about what is near the cursor: an unrelated recent file is
        # noise the model may copy (measured: docs/context.md).
        if len(near.keys() & set(_WORD.findall(chunk.text))) < MIN_SHARED_NAMES:
            continue
        cost = len(chunk.text) + 16
        if used + cost > budget:
            continue
        where_c = index.relative(chunk.path)
        name = where_c[1] if where_c is not None else PurePosixPath(chunk.path).name
        chunk_files.append((name, chunk.text + "\n"))
        used += cost
    chunk_files.reverse()

    elapsed = (time.monotonic() - t0) * 1000
    return GatheredContext(tuple(chunk_files + def_files + snippet_files), rel, repo, elapsed)


# -- the session's context service -----------------------------------------------------------


class ContextService:
    """Holds the workspace index and the recent chunks, keeps them up to date from document
    events and the file system, and gathers context for the completer."""

    def __init__(
        self,
        documents: DocumentStore,
        enabled: Callable[[], bool],
        extra_ignored: Callable[[str], bool] | None = None,
        time_budget_ms: Callable[[], int] = lambda: round(TIME_BUDGET_S * 1000),
    ) -> None:
        self.documents = documents
        self.enabled = enabled
        self.time_budget_ms = time_budget_ms
        self.extra_ignored = extra_ignored
        self.index = WorkspaceIndex()
        self.recent = RecentChunks()
        self.similar = SimilarCode()
        self.roots: list[str] = []
        self.last_gather_ms = 0.0
        self._dirty: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self.indexing: asyncio.Task[int] | None = None
        self.watching = False  # the client reports file changes (registered once)

    def set_roots(self, roots: Sequence[str]) -> None:
        self.roots = list(dict.fromkeys(roots))
        self.index.roots = [Path(r) for r in self.roots]

    def change_roots(self, added: Sequence[str], removed: Sequence[str]) -> None:
        """Workspace folders added or removed: the files of a removed folder leave the index
        and the recent chunks (unless another folder still holds them); the caller indexes
        again."""
        roots = [r for r in self.roots if r not in removed] + list(added)
        self.set_roots(roots)
        kept = [Path(r) for r in roots]
        for folder in removed:
            for path in [p for p in self.index.files if Path(p).is_relative_to(folder)]:
                if not any(Path(path).is_relative_to(r) for r in kept):
                    self.index.remove(path)
                    self.recent.forget(path)
                    self.similar.forget(path)

    def start_indexing(
        self, max_files: int, progress: Progress | None = None
    ) -> asyncio.Task[int] | None:
        if not self.roots or not self.enabled():
            return None
        if self.indexing is not None and not self.indexing.done():
            self.indexing.cancel()
        self.indexing = asyncio.ensure_future(
            self.index.build([Path(r) for r in self.roots], max_files, self.extra_ignored, progress)
        )
        return self.indexing

    def _ignored(self, path: str) -> bool:
        return is_secret(path) or (self.extra_ignored is not None and self.extra_ignored(path))

    # -- document events (on the loop; cheap) --

    def on_open(self, uri: str) -> None:
        # No chunk: an opened file's first lines are mostly imports, which share names with
        # any cursor and crowd out what matters; where the user looks comes with didFocus.
        if uri in self.documents and not self._ignored(path_of(uri)):
            self._mark_dirty(uri)

    def on_focus(self, uri: str, line: int) -> None:
        """The editor shows `uri` around `line` (enclave/didFocus): a recently viewed chunk."""
        path = path_of(uri)
        if uri in self.documents and not self._ignored(path):
            self.recent.add(path, self.documents.get(uri).text.split("\n"), line)

    def on_change(self, uri: str, changes: Sequence[TextChange]) -> None:
        path = path_of(uri)
        if self._ignored(path):
            return
        if not changes:  # closed: what is on disk is the truth again
            self._spawn(self.index.update_from_disk(path))
            return
        if uri not in self.documents:
            return
        doc = self.documents.get(uri)
        last = changes[-1]
        line = last.range.start.line if last.range is not None else 0
        self.recent.add(path, doc.text.split("\n"), line)
        self._mark_dirty(uri)

    def on_save(self, uri: str) -> None:
        self._dirty.add(uri)
        self._flush()

    async def on_watched(self, changes: Sequence[tuple[str, bool]]) -> None:
        """(uri, deleted) per changed file on disk; open documents are left to their events."""
        for uri, deleted in changes:
            path = path_of(uri)
            if deleted:
                self.index.remove(path)
                self.recent.forget(path)
                self.similar.forget(path)
            elif uri not in self.documents and not self._ignored(path):
                await self.index.update_from_disk(path)

    def _mark_dirty(self, uri: str) -> None:
        self._dirty.add(uri)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(REINDEX_DELAY_S, self._flush)

    def _flush(self) -> None:
        """Re-extract the dirty open documents from their existing trees (no re-parse)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dirty, self._dirty = self._dirty, set()
        for uri in sorted(dirty):
            if uri not in self.documents:
                continue
            doc = self.documents.get(uri)
            if doc.tree is not None and doc.language is not None:
                self.index.update_from_tree(path_of(uri), doc.tree, doc.text, doc.language)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self.keep(asyncio.ensure_future(work))

    def keep(self, task: asyncio.Future[None]) -> None:
        """Hold a background task until it is done."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stats(self) -> dict[str, Any]:
        """Figures for enclave/getStatus."""
        return {
            "roots": self.roots,
            "building": self.index.building,
            "files": len(self.index.files),
            "buildMs": round(self.index.build_ms, 1),
            "recentChunks": len(self.recent.chunks()),
            "lastGatherMs": round(self.last_gather_ms, 2),
        }

    # -- gathering --

    def _open_text(self) -> OpenText:
        by_path = {path_of(uri): uri for uri in self.documents.uris()}

        def text_of(path: str) -> tuple[int, str] | None:
            uri = by_path.get(path)
            if uri is None:
                return None
            doc = self.documents.get(uri)
            return doc.version, doc.text

        return text_of

    def gather(self, snap: DocumentSnapshot, offset: int, budget_tokens: int) -> GatheredContext:
        if not self.enabled() or budget_tokens <= 0:
            return GatheredContext()
        try:
            result = gather(
                snap,
                offset,
                self.index,
                self.recent,
                budget_tokens,
                self.time_budget_ms() / 1000,
                self.similar,
                self._open_text(),
            )
        except Exception:  # context is a bonus: never fail a completion for it
            logger.exception("gathering context failed")
            return GatheredContext()
        self.last_gather_ms = result.elapsed_ms
        return result
