"""Logging to stderr or a file, never stdout (stdout carries the protocol).

A log file may hold document text (at the debug level), so it is opened owner-only: created
0600; an existing one with wider permissions is narrowed to 0600 (and the user told, since it
was readable before); a symbolic link, something that is not a regular file, a file of another
user or with other hard links is refused; a missing folder is not created. When the file is
refused, logs go to stderr and `configure` returns the reason for the user to see.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

logger = logging.getLogger(__name__)


class LogFileRefused(Exception):
    """The configured log file cannot be used safely."""


def open_private(path: str) -> tuple[TextIO, str]:
    """Open `path` for appending, owner-only. Returns the stream and a note ("" or what was
    fixed); raises LogFileRefused with the reason."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise LogFileRefused(f"its folder {parent} does not exist (it is not created)")
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        try:
            kind = os.lstat(path).st_mode
        except OSError:
            kind = 0
        if stat.S_ISLNK(kind):
            raise LogFileRefused("it is a symbolic link") from None
        if kind and not stat.S_ISREG(kind):
            raise LogFileRefused("it is not a regular file") from None
        raise LogFileRefused(exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise LogFileRefused("it is not a regular file")
        if st.st_uid != os.geteuid():
            raise LogFileRefused("it belongs to another user")
        if st.st_nlink > 1:
            raise LogFileRefused("it has other hard links")
        note = ""
        if st.st_mode & 0o077:
            os.fchmod(fd, 0o600)
            note = (
                f"its permissions were {stat.S_IMODE(st.st_mode):04o} (readable by others); "
                "now 0600"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "a", encoding="utf-8"), note
    except BaseException:
        os.close(fd)
        raise


def configure(level: str = "info", file: str | None = None) -> str | None:
    """Send logs to `file` (owner-only) or stderr. Returns a warning for the user when the file
    was refused (logs then go to stderr) or had to be fixed; None otherwise."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    stream: TextIO = sys.stderr
    warning: str | None = None
    if file:
        try:
            stream, note = open_private(file)
            if note:
                warning = f"log.file {file}: {note}"
        except LogFileRefused as exc:
            warning = f"log.file {file} is not used: {exc}; logging to stderr instead"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("lsp_server").setLevel(level.upper())
    if warning is not None:
        logger.warning("%s", warning)
        if stream is not sys.stderr:  # said in the file: say it where the user looks too
            print(f"enclave: {warning}", file=sys.stderr, flush=True)
    return warning
