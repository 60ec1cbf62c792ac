"""The log file (it may hold document text at the debug level) is owner-only, and every way of
pointing it somewhere else is refused with the reason, logging going to stderr instead."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_server import log


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    ours = logging.getLogger("lsp_server").level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        if h not in handlers:
            h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    logging.getLogger("lsp_server").setLevel(ours)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def logs_to_stderr() -> bool:
    import sys

    [handler] = logging.getLogger().handlers
    return isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr


def test_a_new_file_is_created_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "enclave.log"
        assert log.configure("debug", str(target)) is None
    finally:
        os.umask(old)
    logging.getLogger("lsp_server.test").debug("hello")
    assert mode(target) == 0o600
    assert "hello" in target.read_text()


def test_an_existing_private_file_is_appended_to(tmp_path: Path) -> None:
    target = tmp_path / "enclave.log"
    target.write_text("before\n")
    target.chmod(0o600)
    assert log.configure("info", str(target)) is None
    logging.getLogger("lsp_server.test").info("after")
    assert target.read_text().startswith("before\n") and "after" in target.read_text()


@pytest.mark.parametrize("wide", [0o644, 0o640, 0o666, 0o604, 0o777])
def test_wider_permissions_are_narrowed_and_said(tmp_path: Path, wide: int) -> None:
    target = tmp_path / "enclave.log"
    target.write_text("")
    target.chmod(wide)
    warning = log.configure("info", str(target))
    assert warning is not None and f"{wide:04o}" in warning and "0600" in warning
    assert mode(target) == 0o600
    assert not logs_to_stderr()


def refused(tmp_path: Path, kind: str) -> Path:
    """A log.file path of the given hostile kind."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me\n")
    path = tmp_path / "enclave.log"
    if kind == "symlink to a file":
        path.symlink_to(victim)
    elif kind == "dangling symlink":
        path.symlink_to(outside / "created-through-the-link.log")
    elif kind == "symlink to a folder":
        path.symlink_to(outside)
    elif kind == "missing folder":
        path = tmp_path / "no-such-dir" / "enclave.log"
    elif kind == "a folder":
        path.mkdir()
    elif kind == "a fifo":
        os.mkfifo(path)
    elif kind == "hard link":
        os.link(victim, path)
    elif kind == "another user's file":
        if os.geteuid() != 0:
            pytest.skip("needs root to give a file away")
        path.write_text("")
        path.chmod(0o600)
        os.chown(path, 54321, 54321)
    return path


KINDS = {
    "symlink to a file": "symbolic link",
    "dangling symlink": "symbolic link",
    "symlink to a folder": "symbolic link",
    "missing folder": "does not exist",
    "a folder": "",
    "a fifo": "not a regular file",
    "hard link": "hard links",
    "another user's file": "another user",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_paths_are_refused_and_logging_falls_back_to_stderr(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = refused(tmp_path, kind)
    started = time.monotonic()
    warning = log.configure("info", str(path))
    assert time.monotonic() - started < 10  # a fifo must not block the server (a hang guard)
    assert warning is not None and "not used" in warning and KINDS[kind] in warning
    assert (tmp_path / "elsewhere" / "victim.txt").read_text() == "keep me\n"
    assert not (tmp_path / "elsewhere" / "created-through-the-link.log").exists()
    assert not (tmp_path / "no-such-dir").exists()
    assert logs_to_stderr()
    logging.getLogger("lsp_server.test").warning("still logged")
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is the protocol
