"""A tree-sitter index of the workspace: the definitions (name, kind, signature, first
docstring line) and the imports of every source file, for repository-aware completion context.

Extraction runs tree-sitter queries kept as data (queries/<language>.scm). Building the index
walks the workspace folders respecting .gitignore and built-in ignores, never reads secret-bearing
files, and is bounded in files, file size, definitions per file and time. The walk and parsing
run in a worker thread in small batches (`WorkspaceIndex.build`) so the event loop stays free;
results are applied on the loop, so the index itself is only ever touched from the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import posixpath
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import pathspec
import tree_sitter

from lsp_server.context.languages import LanguageInfo, language_for, new_parser, parse
from lsp_server.privacy.ignore import is_builtin

logger = logging.getLogger(__name__)

MAX_FILES = 20_000
MAX_FILE_BYTES = 512 * 1024
MAX_DEFINITIONS_PER_FILE = 400
MAX_IMPORTS_PER_FILE = 200
MAX_SIGNATURE_CHARS = 240
MAX_DOC_CHARS = 160
# A definition this small is kept whole (its body is as useful as its signature).
SMALL_DEFINITION_LINES = 6
SMALL_DEFINITION_CHARS = 320
# Files parsed per thread hop; tree-sitter holds the GIL while it parses, so batches stay small.
BATCH_FILES = 16
BATCH_BYTES = 256 * 1024

IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        "dist",
        "build",
        "target",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".idea",
        ".vscode-test",
    }
)
MINIFIED_NAMES = (".min.js", ".min.mjs", ".bundle.js")
# Average line length above which a file is taken for minified / generated.
MAX_AVERAGE_LINE = 200


def is_secret(path: str | PurePosixPath) -> bool:
    """Never read, whatever the ignore files say: secret-bearing names (the privacy rules')."""
    return is_builtin(str(path))


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str  # function | class | method | type | constant
    path: str  # absolute file path
    rel: str  # path relative to its workspace folder (posix), shown in prompts
    line: int  # 0-based
    signature: str  # the header (or the whole definition when small)
    doc: str  # first docstring / leading comment line
    # The header of the enclosing class, for methods; in Go the `const` / `var` / `type` of the
    # block a spec is written in.
    container: str = ""


@dataclass(frozen=True)
class FileEntry:
    path: str
    rel: str
    language: str
    definitions: tuple[Definition, ...]
    imported_names: tuple[str, ...]
    imported_modules: tuple[str, ...]
    # (imported name, local name) of `import { update as updateDOM }`: the code uses the local
    # name, the index knows the imported one.
    import_aliases: tuple[tuple[str, str], ...] = ()
    # What a file of the language starts with, without which the model reads it differently
    # (Go's `package tar`: whether its names need a qualifier here).
    preamble: str = ""


@cache
def query_for(language: str) -> tree_sitter.Query | None:
    """The compiled extraction query of a language (tsx shares typescript's), or None."""
    key = "typescript" if language == "tsx" else language
    try:
        source = resources.files("lsp_server.context.queries").joinpath(f"{key}.scm")
        text = source.read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    info = language_for(key)
    if info is None:
        return None
    if language == "tsx":
        tsx = language_for("typescriptreact")
        assert tsx is not None
        info = tsx
    return tree_sitter.Query(info.language, text)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


_STRING_DELIMS = re.compile(r"^[rRbBuUfF]*(\"\"\"|'''|\"|')|(\"\"\"|'''|\"|')$")


def _trails(comment: tree_sitter.Node) -> bool:
    """A comment at the end of a line of code: it belongs to that code, not to what follows."""
    before = comment.prev_sibling
    return before is not None and before.end_point.row == comment.start_point.row


def _docstring(node: tree_sitter.Node, info: LanguageInfo, source: bytes) -> str:
    if info.indent_based:  # python: the first statement of the body, if a string
        body = node.child_by_field_name("body")
        first = body.named_children[0] if body is not None and body.named_children else None
        if first is not None and first.type == "expression_statement":
            expr = first.named_children[0] if first.named_children else None
            if expr is not None and expr.type == "string":
                raw = source[expr.start_byte : expr.end_byte].decode("utf-8", "replace")
                return _first_line(_STRING_DELIMS.sub("", raw))[:MAX_DOC_CHARS]
        return ""
    # Others: the comment right above the definition (or above its export / declaration).
    target = node
    while (
        target.parent is not None
        and target.parent.start_point.row == target.start_point.row
        and target.parent.type not in ("program", "source_file", "class_body")
    ):
        target = target.parent
    if target.type == "type_spec" and target.parent is not None:
        target = target.parent
    prev = target.prev_named_sibling
    if (
        prev is None
        or prev.type not in info.comment_types
        or prev.end_point.row < target.start_point.row - 1
        or _trails(prev)
    ):
        # No comment above: one after it on its line (`itemBreak // break keyword`).
        after = target.next_named_sibling
        if (
            after is None
            or after.type not in info.comment_types
            or after.start_point.row != target.end_point.row
        ):
            return ""
        prev = first = after
    else:
        # A run of line comments is one comment per line: start at the run's first line.
        first = prev
        while (
            (above := first.prev_named_sibling) is not None
            and above.type in info.comment_types
            and above.end_point.row == first.start_point.row - 1
            and not _trails(above)
        ):
            first = above
    raw = source[first.start_byte : prev.end_byte].decode("utf-8", "replace")
    lines = [ln.strip().removesuffix("*/").lstrip("/*").strip() for ln in raw.splitlines()]
    return _first_line("\n".join(ln for ln in lines if ln and not ln.startswith("@")))[
        :MAX_DOC_CHARS
    ]


def _signature(node: tree_sitter.Node, kind: str, source: bytes) -> str:
    rows = node.end_point.row - node.start_point.row + 1
    # Start at the line's beginning so indentation and `export` / decorators' line stay sane.
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    whole = source[line_start : node.end_byte].decode("utf-8", "replace")
    if kind != "class" and rows <= SMALL_DEFINITION_LINES and len(whole) <= SMALL_DEFINITION_CHARS:
        return _dedent(whole)
    body = node.child_by_field_name("body")
    end = node.end_byte
    if body is not None and body.start_point.row - node.start_point.row < 8:
        end = body.start_byte
    else:
        nl = source.find(b"\n", node.start_byte)
        end = nl if 0 <= nl < end else end
    head = _dedent(source[line_start:end].decode("utf-8", "replace").rstrip())
    if len(head) > MAX_SIGNATURE_CHARS:
        # At a line's end, so the bracket left open shows it was cut (see gather/render.is_whole),
        # not in the middle of a type (`Record<string, st`).
        cut = head.rfind("\n", 0, MAX_SIGNATURE_CHARS)
        head = head[: cut if cut > 0 else MAX_SIGNATURE_CHARS]
    return head


def _dedent(text: str) -> str:
    lines = text.rstrip().split("\n")
    indent = len(lines[0]) - len(lines[0].lstrip())
    if indent == 0:
        return "\n".join(lines)
    return "\n".join(ln[indent:] if ln[:indent].isspace() else ln.lstrip() for ln in lines)


def _container(node: tree_sitter.Node, source: bytes) -> str:
    parent = node.parent
    while parent is not None:
        if parent.type in ("class_definition", "class_declaration", "abstract_class_declaration"):
            return _signature(parent, "class", source).split("\n")[0]
        parent = parent.parent
    return ""


_GO_BLOCK_OF = {"const_declaration": "const", "var_declaration": "var", "type_declaration": "type"}
GO_BLOCKS = frozenset(_GO_BLOCK_OF.values())  # a Go spec's container (see Definition)


def _go_block(node: tree_sitter.Node, signature: str) -> str:
    """`const` for a spec inside `const ( ... )` (`itemBreak`, `blockSize = 512`): alone, the
    spec is not Go; rendered, it goes back into such a block. Likewise `var` and `type`."""
    keyword = _GO_BLOCK_OF.get(node.parent.type, "") if node.parent is not None else ""
    return keyword if keyword and not signature.startswith(keyword + " ") else ""


def extract(
    tree: tree_sitter.Tree,
    source: bytes,
    info: LanguageInfo,
    path: str,
    rel: str,
) -> FileEntry:
    """Definitions and imports of one parsed file, through its language's query."""
    query = query_for(info.name)
    defs: list[Definition] = []
    names: list[str] = []
    modules: list[str] = []
    aliases: list[tuple[str, str]] = []
    preamble = ""
    if query is not None:
        seen: set[tuple[str, int]] = set()
        for _pattern, captures in tree_sitter.QueryCursor(query).matches(tree.root_node):
            if "import.alias" in captures and "import.name" in captures:
                aliases.append(
                    (
                        _text(captures["import.name"][0], source),
                        _text(captures["import.alias"][0], source),
                    )
                )
            for capture, nodes in captures.items():
                if capture == "preamble":
                    preamble = _text(nodes[0], source)
                elif capture == "import.name":
                    names.extend(_text(n, source) for n in nodes)
                elif capture == "import.module":
                    modules.extend(_text(n, source).strip("\"'`") for n in nodes)
                elif capture.startswith("def.") and "name" in captures:
                    node, name = nodes[0], _text(captures["name"][0], source)
                    if (name, node.start_byte) in seen or len(defs) >= MAX_DEFINITIONS_PER_FILE:
                        continue
                    seen.add((name, node.start_byte))
                    if name == "_":  # Go's blank identifier: not a name anything uses
                        continue
                    kind = capture[4:]
                    signature = _signature(node, kind, source)
                    if kind == "method":
                        container = _container(node, source)
                    elif info.name == "go":
                        container = _go_block(node, signature)
                    else:
                        container = ""
                    defs.append(
                        Definition(
                            name=name,
                            kind=kind,
                            path=path,
                            rel=rel,
                            line=node.start_point.row,
                            signature=signature,
                            doc=_docstring(node, info, source),
                            container=container,
                        )
                    )
    defs.sort(key=lambda d: d.line)
    return FileEntry(
        path=path,
        rel=rel,
        language=info.name,
        definitions=tuple(defs),
        imported_names=tuple(dict.fromkeys(names))[:MAX_IMPORTS_PER_FILE],
        imported_modules=tuple(dict.fromkeys(modules))[:MAX_IMPORTS_PER_FILE],
        import_aliases=tuple(dict.fromkeys(aliases))[:MAX_IMPORTS_PER_FILE],
        preamble=preamble,
    )


def _text(node: tree_sitter.Node, source: bytes) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def looks_generated(data: bytes, name: str) -> bool:
    """Binary, minified or bundled: not worth indexing."""
    if name.endswith(MINIFIED_NAMES) or b"\0" in data[:8192]:
        return True
    lines = data.count(b"\n") + 1
    return len(data) > 4096 and len(data) / lines > MAX_AVERAGE_LINE


def extract_file(path: str, rel: str) -> FileEntry | None:
    """Read, parse and extract one file from disk; None if it is skipped or fails."""
    info = language_for("", path)
    if info is None or query_for(info.name) is None or is_secret(path):
        return None
    try:
        if os.path.getsize(path) > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_FILE_BYTES or looks_generated(data, path):
        return None
    try:
        tree = parse(new_parser(info), data)
    except ValueError:
        return None
    return extract(tree, data, info, path, rel)


# -- walking the workspace -------------------------------------------------------------------


@dataclass
class _Ignores:
    """.gitignore files met on the way down: (folder relative to the root, its rules)."""

    specs: list[tuple[str, pathspec.PathSpec[Any]]] = field(default_factory=list)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for base, spec in self.specs:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            if spec.match_file(sub + "/" if is_dir else sub):
                return True
        return False


def _read_gitignore(folder: Path) -> pathspec.PathSpec[Any] | None:
    try:
        lines = (folder / ".gitignore").read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def scan(
    root: Path,
    max_files: int = MAX_FILES,
    extra_ignored: Callable[[str], bool] | None = None,
) -> list[tuple[str, str]]:
    """(absolute path, relative path) of the indexable source files under `root`, at most
    `max_files`, in a stable order (shallow folders first)."""
    found: list[tuple[str, str]] = []
    ignores = _Ignores()
    queue: list[tuple[Path, str]] = [(root, "")]
    while queue and len(found) < max_files:
        folder, rel_folder = queue.pop(0)
        spec = _read_gitignore(folder)
        if spec is not None:
            ignores.specs.append((rel_folder, spec))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in IGNORED_DIRS or ignores.ignored(rel, True):
                    continue
                queue.append((Path(entry.path), rel))
            elif is_file:
                if (
                    is_secret(entry.path)
                    or language_for("", entry.name) is None
                    or ignores.ignored(rel, False)
                    or (extra_ignored is not None and extra_ignored(entry.path))
                ):
                    continue
                found.append((entry.path, rel))
                if len(found) >= max_files:
                    break
    return found


def _extract_batch(batch: Sequence[tuple[str, str]]) -> list[tuple[str, FileEntry | None]]:
    return [(path, extract_file(path, rel)) for path, rel in batch]


def _batches(files: Sequence[tuple[str, str]]) -> Iterable[list[tuple[str, str]]]:
    batch: list[tuple[str, str]] = []
    size = 0
    for item in files:
        with contextlib.suppress(OSError):
            size += os.path.getsize(item[0])
        batch.append(item)
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# Progress callback: (files done, files total).
Progress = Callable[[int, int], None]


_SCRIPT_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")


def _suffixes(parts: Sequence[str]) -> list[str]:
    """'a/b/c' -> 'c', 'b/c', 'a/b/c'."""
    return ["/".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)]


