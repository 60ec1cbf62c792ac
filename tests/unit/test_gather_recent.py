"""The recent chunks: the ring buffer, and which of its chunks come into the context."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lsp_server.context.gather.recent import RecentChunks
from tests.unit.gather_helpers import MAIN, TUNING, build_index, gather_all, snapshot


def test_ring_buffer_dedupe_and_bounds() -> None:
    ring = RecentChunks(dataclasses.replace(TUNING, ring_size=3, chunk_lines=4))
    lines = [f"line {i}" for i in range(100)]
    ring.add("/w/a.py", lines, 10)
    ring.add("/w/a.py", lines, 11)  # overlaps the first: replaces it
    assert [(c.path, c.start) for c in ring.chunks()] == [("/w/a.py", 9)]
    ring.add("/w/b.py", lines, 11)  # same lines in another file: a near-duplicate
    assert [c.path for c in ring.chunks()] == ["/w/b.py"]
    ring.add("/w/b.py", [*lines[:40], "changed", *lines[41:]], 41)
    ring.add("/w/c.py", lines, 70)
    ring.add("/w/d.py", lines, 90)
    assert [c.path for c in ring.chunks()] == ["/w/b.py", "/w/c.py", "/w/d.py"]  # size bound
    ring.add("/w/.env.py", lines, 50)  # secrets never enter
    assert "/w/.env.py" not in [c.path for c in ring.chunks()]


def test_recent_chunks_that_share_names_with_the_cursor_are_gathered(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"main.py": MAIN})
    ring = RecentChunks()
    related = [f"OTHER_{i} = {i}" for i in range(40)]
    related[20] = "survey = field_size(corners) + polygon_area(corners)"
    ring.add(str(tmp_path / "notes.py"), related, 20)
    unrelated = [f"UNRELATED_{i} = {i}" for i in range(40)]
    ring.add(str(tmp_path / "misc.py"), unrelated, 20)
    ring.add(str(tmp_path / "main.py"), MAIN.split("\n"), 3)
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    ctx = gather_all(snap, len(MAIN) - 1, index, ring, 256)
    # The chunk that uses names near the cursor is kept; the unrelated one is left out.
    assert [p for p, _ in ctx.files] == ["notes.py"]
    assert "survey = field_size(corners)" in ctx.files[0][1]
