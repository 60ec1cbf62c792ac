"""Choosing what fits the share: cut signatures left out, holes in a group filled."""

from __future__ import annotations

from pathlib import Path

from lsp_server.context.gather.recent import RecentChunks
from tests.unit.gather_helpers import build_index, gather_all, snapshot


def test_a_signature_the_index_cut_is_left_out(tmp_path: Path) -> None:
    """`def prompt(` alone (a long parameter list) reads as broken code and tells little."""
    params = "".join(f"    option_{i}: int = {i},\n" for i in range(12))
    lib = (
        f"def prompt(\n{params}) -> str:\n    return ''\n\n\n"
        "def confirm(text: str) -> bool:\n    return True\n"
    )
    main = (
        "from lib import confirm, prompt\n\n\ndef ask():\n    prompt(1)\n    confirm('x')\n    \n"
    )
    index = build_index(tmp_path, {"lib.py": lib, "main.py": main})
    [prompt] = index.lookup("prompt")
    assert prompt.signature == "def prompt("  # the index keeps the first line of a long header
    ctx = gather_all(
        snapshot(tmp_path / "main.py", main, "python"), len(main) - 1, index, RecentChunks(), 256
    )
    text = "".join(c for _, c in ctx.files)
    assert "def confirm(text: str) -> bool:" in text
    assert "def prompt(" not in text


def test_a_group_shown_with_a_hole_gets_the_missing_members(tmp_path: Path) -> None:
    """The code around uses `mode()` and `gid()` of headerV7, the line being written `uid()`,
    which comes between them: shown without it, the list reads as complete and the model
    writes the member after the hole. Wider holes are left alone."""
    fmt = "package tar\n\ntype headerV7 [512]byte\n\n" + "".join(
        f"func (h *headerV7) {n}() []byte {{ return h[{i}:][:8] }}\n"
        for i, n in enumerate(("name", "mode", "uid", "gid", "size", "a1", "a2", "a3", "chk"))
    )
    writer = (
        "package tar\n\nfunc write(v7 *headerV7) {\n\tfmtNum(v7.mode(), 1)\n\t\n"
        "\tfmtNum(v7.gid(), 2)\n\tfmtNum(v7.size(), 3)\n\tfmtNum(v7.chk(), 4)\n}\n"
    )
    index = build_index(tmp_path, {"format.go": fmt, "writer.go": writer})
    snap = snapshot(tmp_path / "writer.go", writer, "go")
    ctx = gather_all(snap, writer.index("\t\n") + 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "uid() []byte" in text  # in the hole between mode and gid
    assert "a1()" not in text  # a hole of three, between size and chk
    assert "name()" not in text  # before the first one shown: not a hole
