"""Saved model states in files instead of memory (`model.stateCacheOnDisk`).

A file's saved state is about 30 MB with the default model; held in memory, the copy of the
file being left and the state taken out to be restored are there together, which is what put
the worker over its memory target. llama.cpp writes and reads a sequence state to and from a
file layer by layer, with no full-size buffer, at the speed of the memory copy (page cache).

The states are derived from the user's code, so the files are treated like it: one folder per
worker process (random name, 0700) under an owner-only base folder, files created 0600 and
exclusively (never through a planted name), removed when restored, pushed out or the worker
ends, and what a killed worker left is removed by the next one and by its supervisor.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from lsp_server.model.provision import cache_root

logger = logging.getLogger(__name__)


def default_base() -> Path:
    """The states' folder in Enclave's cache folder (beside the models)."""
    return cache_root() / "states"


class StateFolderRefused(OSError):
    """The base folder cannot hold the states safely."""


def _private_base(base: Path) -> None:
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = os.lstat(base)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise StateFolderRefused(f"{base} is not a folder (a symbolic link or a file)")
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise StateFolderRefused(f"{base} belongs to another user")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(base, 0o700)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def remove_left(base: Path, pid: int | None = None) -> int:
    """Remove the state folders of `pid` or, without one, of workers no longer running.
    Only folders this user owns with a worker's name; returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(base))
    except OSError:
        return 0
    for entry in entries:
        head = entry.name.split("-", 1)[0]
        if not head.isdigit() or not entry.is_dir(follow_symlinks=False):
            continue
        with contextlib.suppress(OSError):
            if hasattr(os, "geteuid") and entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            if (int(head) == pid) if pid is not None else not _alive(int(head)):
                shutil.rmtree(entry.path)
                removed += 1
    return removed


class StateFiles:
    """This worker's folder of saved states."""

    def __init__(self, base: Path) -> None:
        _private_base(base)
        remove_left(base)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))  # 0700
        self._count = 0
        atexit.register(self.close)

    def new_path(self) -> str:
        """A new empty owner-only file for one state (its name says nothing of the document)."""
        self._count += 1
        path = self.folder / f"{self._count}.state"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        os.close(os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600))
        return str(path)

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
