"""The README's settings table is the user's reference: it must name every setting."""

from __future__ import annotations

from pathlib import Path

from lsp_server.settings import SETTINGS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting() -> None:
    text = README.read_text()
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in text]
    assert not missing, f"README.md settings table lacks: {missing}"
