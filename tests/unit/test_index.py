"""The workspace index: extraction per language, ignores and secrets, incremental updates, and
bounds (a large repository indexes without stalling the event loop)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from lsp_server.context.documents import Document, DocumentStore, Position, Range, TextChange
from lsp_server.context.index import (
    MAX_FILE_BYTES,
    WorkspaceIndex,
    extract_file,
    is_secret,
    scan,
)
from lsp_server.context.service import ContextService

PY_LIB = '''"""Pricing helpers."""
from collections.abc import Sequence
from .models import Item, Order as O

TAX_RATE = 0.2
_cache = {}


def total_price(items: Sequence[Item], discount: float = 0.0) -> float:
    """Sum of the item prices, less the discount.

    More words.
    """
    subtotal = 0.0
    for item in items:
        subtotal += item.price * item.quantity
        subtotal -= discount
    return subtotal * (1 + TAX_RATE)


@dataclass
class Basket:
    """A shopping basket."""

    def add(self, item: Item) -> None:
        self.items.append(item)

    @property
    def size(self) -> int:
        return len(self.items)
'''

TS_LIB = """import { EventEmitter } from "./events";
import * as path from "node:path";
import Default, { a as b } from "./x";

export interface Options {
  verbose: boolean;
}

export type Handler<T> = (value: T) => void;

/** Creates a reporter for the given options. */
export function createReporter(options: Options, handler: Handler<string>): Reporter {
  const reporter = new Reporter(options);
  reporter.on(handler);
  reporter.start();
  reporter.flush();
  return reporter;
}

export class Reporter {
  // Queue a message.
  report(message: string): void {
    this.queue.push(message);
  }
}

export const DEFAULT_OPTIONS: Options = { verbose: false };
"""

GO_LIB = """package shapes

import (
\t"fmt"
\t"math"
)

// Pi2 is two pi.
const Pi2 = 2 * math.Pi

// Circle is a circle.
type Circle struct {
\tRadius float64
}

// NewCircle makes a circle.
func NewCircle(r float64) *Circle {
\tfmt.Println("new circle")
\tc := &Circle{Radius: r}
\tc.Radius = r
\tc.Radius += 0
\treturn c
}

