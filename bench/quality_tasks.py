"""The quality bench's tasks: lines cut from real repositories found on this machine.

Code tasks: a line inside a function body (not in a string or comment, not the continuation
of an expression, 12-100 characters) emptied, its indentation kept. Prose tasks (issue 21,
item 4): a line of a docstring or a comment that continues the lines before it, emptied down
to its indentation and comment marker (`# `, `// `, ` * `), the prose to write back. Each
language draws its tasks with its own random generator (seeded by the seed and the language),
so a language's sample does not depend on which other languages run.
"""

from __future__ import annotations

import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import tree_sitter

from lsp_server.context.documents import Document
from lsp_server.context.index import extract_file, scan
from lsp_server.context.languages import LanguageInfo, lsp_language_id

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
NODE_MODULES = HERE.parent / "editor-clients" / "vscode" / "node_modules"
GO_SRC = Path("/usr/share/go-1.19/src")
# Debian's Rust crate sources (`apt-get install librust-semver-dev librust-bytes-dev
# librust-toml-dev`); the versions are Debian 12's, pinned by the folder names.
CARGO = Path("/usr/share/cargo/registry")

# (language, name, source folder): real projects found on this machine.
REPOS: tuple[tuple[str, str, Path], ...] = (
    ("python", "pygls", SITE / "site-packages" / "pygls"),
    ("python", "click", SITE / "site-packages" / "click"),
    ("python", "cattrs", SITE / "site-packages" / "cattrs"),
    ("typescript", "secretlint-core", NODE_MODULES / "@secretlint" / "core" / "src"),
    ("typescript", "cheerio", NODE_MODULES / "cheerio" / "src"),
    ("typescript", "htmlparser2", NODE_MODULES / "htmlparser2" / "src"),
    ("typescript", "textlint-linter-formatter", NODE_MODULES / "@textlint/linter-formatter/src"),
    ("typescript", "secretlint-config-loader", NODE_MODULES / "@secretlint/config-loader/src"),
    ("go", "git-persistent-https", Path("/usr/share/doc/git/contrib/persistent-https")),
    # Debian's golang-1.19-src: packages of several files that call each other.
    ("go", "go-text-template", GO_SRC / "text" / "template"),
    ("go", "go-archive-tar", GO_SRC / "archive" / "tar"),
    ("rust", "rust-semver", CARGO / "semver-1.0.14" / "src"),
    ("rust", "rust-bytes", CARGO / "bytes-1.2.1" / "src"),
    ("rust", "rust-toml", CARGO / "toml-0.5.11" / "src"),
)
FUNCTION_TYPES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "method_definition",
        "method_declaration",
        "arrow_function",
        "function_expression",
        "func_literal",
        "function_item",
        "closure_expression",
    }
)
SKIP_LINE = re.compile(r"^\s*(#|//|/\*|\*|\}|\)|\]|\?|:|return;?$|else|pass$|break|continue|\"|')")


@dataclass
class Task:
    language: str
    repo: str
    file: str  # relative to the repository
    line: int  # 0-based
    answer: str  # the original line, stripped
    indent: str
    # Symbols of the answer defined only in other files and reached from this one: imported by
    # name, in Go defined in the same package, or called as a method (`x.name(`).
    cross_file: list[str]
    kind: str = "code"  # code | prose (a docstring or comment line)


def copy_repo(src: Path, dest: Path) -> Path:
    """A private copy: the workspace is the repository folder alone (no outer ignores), without
    tests (Go's sit beside the code and are mostly tables of cases)."""
    shutil.copytree(
        src,
        dest,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "node_modules", "*_test.go", "testdata"
        ),
    )
    return dest


@dataclass
class FileInfo:
    defs: set[str]
    imported: set[str]


def definitions_by_file(root: Path) -> dict[str, FileInfo]:
    out: dict[str, FileInfo] = {}
    for path, rel in scan(root):
        entry = extract_file(path, rel)
        if entry is not None:
            out[rel] = FileInfo({d.name for d in entry.definitions}, set(entry.imported_names))
    return out


MEMBER_TYPES = frozenset({"attribute", "member_expression", "selector_expression"})
CALL_TYPES = frozenset({"call", "call_expression"})


def cross_file_names(
    doc: Document, line: int, rel: str, language: str, defs: dict[str, FileInfo]
) -> list[str]:
    """The answer line's identifiers (not in strings or comments) that are defined only in
    other files of the repository and that this file reaches: imported by name, in Go defined
    in the same package (folder), or called as a member (`obj.name(...)`). A local variable or
    an attribute that shares a name with a definition elsewhere does not count."""
    mine = defs[rel]
    others = {n for k, v in defs.items() if k != rel for n in v.defs} - mine.defs
    package = {
        n
        for k, v in defs.items()
        if k != rel and Path(k).parent == Path(rel).parent
        for n in v.defs
    }
    assert doc.tree is not None
    found: set[str] = set()
    stack = [doc.tree.root_node]
    while stack:
        node = stack.pop()
        if node.start_point.row > line or node.end_point.row < line:
            continue
        if node.child_count:
            stack.extend(node.children)
            continue
        if not node.type.endswith("identifier") or node.start_point.row != line:
            continue
        name = (node.text or b"").decode("utf-8", "replace")
        if len(name) <= 2 or name not in others:
            continue
        parent = node.parent
        member_call = (
            parent is not None
            and parent.type in MEMBER_TYPES
            and parent.parent is not None
            and parent.parent.type in CALL_TYPES
            and node == parent.children[-1]
        )
        if name in mine.imported or (language == "go" and name in package) or member_call:
            found.add(name)
    return sorted(found)


