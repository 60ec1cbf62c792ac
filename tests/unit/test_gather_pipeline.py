"""The context gathering pipeline as a whole: what comes from where, within the token and
time budgets, and staying put while the cursor moves within a band."""

from __future__ import annotations

from pathlib import Path

from lsp_server.context.gather.pipeline import GatheredContext, gather
from lsp_server.context.gather.recent import RecentChunks
from tests.unit.gather_helpers import LIB, MAIN, build_index, gather_all, snapshot


def test_definition_of_symbol_used_at_cursor_comes_from_another_file(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"geometry.py": LIB, "main.py": MAIN})
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    offset = MAIN.index("return ") + len("return ")
    ctx = gather_all(snap, offset, index, RecentChunks(), 256)
    assert ctx.repo == tmp_path.name and ctx.path == "main.py"
    assert [p for p, _ in ctx.files] == ["geometry.py"]
    content = ctx.files[0][1]
    assert "def polygon_area(points: list[tuple[float, float]]) -> float:" in content
    assert "Area of a simple polygon" in content
    assert "total += x1" not in content  # a signature, not the whole body
    assert "unrelated_helper" not in content  # not used near the cursor


def test_current_file_definitions_are_excluded_and_budget_holds(tmp_path: Path) -> None:
    many = "\n".join(f"def helper_{i}(value: int) -> int:\n    return value\n" for i in range(50))
    uses = "\n".join(f"    helper_{i}(1)" for i in range(8))
    main = f"from lib import *\n\ndef own():\n    pass\n\ndef run():\n{uses}\n    own()\n    \n"
    index = build_index(tmp_path, {"lib.py": many, "main.py": main})
    snap = snapshot(tmp_path / "main.py", main, "python")
    ctx = gather_all(snap, len(main) - 1, index, RecentChunks(), 40)
    text = "".join(c for _, c in ctx.files)
    assert "def own" not in text
    assert 0 < len(text) <= 40 * 3
    assert "helper_" in text


def test_context_is_stable_while_the_cursor_moves_within_a_band(tmp_path: Path) -> None:
    lib = "".join(f"def helper_{i}(value: int) -> int:\n    return value\n\n" for i in range(40))
    body = "".join(f"    helper_{i}(1)\n" for i in range(40))
    main = f"from lib import *\n\n\ndef run():\n{body}"
    index = build_index(tmp_path, {"lib.py": lib, "main.py": main})
    snap = snapshot(tmp_path / "main.py", main, "python")
    lines = main.split("\n")

    def at_line(row: int) -> GatheredContext:
        offset = sum(len(line) + 1 for line in lines[:row]) + 4
        return gather_all(snap, offset, index, RecentChunks(), 64)

    assert at_line(16).files == at_line(19).files == at_line(23).files
    assert at_line(16).files != at_line(40).files


def test_typescript_and_go_cross_file(tmp_path: Path) -> None:
    ts_lib = (
        "export function formatPrice(cents: number, currency: string): string {\n"
        + ("  const a = 1;\n" * 8)
        + "  return `${cents}`;\n}\n"
    )
    ts_main = 'import { formatPrice } from "./lib";\n\nconst label = formatPrice(100, "EUR");\n'
    go_lib = (
        "package shop\n\n// Discount applies a rate.\n"
        "func Discount(p float64, rate float64) float64 {\n"
        + ("\tp = p * 1\n" * 8)
        + "\treturn p * (1 - rate)\n}\n"
    )
    go_main = "package shop\n\nfunc Total(p float64) float64 {\n\treturn Discount(p, 0.1)\n}\n"
    index = build_index(
        tmp_path, {"lib.ts": ts_lib, "main.ts": ts_main, "lib.go": go_lib, "main.go": go_main}
    )
    ts = gather_all(
        snapshot(tmp_path / "main.ts", ts_main, "typescript"),
        len(ts_main),
        index,
        RecentChunks(),
        256,
    )
    assert ts.files and "export function formatPrice(cents: number" in ts.files[-1][1]
    go = gather_all(
        snapshot(tmp_path / "main.go", go_main, "go"), len(go_main) - 3, index, RecentChunks(), 256
    )
    assert go.files[-1] == (
        "lib.go",
        "package shop\n\n"  # the package line: whether its names need a qualifier here
        "// Discount applies a rate.\n"
        "func Discount(p float64, rate float64) float64 { /* ... */ }\n",
    )


def test_time_budget_is_honoured(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"geometry.py": LIB, "main.py": MAIN})
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    ctx = gather(snap, len(MAIN) - 1, index, RecentChunks(), 256, time_budget_s=-1)
    assert ctx.files == ()
