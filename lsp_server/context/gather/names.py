"""The names a completion's context is looked up by: identifiers near the cursor (from the
tree), the file's imported names and the names the code around uses (a scan of the raw text),
with how far from the cursor each is used."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.gather.classes import enclosing_class, receiver_classes
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import FileEntry, WorkspaceIndex

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")  # a name in raw text (comments and strings too)


@dataclass(frozen=True)
class Names:
    near: dict[str, int]  # used near the cursor (by tree) -> distance in lines from the band
    imported_far: dict[str, int]  # imported, not near -> nearest use (0: not used yet)
    used_far: dict[str, int]  # used farther (see far_names) -> distance, by number of uses
    classes: set[str]  # the classes in scope (see receiver_classes)


def names_for(
    snap: DocumentSnapshot,
    offset: int,
    entry: FileEntry | None,
    index: WorkspaceIndex,
    tuning: ContextTuning,
) -> Names:
    imported = entry.imported_names if entry is not None else ()
    aliases = entry.import_aliases if entry is not None else ()
    near = with_aliases(names_near(snap, offset, tuning), aliases)
    return Names(
        near,
        imported_uses(snap, offset, tuning, imported, near, aliases),
        far_names(snap, offset, near, index, tuning),
        receiver_classes(enclosing_class(snap, offset), imported, index, tuning),
    )


def band_of(snap: DocumentSnapshot, offset: int, tuning: ContextTuning) -> int:
    """First line of the cursor's band. The window moves in bands of `near_band` lines, so the
    gathered context (and the prompt's start, which the model has already evaluated) stays the
    same while the cursor moves within a band."""
    row = snap.index.position_at(offset).line
    return row - row % tuning.near_band


def names_near(snap: DocumentSnapshot, offset: int, tuning: ContextTuning) -> dict[str, int]:
    """Identifiers within `near_lines` lines of the cursor's band -> their distance in lines
    from the band."""
    if snap.tree is None:
        return {}
    band = band_of(snap, offset, tuning)
    band_end = band + tuning.near_band - 1
    first = max(0, band - tuning.near_lines)
    last = min(snap.index.line_count - 1, band_end + tuning.near_lines)
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
                distance = max(0, band - r, r - band_end)
                if distance < found.get(name, 1 << 30):
                    found[name] = distance
            continue
        stack.extend(node.children)
    return found


def with_aliases(near: dict[str, int], aliases: Sequence[tuple[str, str]]) -> dict[str, int]:
    """`near` with each imported name whose local name is near the cursor, at its distance."""
    out = dict(near)
    for original, local in aliases:
        if local in near:
            out[original] = min(out.get(original, near[local]), near[local])
    return out


def nearest_uses(
    snap: DocumentSnapshot,
    offset: int,
    tuning: ContextTuning,
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
    band = band_of(snap, offset, tuning)
    after_band = band + tuning.near_band
    lo = lines.line_start(band)
    hi = lines.line_start(after_band) if after_band < lines.line_count else len(snap.text)
    start, end = 0, len(snap.text)
    if window_lines is not None:
        start = lines.line_start(max(0, band - window_lines))
        last = after_band + window_lines
        end = lines.line_start(last) if last < lines.line_count else len(snap.text)
        # Long lines (minified or generated code): at most max_use_scan characters around it.
        start = max(start, lo - tuning.max_use_scan // 2)
        end = min(end, hi + tuning.max_use_scan // 2)
    if names is not None and not names:
        return {}
    # Every word, filtered by a set: compiling an alternation of the names at each call cost
    # more than the scan (8 ms for cattrs' converters.py).
    wanted = set(names) if names is not None else None
    imports: set[str] = set()
    before: dict[str, int] = {}  # the last use above the band
    after: dict[str, int] = {}  # the first use below it
    for m in WORD.finditer(snap.text, start, end):
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
            found.append(lines.position_at(after[name]).line - (after_band - 1))
        out[name] = max(1, min(found))
    return out


def imported_uses(
    snap: DocumentSnapshot,
    offset: int,
    tuning: ContextTuning,
    imported: Sequence[str],
    near: dict[str, int],
    aliases: Sequence[tuple[str, str]] = (),
) -> dict[str, int]:
    """Imported names not used near the cursor -> distance in lines from the cursor's band to
    their nearest use elsewhere in the file (under their local name, see
    FileEntry.import_aliases). A name the file imports but does not use yet gets 0: the import
    was written for code still to come. The first occurrence of a name is taken for its
    import. Files over `max_use_scan` characters are not scanned (about 4 ms for 150 KB here):
    their imported names keep the default rank."""
    local = dict(aliases)
    names = [n for n in imported if n not in near]
    if not names or len(snap.text) > tuning.max_use_scan:
        return {}
    found = nearest_uses(
        snap, offset, tuning, [local.get(n, n) for n in names], first_is_import=True
    )
    return {name: found.get(local.get(name, name), 0) for name in names}


def far_names(
    snap: DocumentSnapshot,
    offset: int,
    near: dict[str, int],
    index: WorkspaceIndex,
    tuning: ContextTuning,
) -> dict[str, int]:
    """Names used within `use_window_lines` of the band but not near it, with definitions in
    the index -> the distance of their nearest use divided by their number of uses: what the
    code around uses again and again (`this._make(...)` in cheerio) is likelier in the line
    being written than its nearest use alone says. Only the nearest `max_far_names` of those
    with at most `max_far_definitions` definitions: a name defined everywhere says little, and
    going through its definitions would eat the time the recent chunks need."""
    counts: Counter[str] = Counter()
    uses = nearest_uses(snap, offset, tuning, window_lines=tuning.use_window_lines, counts=counts)
    far = sorted(
        (max(1, d // min(tuning.frequent_uses, counts[n])), n)
        for n, d in uses.items()
        if n not in near and 0 < len(index.lookup(n)) <= tuning.max_far_definitions
    )
    return {n: d for d, n in far[: tuning.max_far_names]}
