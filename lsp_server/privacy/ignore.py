"""Files Enclave never reads into a prompt or the index, and never completes in: built-in
secret-bearing names plus each workspace root's `.enclaveignore` (gitignore syntax)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import pathspec

logger = logging.getLogger(__name__)

IGNORE_FILE = ".enclaveignore"
BUILTIN = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".aws/credentials",
    ".docker/config.json",
    "credentials",
    "credentials.json",
    "*credentials*.json",
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "*.tfstate",
    "*.kdbx",
)


def path_of(uri_or_path: str) -> Path:
    if "://" in uri_or_path:
        return Path(unquote(urlparse(uri_or_path).path))
    return Path(uri_or_path)


class IgnoreRules:
    def __init__(self, roots: list[Path] | None = None) -> None:
        self._builtin = pathspec.PathSpec.from_lines("gitignore", BUILTIN)
        self._roots: list[tuple[Path, pathspec.PathSpec[Any]]] = []
        for root in roots or []:
            self.add_root(root)

    def add_root(self, root: Path) -> None:
        lines: list[str] = []
        ignore_file = root / IGNORE_FILE
        with contextlib.suppress(OSError):
            lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
        spec = pathspec.PathSpec.from_lines("gitignore", lines)
        self._roots = [r for r in self._roots if r[0] != root] + [(root, spec)]
        if lines:
            logger.info("%s: %d rules", ignore_file, len(lines))

    def reload(self, changed: Path) -> None:
        """Call when a file changed; re-reads an .enclaveignore that did."""
        if changed.name == IGNORE_FILE:
            self.add_root(changed.parent)

    def is_ignored(self, uri_or_path: str) -> bool:
        path = path_of(uri_or_path)
        name = PurePosixPath(path.as_posix())
        # Built-ins match the file name and the last two parts anywhere in the tree.
        tail = "/".join(name.parts[-2:])
        if self._builtin.match_file(name.name) or self._builtin.match_file(tail):
            return True
        for root, spec in self._roots:
            try:
                relative = path.relative_to(root)
            except ValueError:
                continue
            if spec.match_file(relative.as_posix()):
                return True
        return False