// Area returns the area.
// It is pi times the radius squared.
func (c *Circle) Area() float64 {
\treturn math.Pi * c.Radius * c.Radius
}
"""


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def defs_of(path: Path) -> dict[str, tuple[str, str, str, str]]:
    entry = extract_file(str(path), path.name)
    assert entry is not None
    return {d.name: (d.kind, d.signature, d.doc, d.container) for d in entry.definitions}


def test_python_definitions_and_imports(tmp_path: Path) -> None:
    write(tmp_path, {"pricing.py": PY_LIB})
    defs = defs_of(tmp_path / "pricing.py")
    assert set(defs) == {"TAX_RATE", "total_price", "Basket", "add", "size"}
    kind, sig, doc, _ = defs["total_price"]
    assert kind == "function"
    assert sig == ("def total_price(items: Sequence[Item], discount: float = 0.0) -> float:")
    assert doc == "Sum of the item prices, less the discount."
    assert defs["Basket"][:3] == ("class", "class Basket:", "A shopping basket.")
    assert defs["add"][0] == "method" and defs["add"][3] == "class Basket:"
    assert "self.items.append(item)" in defs["add"][1]  # small: kept whole
    assert defs["TAX_RATE"][:2] == ("constant", "TAX_RATE = 0.2")
    entry = extract_file(str(tmp_path / "pricing.py"), "pricing.py")
    assert entry is not None
    assert set(entry.imported_names) == {"Sequence", "Item", "Order"}
    assert set(entry.imported_modules) == {"collections.abc", ".models"}
    assert entry.import_aliases == (("Order", "O"),)  # the code says `O`


def test_typescript_definitions_and_imports(tmp_path: Path) -> None:
    write(tmp_path, {"report.ts": TS_LIB})
    defs = defs_of(tmp_path / "report.ts")
    assert set(defs) == {
        "Options",
        "Handler",
        "createReporter",
        "Reporter",
        "report",
        "DEFAULT_OPTIONS",
    }
    kind, sig, doc, _ = defs["createReporter"]
    assert kind == "function"
    assert sig == (
        "export function createReporter(options: Options, handler: Handler<string>): Reporter"
    )
    assert doc == "Creates a reporter for the given options."
    assert defs["Options"][0] == "type" and "verbose: boolean;" in defs["Options"][1]
    assert defs["report"][2] == "Queue a message."
    assert defs["report"][3] == "export class Reporter"
    entry = extract_file(str(tmp_path / "report.ts"), "report.ts")
    assert entry is not None
    assert set(entry.imported_names) == {"EventEmitter", "path", "Default", "a"}
    assert set(entry.imported_modules) == {"./events", "node:path", "./x"}
    assert entry.import_aliases == (("a", "b"),)


def test_go_definitions_and_imports(tmp_path: Path) -> None:
    write(tmp_path, {"shapes.go": GO_LIB})
    defs = defs_of(tmp_path / "shapes.go")
    assert set(defs) == {"Pi2", "Circle", "NewCircle", "Area"}
    assert defs["NewCircle"][:3] == (
        "function",
        "func NewCircle(r float64) *Circle",
        "NewCircle makes a circle.",
    )
    assert defs["Circle"][0] == "type" and defs["Circle"][2] == "Circle is a circle."
    assert defs["Area"][0] == "method" and defs["Area"][2] == "Area returns the area."
    assert defs["Area"][1].endswith("\treturn math.Pi * c.Radius * c.Radius\n}")  # small: whole
    assert defs["Pi2"][0] == "constant"
    entry = extract_file(str(tmp_path / "shapes.go"), "shapes.go")
    assert entry is not None and set(entry.imported_modules) == {"fmt", "math"}


def test_gitignore_builtin_ignores_and_secrets(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "generated/\n*_pb2.py\n",
            "src/keep.py": "def keep(): pass\n",
            "src/model_pb2.py": "def gen(): pass\n",
            "generated/out.py": "def gen(): pass\n",
            "src/.gitignore": "local.py\n",
            "src/local.py": "def local(): pass\n",
            "node_modules/pkg/index.js": "function f() {}\n",
            ".venv/lib/x.py": "def x(): pass\n",
            "build/y.py": "def y(): pass\n",
            ".env.js": "const KEY = 'x';\n",
            "id_rsa.py": "KEY = 1\n",
            "server.key": "secret",
            "notes.txt": "not code",
            "private.py": "def private(): pass\n",
        },
    )
    found = {rel for _, rel in scan(tmp_path, extra_ignored=lambda p: p.endswith("private.py"))}
    assert found == {"src/keep.py"}
    for name in (
        ".env",
        ".env.local",
        "a.pem",
        "server.key",
        "id_rsa",
        "id_ed25519.pub",
        "credentials.json",
        ".npmrc",
    ):
        assert is_secret(name), name
    assert not is_secret("secrets_test_helpers.py") and not is_secret("environment.py")


def test_large_binary_and_minified_files_are_skipped(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "big.py": "x = 1\n" * (MAX_FILE_BYTES // 6 + 10),
            "blob.py": b"\x00\x01\x02def f(): pass\n",
            "app.min.js": "function a(){}\n",
            "bundle.js": "var a=" + "1+" * 5000 + "1;\n",
            "ok.js": "function ok() {}\n",
        },
    )
    results = {rel: extract_file(str(tmp_path / rel), rel) for _, rel in scan(tmp_path)}
    assert {rel for rel, e in results.items() if e is not None} == {"ok.js"}


def test_max_files_bound(tmp_path: Path) -> None:
    write(tmp_path, {f"m{i}.py": f"def f{i}(): pass\n" for i in range(30)})
    assert len(scan(tmp_path, max_files=10)) == 10
    index = WorkspaceIndex()
    assert asyncio.run(index.build([tmp_path], max_files=10)) == 10


def test_incremental_updates(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "def alpha(): pass\n", "b.py": "def beta(): pass\n"})

    async def run() -> None:
        docs = DocumentStore()
        service = ContextService(docs, lambda: True)
        service.set_roots([str(tmp_path)])
        task = service.start_indexing(100)
        assert task is not None
        assert await task == 2
        index = service.index
        assert [d.name for d in index.lookup("alpha")] == ["alpha"]

        # An edit in the editor: re-extracted from the document's own tree, debounced.
        uri = (tmp_path / "a.py").as_uri()
        docs.open(uri, "python", 1, "def alpha(): pass\n")
        service.on_open(uri)
        change = TextChange(Range(Position(0, 4), Position(0, 9)), "gamma")
        docs.change(uri, 2, [change])
        service.on_change(uri, [change])
        assert index.lookup("gamma") == []  # not yet: debounced
        service.on_save(uri)  # a save flushes at once
        assert [d.name for d in index.lookup("gamma")] == ["gamma"]
        assert index.lookup("alpha") == []

        # Files changed on disk (workspace/didChangeWatchedFiles).
        (tmp_path / "b.py").write_text("def delta(): pass\n")
        (tmp_path / "c.py").write_text("def epsilon(): pass\n")
        await service.on_watched(
            [((tmp_path / "b.py").as_uri(), False), ((tmp_path / "c.py").as_uri(), False)]
        )
        assert index.lookup("beta") == [] and index.lookup("delta")[0].rel == "b.py"
        assert index.lookup("epsilon")[0].rel == "c.py"
        await service.on_watched([((tmp_path / "c.py").as_uri(), True)])
        assert index.lookup("epsilon") == [] and str(tmp_path / "c.py") not in index.files

    asyncio.run(run())


def test_debounced_reindex_on_change(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "def alpha(): pass\n"})

    async def run() -> None:
        docs = DocumentStore()
        service = ContextService(docs, lambda: True)
        service.set_roots([str(tmp_path)])
        uri = (tmp_path / "a.py").as_uri()
        docs.open(uri, "python", 1, "def alpha(): pass\n")
        change = TextChange(None, "def omega(): pass\n")
        docs.change(uri, 2, [change])
        service.on_change(uri, [change])
        await asyncio.sleep(0.7)
        assert [d.name for d in service.index.lookup("omega")] == ["omega"]

    asyncio.run(run())


def test_large_repository_does_not_block_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scanning and parsing run in worker threads, batch by batch, and the loop runs other
    work between batches. Shown by where the work ran, not by timing (a shared machine)."""
    for i in range(3000):
        d = tmp_path / f"pkg{i // 100}"
        d.mkdir(exist_ok=True)
        (d / f"mod{i}.py").write_text(
            f'"""Module {i}."""\nimport os\n\n\ndef func_{i}(x: int) -> int:\n'
            f'    """Double {i}."""\n    return x * 2\n\n\nclass Thing{i}:\n'
            f"    def method(self) -> None:\n        pass\n"
        )
    from lsp_server.context import index as index_module

    threads: list[int] = []
    real_scan, real_batch = index_module.scan, index_module._extract_batch

    def scan(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return real_scan(*args)

    def extract_batch(*args: Any) -> Any:
        threads.append(threading.get_ident())
        return real_batch(*args)

    monkeypatch.setattr(index_module, "scan", scan)
    monkeypatch.setattr(index_module, "_extract_batch", extract_batch)

    async def run() -> tuple[int, int, int]:
        index = WorkspaceIndex()
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0)

        tick = asyncio.ensure_future(ticker())
        count = await index.build([tmp_path])
        done.set()
        await tick
        return count, ticks, threading.get_ident()

    count, ticks, loop_thread = asyncio.run(run())
    assert count == 3000
    batches = len(threads) - 1  # one scan, then the batches
    assert batches >= 10 and loop_thread not in threads
    assert ticks >= batches  # the loop ran other work between batches


