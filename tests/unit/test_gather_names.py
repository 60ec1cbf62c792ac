"""The names context is looked up by: identifiers near the cursor (from the tree), the uses of
names in the raw text, and class headers' bases."""

from __future__ import annotations

from lsp_server.context.documents import Document
from lsp_server.context.gather.classes import base_names
from lsp_server.context.gather.names import names_near, nearest_uses
from tests.unit.gather_helpers import TUNING


def test_names_near_cursor_come_from_the_tree() -> None:
    text = "import os\n" + "x = 1\n" * 30 + "value = compute(alpha, 'beta')  # gamma\n"
    snap = Document("file:///w/a.py", "python", 1, text).snapshot()
    names = names_near(snap, len(text) - 1, TUNING)
    assert {"value", "compute", "alpha"} <= set(names)
    assert "beta" not in names and "gamma" not in names and "os" not in names


def test_use_scan_is_bounded_on_long_lines() -> None:
    far = "x = [first_name, " + ", ".join(["tail_name"] * 40_000) + "]\n"  # a 400 KB line
    text = far + "\n" * 20 + "near_name = 1\n" + "\n" * 20 + "y = \n"
    snap = Document("file:///w/long.py", "python", 1, text).snapshot()
    found = nearest_uses(snap, len(text) - 1, TUNING, window_lines=300)
    assert found["near_name"] == 19  # line 21; the cursor's band starts at line 40
    assert found["tail_name"] == 40  # the line's end is within reach
    assert "first_name" not in found  # its start is not: over max_use_scan / 2 characters away


def test_base_names_of_class_headers() -> None:
    assert base_names("class A(mod.B, C[T], metaclass=M):") == ["B", "C"]
    assert base_names("export class A<T> extends B<T> implements I, J {") == ["B", "I", "J"]
    assert base_names("class A:") == []