def _module_keys(rel: str) -> tuple[list[str], list[str]]:
    """Keys a module path can reach a file by: the suffixes of its path without extension, and
    the suffixes of its folder (a package: Python, Go, an index.ts)."""
    pure = PurePosixPath(rel)
    stem = [*pure.parent.parts, pure.name.split(".")[0]] if pure.name else []
    return _suffixes(stem), _suffixes(pure.parent.parts)


@dataclass(frozen=True)
class Linked:
    """What a file imports from inside the workspace: files, and folders (packages)."""

    files: frozenset[str] = frozenset()
    dirs: frozenset[str] = frozenset()

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (
            path in self.files or posixpath.dirname(path) in self.dirs
        )


class WorkspaceIndex:
    """Definitions by file and by name. Mutated only on the event loop, under `lock`, which
    context gathering holds in its thread while it reads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.roots: list[Path] = []
        # Files that must never enter the index (the session's ignore rules); checked on every
        # way in, so a save or an index build racing a rule change cannot add one.
        self.excluded: Callable[[str], bool] = is_secret
        self.files: dict[str, FileEntry] = {}
        self._by_name: dict[str, list[Definition]] = {}
        # Module-path keys (suffixes of the path without extension) -> files / folders.
        self._file_keys: dict[str, set[str]] = {}
        self._dir_keys: dict[str, dict[str, int]] = {}
        self._by_folder: dict[str, set[str]] = {}  # folder -> its files in the index
        self.building = False
        self.build_ms = 0.0
        self.skipped = 0

    # -- queries --

    def lookup(self, name: str) -> list[Definition]:
        return self._by_name.get(name, [])

    def entry(self, path: str) -> FileEntry | None:
        return self.files.get(path)

    def in_folder(self, folder: str) -> list[str]:
        """The indexed files directly in `folder`, sorted."""
        return sorted(self._by_folder.get(folder, ()))

    def relative(self, path: str) -> tuple[str, str] | None:
        """(workspace folder name, path relative to it) for a file inside a folder."""
        p = Path(path)
        for root in self.roots:
            with contextlib.suppress(ValueError):
                return root.name, p.relative_to(root).as_posix()
        return None

    def linked(self, entry: FileEntry) -> Linked:
        """The workspace files and folders `entry`'s imports point at (resolved by path, so
        only what can be told from the import text: relative imports, and absolute ones whose
        path matches the workspace's layout; a one-part absolute name only matches a file or
        folder at a workspace root)."""
        files: set[str] = set()
        dirs: set[str] = set()
        here = posixpath.dirname(entry.path)
        roots = {r.name for r in self.roots}
        for module in entry.imported_modules:
            if entry.language == "python":
                dots = len(module) - len(module.lstrip("."))
                parts = [p for p in module[dots:].split(".") if p]
                packages: set[str] = set()
                if dots:
                    base = here
                    for _ in range(dots - 1):
                        base = posixpath.dirname(base)
                    target = posixpath.join(base, *parts)
                    self._link_path(target, (".py", ".pyi"), ("__init__",), files, packages)
                else:
                    keys = [parts]
                    if len(parts) > 1 and parts[0] in roots:
                        keys.append(parts[1:])
                    for key in keys:
                        self._link_key(key, files, packages)
                # A package is its __init__ and the submodules imported from it by name
                # (`from . import _compat`), not every file in its folder: `sys.stdout` near
                # the cursor must not find `Result.stdout` in a sibling module.
                for folder in packages:
                    for name in ("__init__", *entry.imported_names):
                        for candidate in (f"{name}.py", f"{name}.pyi", f"{name}/__init__.py"):
                            path = posixpath.join(folder, candidate)
                            if path in self.files:
                                files.add(path)
            elif entry.language in ("typescript", "tsx", "javascript"):
                if module.startswith((".", "/")):
                    target = posixpath.normpath(posixpath.join(here, module))
                    for ext in _SCRIPT_EXTENSIONS:
                        target = target.removesuffix(ext)
                    self._link_path(target, _SCRIPT_EXTENSIONS, ("index",), files, dirs)
                else:
                    parts = [p for p in module.split("/") if p not in ("", "@", "~")]
                    self._link_key(parts, files, dirs)
            elif entry.language == "go":
                parts = module.split("/")
                external = "." in parts[0]
                for n in range(len(parts), 0 if external else 1, -1):
                    found = self._dir_keys.get("/".join(parts[-n:]))
                    if found:
                        dirs.update(found)
                        break
        files.discard(entry.path)
        return Linked(frozenset(files), frozenset(dirs))

    def _link_path(
        self,
        target: str,
        extensions: Sequence[str],
        package_files: Sequence[str],
        files: set[str],
        dirs: set[str],
    ) -> None:
        for ext in extensions:
            if target + ext in self.files:
                files.add(target + ext)
                return
        for name in package_files:
            for ext in extensions:
                if posixpath.join(target, name + ext) in self.files:
                    dirs.add(target)
                    return

    def _link_key(self, parts: Sequence[str], files: set[str], dirs: set[str]) -> None:
        if not parts:
            return
        key = "/".join(parts)
        exact = len(parts) == 1  # a one-part name: only a root-level file or folder
        for path in self._file_keys.get(key, ()):
            entry = self.files.get(path)
            if not exact or (entry is not None and "/" not in entry.rel):
                files.add(path)
        for folder in self._dir_keys.get(key, {}):
            rel = self.relative(folder)
            if not exact or (rel is not None and "/" not in rel[1]):
                dirs.add(folder)

    # -- updates --

    def put(self, entry: FileEntry) -> None:
        with self.lock:
            self._put(entry)

    def _put(self, entry: FileEntry) -> None:
        self._remove(entry.path)
        if self.excluded(entry.path):
            return
        self.files[entry.path] = entry
        for d in entry.definitions:
            self._by_name.setdefault(d.name, []).append(d)
        file_keys, dir_keys = _module_keys(entry.rel)
        folder = posixpath.dirname(entry.path)
        self._by_folder.setdefault(folder, set()).add(entry.path)
        for key in file_keys:
            self._file_keys.setdefault(key, set()).add(entry.path)
        for key in dir_keys:
            counts = self._dir_keys.setdefault(key, {})
            counts[folder] = counts.get(folder, 0) + 1

    def remove(self, path: str) -> None:
        with self.lock:
            self._remove(path)

    def _remove(self, path: str) -> None:
        old = self.files.pop(path, None)
        if old is None:
            return
        file_keys, dir_keys = _module_keys(old.rel)
        folder = posixpath.dirname(path)
        siblings = self._by_folder.get(folder)
        if siblings is not None:
            siblings.discard(path)
            if not siblings:
                del self._by_folder[folder]
        for key in file_keys:
            paths = self._file_keys.get(key)
            if paths is not None:
                paths.discard(path)
                if not paths:
                    del self._file_keys[key]
        for key in dir_keys:
            counts = self._dir_keys.get(key)
            if counts is not None and folder in counts:
                counts[folder] -= 1
                if counts[folder] <= 0:
                    del counts[folder]
                if not counts:
                    del self._dir_keys[key]
        for d in old.definitions:
            bucket = self._by_name.get(d.name)
            if bucket is None:
                continue
            bucket[:] = [x for x in bucket if x.path != path]
            if not bucket:
                del self._by_name[d.name]

    def update_from_tree(
        self, path: str, tree: tree_sitter.Tree, text: str, info: LanguageInfo
    ) -> None:
        """Re-extract an open document from its existing tree (no re-parse)."""
        rel = self.relative(path)
        if rel is None or is_secret(path) or query_for(info.name) is None:
            return
        self.put(extract(tree, text.encode("utf-8"), info, path, rel[1]))

    async def update_from_disk(self, path: str) -> None:
        rel = self.relative(path)
        if rel is None:
            return
        entry = await asyncio.to_thread(extract_file, path, rel[1])
        if entry is None:
            self.remove(path)
        else:
            self.put(entry)

    async def build(
        self,
        roots: Sequence[Path],
        max_files: int = MAX_FILES,
        extra_ignored: Callable[[str], bool] | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Index `roots` from scratch in a worker thread, batch by batch; returns the number
        of files indexed. The loop stays responsive: each hop to the thread is small."""
        start = time.monotonic()
        self.roots = [Path(r) for r in roots]
        self.building = True
        try:
            files: list[tuple[str, str]] = []
            for root in self.roots:
                budget = max_files - len(files)
                if budget <= 0:
                    break
                files += await asyncio.to_thread(scan, root, budget, extra_ignored)
            done = 0
            if progress is not None:
                progress(0, len(files))
            for batch in _batches(files):
                for path, entry in await asyncio.to_thread(_extract_batch, batch):
                    if entry is None:
                        self.skipped += 1
                        self.remove(path)
                    else:
                        self.put(entry)
                done += len(batch)
                if progress is not None:
                    progress(done, len(files))
                await asyncio.sleep(0)
        finally:
            self.building = False
            self.build_ms = (time.monotonic() - start) * 1000
        logger.info(
            "indexed %d files (%d definitions) in %.0f ms",
            len(self.files),
            sum(len(v) for v in self._by_name.values()),
            self.build_ms,
        )
        return len(self.files)