def test_update_from_tree_uses_the_document_tree(tmp_path: Path) -> None:
    index = WorkspaceIndex()
    index.roots = [tmp_path]
    path = tmp_path / "m.go"
    doc = Document(path.as_uri(), "go", 1, GO_LIB)
    assert doc.tree is not None and doc.language is not None
    index.update_from_tree(str(path), doc.tree, doc.text, doc.language)
    assert index.lookup("NewCircle")[0].rel == "m.go"
    index.update_from_tree(str(tmp_path.parent / "outside.go"), doc.tree, doc.text, doc.language)
    assert len(index.lookup("NewCircle")) == 1  # files outside the workspace are not indexed


def test_imports_resolve_to_workspace_files_and_packages(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    write(
        root,
        {
            "util.py": "def helper():\n    pass\n",
            "types.py": "T = 1\n",
            "core/__init__.py": "from .models import Item\n",
            "core/models.py": "class Item:\n    pass\n",
            "core/types.py": "U = 1\n",
            "core/testing.py": "class Result:\n    def stdout(self): ...\n",
            "core/view.py": (
                "from . import models\nfrom ..util import helper\nfrom .models import Item\n"
                "from shop.core.types import U\nimport lsprotocol.types\nimport collections\n"
            ),
            "web/src/api.ts": "export function get() {}\n",
            "web/src/lib/index.ts": "export const x = 1;\n",
            "web/src/main.ts": (
                "import { get } from './api.js';\nimport { x } from './lib';\n"
                "import { y } from 'react';\n"
            ),
            "cmd/server/main.go": (
                'package main\n\nimport (\n\t"fmt"\n\t"example.com/shop/internal/store"\n)\n'
            ),
            "internal/store/store.go": "package store\n\nfunc Get() {}\n",
            "internal/fmt/fmt.go": "package fmt\n\nfunc Local() {}\n",
        },
    )
    index = WorkspaceIndex()
    asyncio.run(index.build([root]))

    def linked(rel: str) -> tuple[set[str], set[str]]:
        entry = index.entry(str(root / rel))
        assert entry is not None
        got = index.linked(entry)
        return (
            {Path(p).relative_to(root).as_posix() for p in got.files},
            {Path(p).relative_to(root).as_posix() for p in got.dirs},
        )

    files, dirs = linked("core/view.py")
    # Relative imports, and the absolute one through the workspace folder's own name; not
    # `lsprotocol.types` (another package's module) even though there is a types.py here.
    # `from . import models`: the package's __init__ and the submodule named, not the other
    # files of its folder (core/testing.py).
    assert files == {"util.py", "core/__init__.py", "core/models.py", "core/types.py"}
    assert dirs == set()
    files, dirs = linked("web/src/main.ts")
    assert files == {"web/src/api.ts"} and dirs == {"web/src/lib"}  # 'react': not here
    files, dirs = linked("cmd/server/main.go")
    # The import path's tail names a folder; "fmt" (one part, no domain) is the standard one.
    assert files == set() and dirs == {"internal/store"}
    entry = index.entry(str(root / "core/view.py"))
    assert entry is not None
    assert str(root / "core/models.py") in index.linked(entry)
    assert str(root / "web/src/api.ts") not in index.linked(entry)
    # Removing a file forgets its module keys.
    index.remove(str(root / "util.py"))
    assert linked("core/view.py")[0] == {"core/__init__.py", "core/models.py", "core/types.py"}


def test_a_comment_at_the_end_of_a_line_documents_that_line(tmp_path: Path) -> None:
    """Go const blocks comment each name at the end of its line: that comment is its doc, not
    the doc of the name below it."""
    go = (
        "package parse\n\nconst (\n\titemKeyword // used only to delimit the keywords\n"
        "\titemBlock    // block keyword\n\t// Break leaves a loop.\n\titemBreak\n"
        "\titemContinue\n)\n"
    )
    write(tmp_path, {"lex.go": go})
    defs = defs_of(tmp_path / "lex.go")
    assert defs["itemKeyword"][2] == "used only to delimit the keywords"
    assert defs["itemBlock"][2] == "block keyword"
    assert defs["itemBreak"][2] == "Break leaves a loop."
    assert defs["itemContinue"][2] == ""


def test_files_by_folder_follow_puts_and_removes(tmp_path: Path) -> None:
    for rel in ("a/x.py", "a/y.py", "b/z.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("def f():\n    pass\n")
    index = WorkspaceIndex()
    asyncio.run(index.build([tmp_path]))
    a = str(tmp_path / "a")
    assert index.in_folder(a) == [f"{a}/x.py", f"{a}/y.py"]
    index.remove(f"{a}/x.py")
    assert index.in_folder(a) == [f"{a}/y.py"]
    index.remove(f"{a}/y.py")
    assert index.in_folder(a) == [] and index.in_folder(str(tmp_path / "b")) == [
        str(tmp_path / "b" / "z.py")
    ]
