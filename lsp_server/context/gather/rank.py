"""Ranking: the definitions, from other files, of the names a completion is looked up by (see
names.Names), kept only where the current file can reach them, best first."""

from __future__ import annotations

import re
import time
from collections import Counter
from enum import IntEnum
from functools import lru_cache
from pathlib import PurePosixPath
from typing import NamedTuple

from lsp_server.context.gather.classes import class_name, this_class
from lsp_server.context.gather.groups import siblings
from lsp_server.context.gather.names import Names
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import Definition, FileEntry, WorkspaceIndex

SAME_PACKAGE = frozenset({"go"})  # languages where a folder is one namespace


class Confidence(IntEnum):
    """How sure we are that a definition is the one a name near the cursor refers to (lower
    is surer). A name neither imported by the file nor defined in a file it imports from (or,
    in Go, in its own package) is most often a local variable, a parameter or an attribute
    that happens to share a name with some definition elsewhere: such look-alikes are left
    out (measured: docs/context.md)."""

    IMPORTED_LINKED = 0  # imported, defined where it is imported from (or same package, ...)
    IMPORTED = 1  # imported, but its module could not be told: any definition of the name
    LINKED = 2  # not imported by name, defined in a file the current file imports (obj.method)


class Rank(NamedTuple):
    """A definition's place in the context, compared field by field (lower first)."""

    far: bool  # the name is not used near the cursor (imported, or used farther away)
    confidence: Confidence
    distance: int  # lines from the cursor's band to the use (a neighbour: plus its gap)
    other_folder: bool  # not in the current file's folder (a neighbour always counts so)
    rel: str  # then by place, so the order is total
    line: int


class _Source(NamedTuple):
    """A definition near the cursor whose neighbours are looked at."""

    confidence: Confidence
    distance: int
    definition: Definition


_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
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


def name_distances(names: Names, imported: set[str], tuning: ContextTuning) -> dict[str, int]:
    """Every name to look up -> the distance it ranks at: the names near the cursor, then the
    imported ones, then those used farther away. A name not used near the cursor that shares
    rare words with what is (`get_final_base` in `_structure_final_factory`, beside
    `get_newtype_base(type)`) ranks as if used closer; in a library about structuring,
    `structure` says nothing."""
    out = dict(names.near)
    for name in imported:
        out.setdefault(name, names.imported_far.get(name, tuning.imported_distance))
    for name, distance in names.used_far.items():
        out.setdefault(name, distance)
    near_words = {w for n in names.near for w in words_of(n)}
    others = [n for n in out if n not in names.near]
    frequency = Counter(w for n in others for w in words_of(n) & near_words)
    for name in others:
        shared = sum(1 for w in words_of(name) & near_words if frequency[w] <= tuning.rare_word)
        out[name] //= tuning.shared_word_divisor ** min(tuning.max_shared_words, shared)
    return out


def rank_definitions(
    names: Names,
    entry: FileEntry | None,
    index: WorkspaceIndex,
    current: str,
    deadline: float,
    tuning: ContextTuning,
) -> list[tuple[Rank, Definition]]:
    """Definitions from other files for `names`, best first (see Rank). Names the current
    file defines itself are visible already and left out. Methods of the classes in scope
    count as linked wherever they are defined. Names used farther from the cursor come in
    only as such methods or, in Go, as names of the package: names the nearby code calls,
    which the line being written may call too. Then the neighbours of what is used near the
    cursor (see groups.siblings)."""
    imported = set(entry.imported_names) if entry is not None else set()
    own = {d.name for d in entry.definitions} if entry is not None else set()
    linked = index.linked(entry) if entry is not None else None
    here = str(PurePosixPath(current).parent)
    package = entry is not None and entry.language in SAME_PACKAGE

    def is_sure(d: Definition) -> bool:
        return (
            (package and str(PurePosixPath(d.path).parent) == here)
            or (d.kind == "method" and class_name(d.container) in names.classes)
            or (d.kind == "function" and this_class(d.signature) in names.classes)
        )

    out: list[tuple[Rank, Definition]] = []
    sources: list[_Source] = []
    for name, distance in name_distances(names, imported, tuning).items():
        if time.monotonic() > deadline:
            break
        if name in own:
            continue
        defs = [d for d in index.lookup(name) if d.path != current]
        if not defs:
            continue
        flags = [(d, is_sure(d)) for d in defs]
        sure_defs = [d for d, sure in flags if sure]
        linked_defs = [d for d, sure in flags if sure or (linked is not None and d.path in linked)]
        if name not in names.near and name not in imported:
            if not sure_defs:
                continue
            confidence = Confidence.IMPORTED_LINKED
            defs = sure_defs
        elif name in imported:
            confidence = Confidence.IMPORTED_LINKED if linked_defs else Confidence.IMPORTED
            if linked_defs:
                defs = linked_defs
            elif len(defs) > tuning.ambiguous:
                continue
        elif linked_defs:
            confidence = Confidence.IMPORTED_LINKED if package or sure_defs else Confidence.LINKED
            defs = linked_defs
        else:
            continue
        far = name not in names.near
        for d in defs:
            other_folder = str(PurePosixPath(d.path).parent) != here
            out.append((Rank(far, confidence, distance, other_folder, d.rel, d.line), d))
            if not far and (d.kind == "method" or (package and not other_folder)):
                sources.append(_Source(confidence, distance, d))
    out += neighbours(sources, own, index, deadline, tuning)
    out.sort(key=lambda c: c[0])
    seen: set[tuple[str, int, str]] = set()
    unique = []
    for c in out:  # a definition can come both by its name and as a neighbour: keep the best
        if (c[1].path, c[1].line, c[1].name) not in seen:
            seen.add((c[1].path, c[1].line, c[1].name))
            unique.append(c)
    return unique


def neighbours(
    sources: list[_Source],
    own: set[str],
    index: WorkspaceIndex,
    deadline: float,
    tuning: ContextTuning,
) -> list[tuple[Rank, Definition]]:
    """Neighbours of what is used near the cursor that share a word with it rank as if used
    `gap` lines farther than it, after the names really used at that distance. Reachable ones
    only: methods of an object the code holds, or in Go names of the same package."""
    out: list[tuple[Rank, Definition]] = []
    ordered = sorted(sources, key=lambda s: (s.distance, s.definition.rel, s.definition.line))
    for source in ordered[: tuning.max_sibling_sources]:
        if time.monotonic() > deadline:
            break
        parts = name_parts(source.definition.name)
        for gap, d in siblings(source.definition, index, tuning):
            if d.name not in own and parts & name_parts(d.name):
                rank = Rank(False, source.confidence, source.distance + gap, True, d.rel, d.line)
                out.append((rank, d))
    return out
