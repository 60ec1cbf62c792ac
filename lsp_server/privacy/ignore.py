"""Files Enclave never reads into a prompt or the index, and never completes in: built-in
secret-bearing names, and the `.enclaveignore` files (gitignore syntax) of each workspace root
and its subfolders.

A path is ignored when any of its forms (`paths.forms`: as written, and with symlinks resolved)
is: by a built-in name (any case), or by the ignore files of a root it lies in, read as git
reads .gitignore files (a nested file's patterns are relative to its folder, deeper files
override shallower ones, nothing inside an ignored folder can be re-included). On a root whose
file system ignores case (probed, not assumed), its rules ignore case too.

Ignore files are re-read when they change: each check stats the ignore files on the checked
path's way down (so the file being completed is always judged by the rules on disk), and
`refresh` re-stats every ignore file looked at so far (the session runs it off the event loop
before it gathers context from other files).
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pathspec

from lsp_server.privacy.paths import fold, forms, name_of, normalize, probe_case_insensitive

logger = logging.getLogger(__name__)

IGNORE_FILE = ".enclaveignore"
# Read at most this much of an ignore file (it is read on the event loop when it changes).
MAX_IGNORE_FILE_BYTES = 256 * 1024
# Matched on the file name and on its last two path segments, whatever their case.
BUILTIN = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".htpasswd",
    ".git-credentials",
    ".aws/credentials",
    ".aws/config",
    ".docker/config.json",
    ".kube/config",
    "credentials",
    "credentials.json",
    "*credentials*.json",
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "secrets.toml",
    ".secrets.toml",
    "*.tfvars",
    "*.tfvars.json",
    "*.tfstate*",
)
_BUILTIN = pathspec.GitIgnoreSpec.from_lines([fold(p) for p in BUILTIN])

# What an ignore file was when read (inode, size, mtime, ctime), or None when there is none.
Signature = tuple[int, int, int, int] | None


def is_builtin(path_or_name: str) -> bool:
    """Secret-bearing by its name (or its last two segments: `.aws/credentials`), any case."""
    parts = [p for p in path_or_name.replace("\\", "/").split("/") if p]
    return bool(parts) and _builtin_tail("/".join(parts[-2:]))


@lru_cache(maxsize=8192)
def _builtin_tail(tail: str) -> bool:
    # Names repeat (`__init__.py`, `index.ts`): the patterns are tried once per distinct tail.
    folded = fold(tail)
    return _BUILTIN.match_file(folded.rsplit("/", 1)[-1]) or _BUILTIN.match_file(folded)


@dataclass(frozen=True)
class _Root:
    forms: tuple[str, ...]  # the folder as named and with symlinks resolved
    insensitive: bool


def _signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _read_lines(path: str) -> list[str]:
    # Non-blocking: a FIFO swapped in after the stat must not hang the server.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return []
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return []
        data = f.read(MAX_IGNORE_FILE_BYTES + 1)
    if len(data) > MAX_IGNORE_FILE_BYTES:
        logger.warning("%s: only the first %d bytes are read", path, MAX_IGNORE_FILE_BYTES)
        data = data[: data.rfind(b"\n", 0, MAX_IGNORE_FILE_BYTES) + 1]
    return data.decode("utf-8", errors="replace").splitlines()


def _compile(lines: Iterable[str], source: str) -> pathspec.PathSpec[Any]:
    patterns: list[str] = []
    for line in lines:
        try:
            pathspec.GitIgnoreSpec.from_lines([line])
        except Exception:  # pathspec raises its own errors for malformed patterns
            logger.warning("%s: pattern %r is not valid gitignore syntax; skipped", source, line)
            continue
        patterns.append(line)
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class IgnoreRules:
    """Thread-safe: the index checks paths from a worker thread."""

    def __init__(
        self,
        roots: Sequence[str | Path] = (),
        probe: Callable[[str], bool | None] = probe_case_insensitive,
    ) -> None:
        self._probe = probe
        self._lock = threading.Lock()
        self._roots: dict[str, _Root] = {}
        # (folder, case-insensitive) -> (signature, rules) of the folder's ignore file.
        self._folders: dict[tuple[str, bool], tuple[Signature, pathspec.PathSpec[Any] | None]] = {}
        # Changes whenever rules change (a root added, an ignore file changed); the session
        # compares it to drop what it holds from files that became ignored.
        self.generation = 0
        for root in roots:
            self.add_root(root)

    @property
    def roots(self) -> list[str]:
        return list(self._roots)

    def add_root(self, root: str | Path) -> None:
        """A workspace folder (an absolute path). Folders are never removed: forgetting their
        rules could only expose more."""
        named = normalize(str(root))
        if not named.startswith("/") or named in self._roots:
            return
        probed = self._probe(named)
        if probed is None:
            logger.info("%s: cannot tell whether names differ by case; rules ignore case", named)
        entry = _Root(tuple(dict.fromkeys((named, os.path.realpath(named)))), probed is not False)
        with self._lock:
            self._roots = {**self._roots, named: entry}
            self.generation += 1
        for form in entry.forms:
            self._rules_of(form, entry.insensitive)

    def is_ignored(self, uri_or_path: str) -> bool:
        """Whether a document (file URI, other URI, or path) must be left alone. A URI without
        an absolute path (`untitled:Untitled-1`) is judged by the built-in names only."""
        try:
            paths = forms(uri_or_path)
        except ValueError:
            return True  # it can name no file: refuse rather than guess
        if not paths:
            return is_builtin(name_of(uri_or_path))
        if any(is_builtin(p) for p in paths):
            return True
        roots = list(self._roots.values())
        return any(self._under_rules(p, root) for p in paths for root in roots)

    def invalidate(self) -> None:
        """An ignore file changed (a watched-file event or a save): read them all again."""
        with self._lock:
            self._folders.clear()
            self.generation += 1

    def refresh(self) -> bool:
        """Re-stat every ignore file looked at so far (its cost grows with the folders seen:
        run it off the event loop); True if any changed."""
        with self._lock:
            known = list(self._folders.items())
        changed = [key for key, (sig, _) in known if _signature(self._file(key[0])) != sig]
        if changed:
            with self._lock:
                for key in changed:
                    self._folders.pop(key, None)
                self.generation += 1
        return bool(changed)

    # -- matching --

    @staticmethod
    def _file(folder: str) -> str:
        return f"{folder.rstrip('/')}/{IGNORE_FILE}"

    def _rules_of(self, folder: str, insensitive: bool) -> pathspec.PathSpec[Any] | None:
        key = (folder, insensitive)
        file = self._file(folder)
        sig = _signature(file)
        with self._lock:
            cached = self._folders.get(key)
        if cached is not None and cached[0] == sig:
            return cached[1]
        spec: pathspec.PathSpec[Any] | None = None
        if sig is not None:
            lines = _read_lines(file)
            spec = _compile((fold(ln) if insensitive else ln for ln in lines), file)
            logger.info("%s: %d lines of rules", file, len(lines))
        with self._lock:
            if cached is not None:
                self.generation += 1
            self._folders[key] = (sig, spec)
        return spec

    def _under_rules(self, path: str, root: _Root) -> bool:
        for base in root.forms:
            parts = _relative(path, base, root.insensitive)
            if parts and self._excluded(base, parts, root.insensitive):
                return True
        return False

    def _excluded(self, base: str, parts: list[str], insensitive: bool) -> bool:
        """Git's rule: a path is excluded when a folder above it is, else when the deepest
        ignore file with a pattern matching it says so (the last such pattern in that file)."""
        keys = [fold(p) for p in parts] if insensitive else parts
        folders = [base.rstrip("/")]
        for part in parts[:-1]:
            folders.append(f"{folders[-1]}/{part}")
        specs = [self._rules_of(folder or "/", insensitive) for folder in folders]
        for end in range(1, len(parts) + 1):
            is_dir = end < len(parts)
            for depth in range(end - 1, -1, -1):
                spec = specs[depth]
                if spec is None:
                    continue
                sub = "/".join(keys[depth:end]) + ("/" if is_dir else "")
                include = spec.check_file(sub).include
                if include is not None:
                    if include:
                        return True
                    break
        return False


def _relative(path: str, base: str, insensitive: bool) -> list[str]:
    """The segments of `path` below `base`, or [] when it is not below it."""
    path_parts = [p for p in path.split("/") if p]
    base_parts = [p for p in base.split("/") if p]
    if len(path_parts) <= len(base_parts):
        return []
    head = path_parts[: len(base_parts)]
    if insensitive:
        head, base_parts = [fold(p) for p in head], [fold(p) for p in base_parts]
    return path_parts[len(base_parts) :] if head == base_parts else []
