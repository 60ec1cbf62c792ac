"""Where a document is: the path forms of a URI or path that ignore rules are matched on, and
whether a folder's file system tells names apart by case.

A URI can name one file in many spellings (`..`, percent-encoding, `file://host/`, scheme case,
a symlink); the rules must hold for all of them, so they are matched on every form here: the
lexically normalised path and the path with every symlink resolved.
"""

from __future__ import annotations

import os
import posixpath
import re
import unicodedata
from urllib.parse import unquote, urlsplit

# A scheme of two or more characters: `C:` is a Windows drive, not a scheme.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_LEADING_SLASHES = re.compile(r"^/+")


def uri_path(uri_or_path: str) -> str:
    """The path part of a URI, percent-decoded once (as the editor means it: `%2e` is `.`,
    `%2F` a slash); the host, query and fragment are dropped. A plain path is returned as is."""
    if not _SCHEME.match(uri_or_path):
        return uri_or_path
    return unquote(urlsplit(uri_or_path).path)


def _spellings(uri_or_path: str) -> list[str]:
    """The paths a URI may be read as: its path, and (with an authority) the authority read
    as the path's first segments, as VS Code reads `file://server/share` (`//server/share`):
    `file://%2Ftmp/x` is /tmp/x to it."""
    path = uri_path(uri_or_path)
    found = [path]
    if _SCHEME.match(uri_or_path):
        authority = urlsplit(uri_or_path).netloc
        if authority:
            found.append("//" + unquote(authority) + path)
    return found


def normalize(path: str) -> str:
    """`..`, `.` and repeated slashes resolved lexically (no file-system access)."""
    return _LEADING_SLASHES.sub("/", posixpath.normpath(path))


def forms(uri_or_path: str) -> list[str]:
    """The absolute path forms to match `uri_or_path` on: lexically normalised, then with
    every symlink resolved, each also with backslashes read as separators. Empty when it
    names no absolute path (an `untitled:` document). Raises ValueError for a path that can
    name no file (a NUL byte)."""
    found: list[str] = []
    for path in _spellings(uri_or_path):
        if "\0" in path:
            raise ValueError("a path with a NUL byte")
        if not path.startswith("/"):
            continue
        lexical = normalize(path)
        found += [lexical, os.path.realpath(lexical)]
        if path != lexical:
            # As written too: `link/../x` is `x` lexically, but beside link's target on disk.
            found.append(os.path.realpath(path))
    found += [normalize(f.replace("\\", "/")) for f in found if "\\" in f]
    return list(dict.fromkeys(found))


def name_of(uri_or_path: str) -> str:
    """The last path segment (for documents without an absolute path: `untitled:.env`)."""
    return posixpath.basename(uri_path(uri_or_path).replace("\\", "/").rstrip("/"))


def fold(text: str) -> str:
    """The key a case-insensitive file system compares names by (also normalisation-insensitive,
    as APFS is)."""
    return unicodedata.normalize("NFC", text).casefold()


def probe_case_insensitive(folder: str) -> bool | None:
    """Whether the file system holding `folder` finds names whatever their case: an entry of
    the folder (or the folder itself) looked up with its case swapped is the same file. None
    when nothing there could tell (callers then take the stricter answer)."""
    candidates: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name != entry.name.swapcase():
                    candidates.append(entry.path)
                if len(candidates) >= 4:
                    break
    except OSError:
        pass
    _, name = os.path.split(folder.rstrip("/"))
    if name and name != name.swapcase():
        candidates.append(folder.rstrip("/"))
    for path in candidates:
        head, tail = os.path.split(path)
        try:
            original = os.lstat(path)
        except OSError:
            continue
        try:
            other = os.lstat(os.path.join(head, tail.swapcase()))
        except FileNotFoundError:
            return False
        except OSError:
            continue
        return os.path.samestat(original, other)
    return None
