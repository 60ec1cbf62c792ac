"""Source files replayed by the typing benchmark: real code none of us wrote.

A file is given as PATH or PATH:LINE; the document is opened truncated just before LINE
(1-based) and the rest is typed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

_STDLIB = Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"

# Start lines sit at the head of a function, so what follows is a full body to write.
DEFAULT_FILES: tuple[str, ...] = (
    f"{_STDLIB / 'textwrap.py'}:238",  # TextWrapper._wrap_chunks
    f"{_STDLIB / 'shlex.py'}:133",  # shlex.read_token
    "/usr/lib/node_modules/npm/lib/utils/display.js:104",  # getJsonBuffer
    "/usr/share/doc/git/contrib/persistent-https/client.go:85",  # Client.connect
)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str
    start: int  # character offset where typing begins

    @property
    def name(self) -> str:
        return self.path.name


def load(spec: str) -> SourceFile:
    path_str, _, line_str = spec.rpartition(":")
    if not path_str or not line_str.isdigit():
        path_str, line_str = spec, "1"
    path = Path(path_str)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    line = max(1, min(int(line_str), len(lines)))
    start = sum(len(x) + 1 for x in lines[: line - 1])
    return SourceFile(path, text, start)


def available(specs: tuple[str, ...] | list[str]) -> tuple[list[SourceFile], list[str]]:
    """The files that exist, and a note for each that does not (machines differ)."""
    found: list[SourceFile] = []
    missing: list[str] = []
    for spec in specs:
        try:
            found.append(load(spec))
        except OSError as exc:
            missing.append(f"{spec}: {exc.strerror or exc}")
    return found, missing