def candidate_lines(root: Path, rel: str, language: str) -> list[tuple[int, str, str]]:
    text = (root / rel).read_text("utf-8", errors="replace")
    doc = Document((root / rel).as_uri(), lsp_language_id(rel), 1, text)
    if doc.tree is None:
        return []
    lines = text.split("\n")
    info = doc.language
    skip_types = info.string_types | info.comment_types if info is not None else frozenset()
    out: list[tuple[int, str, str]] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not (12 <= len(stripped) <= 100) or SKIP_LINE.match(line) or not line[:1].isspace():
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if i > 0 and lines[i - 1].rstrip().endswith((",", "(", "[", "=", "+", "&&", "||")):
            continue  # the middle of a longer expression
        node = doc.tree.root_node.descendant_for_point_range((i, len(indent)), (i, len(line)))
        inside, first_line = False, False
        while node is not None:
            if node.type in skip_types:
                break
            if node.type in FUNCTION_TYPES:
                inside = True
                first_line = node.start_point.row == i
                break
            node = node.parent
        if inside and not first_line and i + 1 < len(lines):
            out.append((i, stripped, indent))
    return out


def parse_file(root: Path, rel: str) -> Document:
    text = (root / rel).read_text("utf-8", errors="replace")
    return Document((root / rel).as_uri(), lsp_language_id(rel), 1, text)


# A comment line's marker and the blanks after it: what a prose task keeps of the line.
COMMENT_MARKER = re.compile(r"^\s*(#+|//[/!]?|\*)\s*")
DOCSTRING_PARENTS = frozenset({"function_definition", "class_definition", "module"})


def _prose_node(node: tree_sitter.Node | None, info: LanguageInfo) -> str:
    """ "comment", "docstring" or "" for the node around a line."""
    while node is not None:
        if node.type in info.comment_types:
            return "comment"
        if node.type == "string":  # Python: a docstring is a string statement first in its body
            stmt, body = node.parent, node.parent.parent if node.parent else None
            if stmt is None or stmt.type != "expression_statement" or body is None:
                return ""
            first = next((c for c in body.named_children if c.type != "comment"), None)
            owner = body if body.type == "module" else body.parent
            ok = first is not None and first.id == stmt.id
            return (
                "docstring" if ok and owner is not None and owner.type in DOCSTRING_PARENTS else ""
            )
        node = node.parent
    return ""


CODE_MARKS = re.compile(r"[;{}]|=>|==|\w\(|\)$|^[-=*+|]")


def is_prose(text: str) -> bool:
    """Words, mostly: not code quoted in a comment (`buf.clear();`), a table or a diagram."""
    words = sum(c.isalpha() or c.isspace() for c in text)
    return words >= 0.8 * len(text) and len(text.split()) >= 3 and not CODE_MARKS.search(text)


def prose_lines(root: Path, rel: str) -> list[tuple[int, str, str]]:
    """Lines of docstrings and comments that continue the prose of the line before (same
    docstring, or a comment line under a comment line): (line, prose, kept prefix)."""
    doc = parse_file(root, rel)
    if doc.tree is None or doc.language is None:
        return []
    lines = doc.text.split("\n")
    out: list[tuple[int, str, str]] = []
    for i in range(1, len(lines) - 1):
        line = lines[i]
        if not line.strip():
            continue
        indent = line[: len(line) - len(line.lstrip())]
        node = doc.tree.root_node.descendant_for_point_range(
            (i, len(indent)), (i, max(len(indent), len(line.rstrip()) - 1))
        )
        kind = _prose_node(node, doc.language)
        if kind == "comment":
            m = COMMENT_MARKER.match(line)
            prev = COMMENT_MARKER.match(lines[i - 1])
            if m is None or prev is None or not lines[i - 1][prev.end() :].strip():
                continue
            kept = m.group()
        elif kind == "docstring":
            if not lines[i - 1].strip() or '"""' in line or "'''" in line:
                continue
            kept = indent
        else:
            continue
        prose = line[len(kept) :].strip()
        if not (12 <= len(prose) <= 100) or prose.startswith((">>>", "...", "```")):
            continue
        if not is_prose(prose):
            continue  # a table, a diagram, code in a comment
        out.append((i, prose, kept))
    return out


def make_tasks(
    workspaces: dict[str, tuple[str, Path]], per_language: int, seed: int, prose: int = 0
) -> list[Task]:
    """Per language, half cross-file tasks (when there are enough), half others, and `prose`
    prose tasks; each language with its own random generator."""
    by_language: dict[str, tuple[list[Task], list[Task], list[Task]]] = {}
    for repo, (language, root) in sorted(workspaces.items()):
        defs = definitions_by_file(root)
        cross, plain, texts = by_language.setdefault(language, ([], [], []))
        for rel in sorted(defs):
            doc = parse_file(root, rel)
            for line, answer, indent in candidate_lines(root, rel, language):
                names = cross_file_names(doc, line, rel, language, defs)
                task = Task(language, repo, rel, line, answer, indent, names)
                (cross if names else plain).append(task)
            if prose:
                for line, answer, kept in prose_lines(root, rel):
                    texts.append(Task(language, repo, rel, line, answer, kept, [], "prose"))
    tasks: list[Task] = []
    for language in sorted(by_language):
        rng = random.Random(f"{seed}:{language}")
        cross, plain, texts = by_language[language]
        for pool in (cross, plain, texts):
            rng.shuffle(pool)
        n_cross = min(len(cross), per_language // 2)
        chosen = cross[:n_cross] + plain[: per_language - n_cross] + texts[:prose]
        tasks += sorted(chosen, key=lambda t: (t.repo, t.file, t.line))
    return tasks
