"""Choosing: the ranked definitions that fit the share, grouped by file, the files in prompt
order (most relevant last)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

from lsp_server.context.gather.groups import gaps
from lsp_server.context.gather.pack import Budget
from lsp_server.context.gather.rank import Confidence, Rank
from lsp_server.context.gather.render import ContextFile, is_whole
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import Definition, WorkspaceIndex


class _FileOrder(NamedTuple):
    """A file ranks as its first chosen definition; ties by which was chosen first."""

    far: bool
    confidence: Confidence
    distance: int
    first: int


def choose(
    ranked: Sequence[tuple[Rank, Definition]],
    index: WorkspaceIndex,
    budget: Budget,
    tuning: ContextTuning,
) -> list[ContextFile]:
    """In rank order, each definition that fits the budget: at most `max_defs_per_name` per
    name, none whose signature the index cut (see render.is_whole), a signature shown once
    (a name defined per Python version), without its docstring for a name not used near the
    cursor (its signature will do). A hole of at most `max_gap` members between two shown
    ones of a group is filled before anything ranked lower (see groups.gaps)."""
    chosen: dict[str, list[Definition]] = {}
    preambles: dict[str, str] = {}  # per chosen file: its FileEntry.preamble
    order: dict[str, _FileOrder] = {}
    per_name: dict[str, int] = {}
    shown_signatures: set[tuple[str, str]] = set()
    for rank, d in ranked:
        if per_name.get(d.name, 0) >= tuning.max_defs_per_name or not is_whole(d.signature):
            continue
        if (d.name, d.signature) in shown_signatures:
            continue
        if rank.far and d.doc:
            d = dataclasses.replace(d, doc="")
        shown = chosen.get(d.rel, [])
        container = d.container if all(c.container != d.container for c in shown) else ""
        cost = len(d.signature) + len(d.doc) + len(container) + tuning.entry_overhead_chars
        if not budget.fits(cost):
            continue
        if d.rel not in chosen:  # the file's path and preamble: spent even past the budget
            e = index.entry(d.path)
            preambles[d.rel] = e.preamble if e is not None else ""
            budget.spend(len(d.rel) + tuning.file_overhead_chars + len(preambles[d.rel]))
        chosen.setdefault(d.rel, []).append(d)
        shown_signatures.add((d.name, d.signature))
        order.setdefault(d.rel, _FileOrder(rank.far, rank.confidence, rank.distance, len(order)))
        per_name[d.name] = per_name.get(d.name, 0) + 1
        budget.spend(cost)
        for g in gaps(chosen[d.rel], d, index, tuning):
            cost = len(g.signature) + tuning.entry_overhead_chars
            if budget.fits(cost) and is_whole(g.signature):
                chosen[d.rel].append(dataclasses.replace(g, doc=""))
                shown_signatures.add((g.name, g.signature))
                budget.spend(cost)
    files = sorted(chosen, key=lambda r: order[r], reverse=True)
    return [ContextFile(r, preambles[r], tuple(chosen[r])) for r in files]
