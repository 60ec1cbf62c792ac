"""The test tiers: which tier a test file belongs to (from its folder), and the guard that keeps
the unit tier from starting a language server. conftest.py applies both; tests/README.md says
what each tier may do."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent

# Folder under tests/ -> the marker every test in it gets.
TIER_DIRS = {"unit": "unit", "server": "server", "editors": "editor", "model": "model"}
TIERS = tuple(TIER_DIRS.values())

# Markers that say a test runs the real model: allowed only in these tiers.
MODEL_MARKERS = ("model", "slow")
MODEL_TIERS = ("model", "editor")


def tier_of(path: Path) -> str | None:
    """The tier of a test file, or None if it lies outside every tier folder."""
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    if len(parts) < 2:
        return None
    return TIER_DIRS.get(parts[0])


def misplaced(path: Path, markers: set[str]) -> str | None:
    """Why a test with these markers may not live at `path`, or None if it may."""
    tier = tier_of(path)
    if tier is None:
        return f"{path} is outside the tier folders tests/{{{','.join(TIER_DIRS)}}}"
    real_model = sorted(markers & set(MODEL_MARKERS))
    if real_model and tier not in MODEL_TIERS:
        return f"marked {'/'.join(real_model)} but in the {tier} tier: move it to tests/model"
    return None


def _words(argv: Any) -> list[str]:
    """The words of a command line; each argument split too, for `sh -c "enclave serve"`."""
    if isinstance(argv, str | bytes | os.PathLike):
        argv = [argv]
    return [w for a in argv for w in os.fsdecode(a).split()]


def starts_a_server(argv: Any) -> bool:
    """Whether a command line runs `enclave serve` (the script or `python -m lsp_server`)."""
    words = _words(argv)
    if "serve" not in words:
        return False
    before = words[: words.index("serve")]
    return any(Path(w).name in ("enclave", "enclave.exe") for w in before) or any(
        w == "-m" and nxt == "lsp_server" for w, nxt in itertools.pairwise(before)
    )


# Audit events that start a program -> the index of its command line in the event's arguments.
ARGV_AT = {"subprocess.Popen": 1, "os.exec": 1, "os.posix_spawn": 1, "os.spawn": 2, "os.system": 0}


class ServerInUnitTier(RuntimeError):
    pass


class ServerGuard:
    """An audit hook that refuses to start `enclave serve` while `active` (a unit test runs).
    Audit hooks see every way a process is started (subprocess, asyncio, os.exec*, os.spawn*,
    os.posix_spawn) and cannot be bypassed from Python; a refusal is also recorded, so a test
    that swallows the exception still fails."""

    def __init__(self) -> None:
        self.active = False
        self.refused: list[str] = []

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: Sequence[Any]) -> None:
        if not self.active:
            return
        where = ARGV_AT.get(event)
        if where is None:
            return
        argv = args[where]
        if starts_a_server(argv):
            command = " ".join(_words(argv))
            self.refused.append(command)
            raise ServerInUnitTier(f"a unit test may not start a server: {command}")


SERVER_GUARD = ServerGuard()
