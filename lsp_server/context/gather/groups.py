"""A definition's group (the other methods of its class, in Go of its receiver's type; the
other constants of its block): its neighbours there rank beside it, and a hole between shown
members is filled."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import Definition, WorkspaceIndex

_GO_RECEIVER = re.compile(r"^func\s*\(\s*(?:\w+\s+)?\*?\s*(\w+)")


def group_of(d: Definition) -> str:
    """What a definition is listed with: methods by their class (in Go their receiver's
    type), others by their kind."""
    if d.kind == "method":
        if d.container:
            return d.container
        m = _GO_RECEIVER.match(d.signature)
        return f"func ({m.group(1)})" if m else ""
    return d.kind


def group_members(d: Definition, index: WorkspaceIndex) -> list[Definition]:
    """The definitions of `d`'s file in its group (see group_of), in line order."""
    entry = index.entry(d.path)
    if entry is None:
        return []
    key = group_of(d)
    return [x for x in entry.definitions if group_of(x) == key]


def siblings(
    d: Definition, index: WorkspaceIndex, tuning: ContextTuning
) -> list[tuple[int, Definition]]:
    """The definitions listed next to `d` in its file, of its group, with their distance in
    that list: the line being written often uses the neighbour of what the code around uses
    (`case itemBreak:`, then `case itemContinue:`; `v7.mode()`, then `v7.uid()`)."""
    group = group_members(d, index)
    at = next((i for i, x in enumerate(group) if x.line == d.line and x.name == d.name), None)
    if at is None:
        return []
    span = tuning.sibling_span
    lo, hi = max(0, at - span), min(len(group), at + span + 1)
    return [(abs(i - at), group[i]) for i in range(lo, hi) if i != at]


def gaps(
    shown: Sequence[Definition], d: Definition, index: WorkspaceIndex, tuning: ContextTuning
) -> list[Definition]:
    """Members of `d`'s group (methods or constants) missing between two shown ones, at most
    `max_gap` in a row. A list with a hole reads as complete: shown `mode()`, `gid()` of
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
        if 1 < b - a <= tuning.max_gap + 1:
            out.extend(members[a + 1 : b])
    return out
