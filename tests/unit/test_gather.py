"""Repository context for completions: which definitions are gathered, the recent-chunk ring
buffer, the multi-file prompt and its fallback, and the anchor keeping the context stable."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

from lsp_server.context.documents import Document, DocumentSnapshot
from lsp_server.context.gather import (
    MIN_SIMILARITY,
    GatheredContext,
    RecentChunks,
    SimilarCode,
    band_of,
    base_names,
    find_similar,
    gather,
    imported_uses,
    is_whole,
    names_near,
    nearest_uses,
    query_words,
    render_file_definitions,
)
from lsp_server.context.index import WorkspaceIndex
from lsp_server.context.syntax import count_error_nodes
from lsp_server.features.completion import Completer
from lsp_server.model.protocol import (
    CompletionJob,
    GenerationResult,
    RunJob,
    decode_command,
    encode,
)
from lsp_server.prompts.fim import PromptParts, build_prompt, get_template, prompt_for_job
from lsp_server.settings import CompletionSettings

LIB = '''"""Geometry."""


def polygon_area(points: list[tuple[float, float]]) -> float:
    """Area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        total += x1 * y2 - x2 * y1
        total += 0
        total += 0
    return abs(total) / 2


def unrelated_helper(x: int) -> int:
    """Never used by main."""
    return x
'''

MAIN = (
    """from geometry import polygon_area


def field_size(corners):
    area = polygon_area(corners)
    return """
    + " \n"
)


def build_index(tmp_path: Path, files: dict[str, str]) -> WorkspaceIndex:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    index = WorkspaceIndex()
    asyncio.run(index.build([tmp_path]))
    return index


def snapshot(path: Path, text: str, language: str) -> DocumentSnapshot:
    return Document(path.as_uri(), language, 1, text).snapshot()


def test_definition_of_symbol_used_at_cursor_comes_from_another_file(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"geometry.py": LIB, "main.py": MAIN})
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    offset = MAIN.index("return ") + len("return ")
    ctx = gather(snap, offset, index, RecentChunks(), 256)
    assert ctx.repo == tmp_path.name and ctx.path == "main.py"
    assert [p for p, _ in ctx.files] == ["geometry.py"]
    content = ctx.files[0][1]
    assert "def polygon_area(points: list[tuple[float, float]]) -> float:" in content
    assert "Area of a simple polygon" in content
    assert "total += x1" not in content  # a signature, not the whole body
    assert "unrelated_helper" not in content  # not used near the cursor


def test_current_file_definitions_are_excluded_and_budget_holds(tmp_path: Path) -> None:
    many = "\n".join(f"def helper_{i}(value: int) -> int:\n    return value\n" for i in range(50))
    uses = "\n".join(f"    helper_{i}(1)" for i in range(8))
    main = f"from lib import *\n\ndef own():\n    pass\n\ndef run():\n{uses}\n    own()\n    \n"
    index = build_index(tmp_path, {"lib.py": many, "main.py": main})
    snap = snapshot(tmp_path / "main.py", main, "python")
    ctx = gather(snap, len(main) - 1, index, RecentChunks(), 40)
    text = "".join(c for _, c in ctx.files)
    assert "def own" not in text
    assert 0 < len(text) <= 40 * 3
    assert "helper_" in text


def test_context_is_stable_while_the_cursor_moves_within_a_band(tmp_path: Path) -> None:
    lib = "".join(f"def helper_{i}(value: int) -> int:\n    return value\n\n" for i in range(40))
    body = "".join(f"    helper_{i}(1)\n" for i in range(40))
    main = f"from lib import *\n\n\ndef run():\n{body}"
    index = build_index(tmp_path, {"lib.py": lib, "main.py": main})
    snap = snapshot(tmp_path / "main.py", main, "python")
    lines = main.split("\n")

    def at_line(row: int) -> GatheredContext:
        offset = sum(len(line) + 1 for line in lines[:row]) + 4
        return gather(snap, offset, index, RecentChunks(), 64)

    assert at_line(16).files == at_line(19).files == at_line(23).files
    assert at_line(16).files != at_line(40).files


def test_typescript_and_go_cross_file(tmp_path: Path) -> None:
    ts_lib = (
        "export function formatPrice(cents: number, currency: string): string {\n"
        + ("  const a = 1;\n" * 8)
        + "  return `${cents}`;\n}\n"
    )
    ts_main = 'import { formatPrice } from "./lib";\n\nconst label = formatPrice(100, "EUR");\n'
    go_lib = (
        "package shop\n\n// Discount applies a rate.\n"
        "func Discount(p float64, rate float64) float64 {\n"
        + ("\tp = p * 1\n" * 8)
        + "\treturn p * (1 - rate)\n}\n"
    )
    go_main = "package shop\n\nfunc Total(p float64) float64 {\n\treturn Discount(p, 0.1)\n}\n"
    index = build_index(
        tmp_path, {"lib.ts": ts_lib, "main.ts": ts_main, "lib.go": go_lib, "main.go": go_main}
    )
    ts = gather(
        snapshot(tmp_path / "main.ts", ts_main, "typescript"),
        len(ts_main),
        index,
        RecentChunks(),
        256,
    )
    assert ts.files and "export function formatPrice(cents: number" in ts.files[-1][1]
    go = gather(
        snapshot(tmp_path / "main.go", go_main, "go"), len(go_main) - 3, index, RecentChunks(), 256
    )
    assert go.files[-1] == (
        "lib.go",
        "package shop\n\n"  # the package line: whether its names need a qualifier here
        "// Discount applies a rate.\n"
        "func Discount(p float64, rate float64) float64 { /* ... */ }\n",
    )


def test_base_class_members_are_followed_where_the_base_is_not_imported(tmp_path: Path) -> None:
    base = (
        "class Base:\n    def send_request(self, method: str, params: object) -> int:\n"
        '        """Send a request and wait for its answer."""\n        return 0\n'
    )
    mid = "from .base import Base\n\n\nclass Middle(Base):\n    pass\n"
    other = "class Unrelated:\n    def close_all(self) -> None:\n        pass\n"
    main = (
        "from .mid import Middle\n\n\nclass Client(Middle):\n    def run(self):\n"
        "        self.close_all()\n        return self.send_request('x', None)\n"
    )
    files = {"pkg/base.py": base, "pkg/mid.py": mid, "pkg/other.py": other, "pkg/main.py": main}
    index = build_index(tmp_path, files)
    snap = snapshot(tmp_path / "pkg/main.py", main, "python")
    ctx = gather(snap, main.index("return self"), index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    # Two steps up from Client, in a file main.py does not import.
    assert "def send_request(self, method: str, params: object) -> int:" in text
    assert "close_all" not in text  # a method of a class that is not a base of Client

    ts_node = "export class Node {\n  cloneNode(deep: boolean): Node {\n    return this;\n  }\n}\n"
    ts_main = (
        'import { Node } from "@lib/dom";\n\nexport class Element extends Node {\n'
        "  copy(): Node {\n    return this.cloneNode(true);\n  }\n}\n"
    )
    index = build_index(tmp_path / "ts", {"dom/node.ts": ts_node, "element.ts": ts_main})
    snap = snapshot(tmp_path / "ts/element.ts", ts_main, "typescript")
    ctx = gather(snap, ts_main.index("return this"), index, RecentChunks(), 256)
    assert "cloneNode(deep: boolean): Node" in "".join(c for _, c in ctx.files)


def test_methods_of_imported_classes_used_farther_away_come_in(tmp_path: Path) -> None:
    fmt = (
        "class Formatter:\n    def write_paragraph(self) -> None:\n        pass\n\n"
        "    def indent(self) -> None:\n        pass\n"
    )
    other = "class Stream:\n    def flush_lines(self) -> None:\n        pass\n"
    filler = "".join(f"    x{i} = {i}\n" for i in range(40))
    main = (
        "from .fmt import Formatter\n\n\ndef first(formatter: Formatter, out):\n"
        "    formatter.write_paragraph()\n    out.flush_lines()\n"
        f"{filler}\n\ndef second(formatter: Formatter):\n    formatter.indent()\n    \n"
    )
    files = {"pkg/fmt.py": fmt, "pkg/other.py": other, "pkg/main.py": main}
    index = build_index(tmp_path, files)
    snap = snapshot(tmp_path / "pkg/main.py", main, "python")
    ctx = gather(snap, len(main) - 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "def write_paragraph(self) -> None:" in text  # used 45 lines up, on a Formatter
    assert "flush_lines" not in text  # used as far, but Stream is not a class in scope


def test_base_names_of_class_headers() -> None:
    assert base_names("class A(mod.B, C[T], metaclass=M):") == ["B", "C"]
    assert base_names("export class A<T> extends B<T> implements I, J {") == ["B", "I", "J"]
    assert base_names("class A:") == []


def test_time_budget_is_honoured(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"geometry.py": LIB, "main.py": MAIN})
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    ctx = gather(snap, len(MAIN) - 1, index, RecentChunks(), 256, time_budget_s=-1)
    assert ctx.files == ()


def test_names_near_cursor_come_from_the_tree() -> None:
    text = "import os\n" + "x = 1\n" * 30 + "value = compute(alpha, 'beta')  # gamma\n"
    snap = Document("file:///w/a.py", "python", 1, text).snapshot()
    names = names_near(snap, len(text) - 1)
    assert {"value", "compute", "alpha"} <= set(names)
    assert "beta" not in names and "gamma" not in names and "os" not in names


def test_ring_buffer_dedupe_and_bounds() -> None:
    ring = RecentChunks(size=3, lines=4)
    lines = [f"line {i}" for i in range(100)]
    ring.add("/w/a.py", lines, 10)
    ring.add("/w/a.py", lines, 11)  # overlaps the first: replaces it
    assert [(c.path, c.start) for c in ring.chunks()] == [("/w/a.py", 9)]
    ring.add("/w/b.py", lines, 11)  # same lines in another file: a near-duplicate
    assert [c.path for c in ring.chunks()] == ["/w/b.py"]
    ring.add("/w/b.py", [*lines[:40], "changed", *lines[41:]], 41)
    ring.add("/w/c.py", lines, 70)
    ring.add("/w/d.py", lines, 90)
    assert [c.path for c in ring.chunks()] == ["/w/b.py", "/w/c.py", "/w/d.py"]  # size bound
    ring.add("/w/.env.py", lines, 50)  # secrets never enter
    assert "/w/.env.py" not in [c.path for c in ring.chunks()]


def test_recent_chunks_that_share_names_with_the_cursor_are_gathered(tmp_path: Path) -> None:
    index = build_index(tmp_path, {"main.py": MAIN})
    ring = RecentChunks()
    related = [f"OTHER_{i} = {i}" for i in range(40)]
    related[20] = "survey = field_size(corners) + polygon_area(corners)"
    ring.add(str(tmp_path / "notes.py"), related, 20)
    unrelated = [f"UNRELATED_{i} = {i}" for i in range(40)]
    ring.add(str(tmp_path / "misc.py"), unrelated, 20)
    ring.add(str(tmp_path / "main.py"), MAIN.split("\n"), 3)
    snap = snapshot(tmp_path / "main.py", MAIN, "python")
    ctx = gather(snap, len(MAIN) - 1, index, ring, 256)
    # The chunk that uses names near the cursor is kept; the unrelated one is left out.
    assert [p for p, _ in ctx.files] == ["notes.py"]
    assert "survey = field_size(corners)" in ctx.files[0][1]


def count(text: str) -> int:
    return len(text) // 4 + 1


def test_multi_file_prompt_for_qwen() -> None:
    qwen = get_template("qwen2.5-coder")
    parts = PromptParts(
        prefix="x = area(",
        suffix=")\n",
        path="main.py",
        context_files=(("a.py", "A = 1"), ("geo.py", "def area(p): ...\n")),
        repo="proj",
    )
    built = build_prompt(qwen, parts, count, 200, context_budget=100)
    assert built.text == (
        "<|repo_name|>proj\n<|file_sep|>a.py\nA = 1\n<|file_sep|>geo.py\ndef area(p): ...\n"
        "<|file_sep|>main.py\n<|fim_prefix|>x = area(<|fim_suffix|>)\n<|fim_middle|>"
    )
    assert built.files_used == ("a.py", "geo.py")
    # Over the context budget: the most relevant (last) file is kept first.
    small = build_prompt(qwen, parts, count, 200, context_budget=12)
    assert small.files_used == ("geo.py",)
    assert small.text.startswith("<|repo_name|>proj\n<|file_sep|>geo.py\n")
    # No context files: the prompt is exactly as before.
    plain = build_prompt(qwen, PromptParts("x = area(", ")\n", "main.py"), count, 200)
    assert (
        plain.text == "<|file_sep|>main.py\n<|fim_prefix|>x = area(<|fim_suffix|>)\n<|fim_middle|>"
    )


def test_context_files_have_their_own_share_and_the_code_window_stays() -> None:
    qwen = get_template("qwen2.5-coder")
    prefix = "".join(f"line_{i} = {i}\n" for i in range(200)) + "x = area("
    code = PromptParts(prefix=prefix, suffix=")\n", path="main.py", extra_context="import geo")
    # The most relevant file (last) is over the share: its first lines are kept, and the less
    # relevant file after it is left out rather than taking its place.
    big = "".join(f"def area_{i}(p): ...\n" for i in range(40))
    parts = dataclasses.replace(code, context_files=(("small.py", "S = 1\n"), ("geo.py", big)))
    built = build_prompt(qwen, parts, count, 400, context_budget=100)
    assert built.files_used == ("geo.py",)
    assert "def area_0(p): ...\ndef area_1(p): ...\n" in built.text
    assert "def area_39" not in built.text and "small.py" not in built.text
    # The code gets the budget minus the files' share, used or not: the same window as the
    # same prompt without context files and a budget without that share.
    alone = build_prompt(qwen, code, count, 300)
    tiny = dataclasses.replace(code, context_files=(("a.py", "A = 1\n"),))
    for with_files in (built, build_prompt(qwen, tiny, count, 400, context_budget=100)):
        assert with_files.prefix_used == alone.prefix_used
        assert with_files.suffix_used == alone.suffix_used
        assert with_files.context_used == alone.context_used


def test_context_files_fall_back_to_comments() -> None:
    codellama = get_template("codellama")
    assert codellama.multi_file is None
    parts = PromptParts(
        prefix="let x = area(",
        suffix="",
        path="main.ts",
        extra_context="import { area } from './geo';",
        context_files=(("geo.ts", "export function area(p: P): number { ... }\n"),),
        comment_prefix="//",
    )
    built = build_prompt(codellama, parts, count, 200, context_budget=100)
    assert built.text.startswith(
        "<PRE> // geo.ts\n// export function area(p: P): number { ... }\n"
        "import { area } from './geo';\nlet x = area("
    )


def test_job_fields_reach_the_prompt() -> None:
    job = CompletionJob(
        prefix="x = area(",
        suffix="",
        path="main.py",
        context_files=(("geo.py", "def area(p): ...\n"),),
        context_budget=64,
        repo="proj",
    )
    command = decode_command(encode(RunJob(1, job)))  # as the worker receives it
    assert isinstance(command, RunJob) and isinstance(command.job, CompletionJob)
    built = prompt_for_job(get_template("qwen2.5-coder"), command.job, count, 4096)
    assert "<|file_sep|>geo.py\ndef area(p): ...\n<|file_sep|>main.py\n" in built.text


class Recorder:
    def __init__(self) -> None:
        self.jobs: list[CompletionJob] = []

    async def __call__(self, uri: str, job: CompletionJob, background: bool) -> GenerationResult:
        self.jobs.append(job)
        return GenerationResult("")


def test_anchor_keeps_the_context_while_typing() -> None:
    calls: list[int] = []

    def fake_gather(snap: DocumentSnapshot, offset: int, budget: int) -> GatheredContext:
        calls.append(offset)
        return GatheredContext((("lib.py", f"def f{len(calls)}(): ...\n"),), "pkg/main.py", "proj")

    model = Recorder()
    completer = Completer(model, gather=fake_gather)
    settings = CompletionSettings(prefetch=False)
    text = "def g():\n    return \n"
    cursor = text.index("return ") + len("return ")

    async def run() -> None:
        for typed in ("", "f", "f1"):
            t = text[:cursor] + typed + text[cursor:]
            snap = Document("file:///w/pkg/main.py", "python", 1, t).snapshot()
            await completer.complete(snap, snap.position_at(cursor + len(typed)), settings)

    asyncio.run(run())
    assert len(calls) == 1
    assert [j.context_files for j in model.jobs] == [(("lib.py", "def f1(): ...\n"),)] * 3
    job = model.jobs[0]
    assert job.path == "pkg/main.py" and job.repo == "proj"
    assert job.budget == settings.contextTokens + settings.contextFiles
    # Without context files the job is as before.
    off = Completer(Recorder(), gather=lambda s, o, b: GatheredContext())
    rec = off.submit
    snap = Document("file:///w/pkg/main.py", "python", 1, text).snapshot()
    asyncio.run(off.complete(snap, snap.position_at(cursor), settings))
    assert isinstance(rec, Recorder)
    assert rec.jobs[0].path == "main.py" and rec.jobs[0].budget == settings.contextTokens


def test_only_definitions_the_file_can_reach_are_gathered(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/pricing.py": (
            "def discount(price: float, rate: float) -> float:\n"
            '    """Price less the rate."""\n'
            "    return price * (1 - rate)\n"
        ),
        "shop/cart.py": (
            "class Cart:\n    def checkout(self, total: float) -> float:\n        return total\n"
        ),
        # Same names elsewhere, in files main.py does not import: look-alikes.
        "legacy/pricing_v1.py": "def discount(price, percent):\n    return price\n",
        "legacy/report.py": (
            "def total(rows):\n    return sum(rows)\n\n"
            "class Printer:\n    def checkout(self):\n        pass\n"
        ),
        "main.py": (
            "from shop.pricing import discount\nimport shop.cart\n\n\n"
            "def label(price):\n    return str(price)\n\n\n"
            "def run(cart, price):\n"
            "    total = discount(price, 0.1)\n"
            "    paid = cart.checkout(total)\n"
            "    text = label(paid)\n"
            "    \n"
        ),
    }
    index = build_index(tmp_path, files)
    main = files["main.py"]
    snap = snapshot(tmp_path / "main.py", main, "python")
    ctx = gather(snap, len(main) - 1, index, RecentChunks(), 256)
    got = dict(ctx.files)
    # The imported name comes from the module it is imported from, not its namesake.
    assert "def discount(price: float, rate: float) -> float:" in got["shop/pricing.py"]
    assert "legacy/pricing_v1.py" not in got
    # A method called on an object is taken from a file the current file imports only.
    assert "def checkout(self, total: float) -> float:" in got["shop/cart.py"]
    # `total` is a local variable here: its namesake in an unrelated file is not gathered,
    # nor is `label`, which the current file defines itself.
    assert "legacy/report.py" not in got
    assert "label" not in "".join(got.values())
    # Most relevant last: the imported name before the method found through `import shop.cart`.
    assert [p for p, _ in ctx.files] == ["shop/cart.py", "shop/pricing.py"]


def test_an_import_that_cannot_be_resolved_falls_back_to_the_name(tmp_path: Path) -> None:
    files = {
        "src/app/geometry.py": LIB,
        # `geo` is not a module of the workspace (an alias, a re-export or an installed path).
        "main.py": "from geo import polygon_area\n\n\ndef size(c):\n    return \n",
    }
    index = build_index(tmp_path, files)
    snap = snapshot(tmp_path / "main.py", files["main.py"], "python")
    ctx = gather(snap, len(files["main.py"]) - 1, index, RecentChunks(), 256)
    assert [p for p, _ in ctx.files] == ["src/app/geometry.py"]
    assert "def polygon_area(" in ctx.files[0][1]


def test_go_uses_its_own_package_not_another_folder(tmp_path: Path) -> None:
    files = {
        "proxy/socket.go": (
            "package proxy\n\n// Listen opens the socket.\n"
            "func (s Socket) Listen() (net.Listener, error) {\n\treturn nil, nil\n}\n"
        ),
        "other/socket.go": "package other\n\nfunc (s Sock) Listen() error {\n\treturn nil\n}\n",
        "proxy/proxy.go": (
            "package proxy\n\nfunc (p *Proxy) Run() error {\n"
            "\tl, err := DefaultSocket.Listen()\n\t\n\treturn err\n}\n"
        ),
    }
    index = build_index(tmp_path, files)
    main = files["proxy/proxy.go"]
    snap = snapshot(tmp_path / "proxy/proxy.go", main, "go")
    offset = main.index("\t\n") + 1
    ctx = gather(snap, offset, index, RecentChunks(), 256)
    assert [p for p, _ in ctx.files] == ["proxy/socket.go"]
    assert "func (s Socket) Listen() (net.Listener, error)" in ctx.files[0][1]


def test_a_cut_signature_is_left_out_and_classes_are_closed(tmp_path: Path) -> None:
    params = "".join(f"    option_{i}: int = {i},\n" for i in range(12))
    lib = (
        f"def prompt(\n{params}) -> str:\n    return ''\n\n\n"
        "def confirm(text: str) -> bool:\n    return True\n"
    )
    main = (
        "from lib import confirm, prompt\n\n\ndef ask():\n    prompt(1)\n    confirm('x')\n    \n"
    )
    index = build_index(tmp_path, {"lib.py": lib, "main.py": main})
    [prompt] = index.lookup("prompt")
    assert prompt.signature == "def prompt("  # the index keeps the first line of a long header
    ctx = gather(
        snapshot(tmp_path / "main.py", main, "python"), len(main) - 1, index, RecentChunks(), 256
    )
    text = "".join(c for _, c in ctx.files)
    assert "def confirm(text: str) -> bool:" in text
    assert "def prompt(" not in text

    ts = (
        "export class Emitter {\n  on(type: string): void {\n    this.x = type;\n  }\n}\n"
        "export class Queue {\n  push(item: string): void {\n    this.items = [item];\n  }\n}\n"
    )
    index = build_index(tmp_path, {"events.ts": ts})
    rendered = render_file_definitions([*index.lookup("on"), *index.lookup("push")])
    assert rendered == (
        "export class Emitter {\n    on(type: string): void {\n      this.x = type;\n    }\n}\n"
        "export class Queue {\n    push(item: string): void {\n      this.items = [item];\n"
        "    }\n}\n"
    )


def test_imported_names_rank_by_where_the_file_uses_them(tmp_path: Path) -> None:
    """Imported names not used near the cursor: a name imported and not used yet first (the
    import was written for code to come), then by the distance of their nearest use; the
    import line itself is not a use."""
    filler = "".join(f"x{i} = {i}\n" for i in range(60))
    text = (
        "from lib import far_away, close_by, not_yet, seen_here\n"
        + "far_away()\n"
        + filler
        + "close_by()\n"
        + "seen_here()\n"
        + "\n"
    )
    lib = "".join(f"def {n}(a, b):\n    return a\n\n\n" for n in ("far_away", "not_yet"))
    index = build_index(tmp_path, {"lib.py": lib, "main.py": text})
    snap = snapshot(tmp_path / "main.py", text, "python")
    offset = len(text) - 1
    near = names_near(snap, offset)
    assert "seen_here" in near and "close_by" in near and "far_away" not in near
    names = ["far_away", "close_by", "not_yet", "seen_here"]
    uses = imported_uses(snap, offset, names, near)
    assert set(uses) == {"far_away", "not_yet"}  # the near ones are ranked as near
    assert uses["not_yet"] == 0
    assert uses["far_away"] > 50
    # Room for one definition: the one not used yet.
    ctx = gather(snap, offset, index, RecentChunks(), 20)
    assert [c for _, c in ctx.files] == ["def not_yet(a, b):\n    return a\n"]


def test_an_aliased_import_is_found_by_its_local_name(tmp_path: Path) -> None:
    """`import { update as updateDOM }`: the file uses `updateDOM`. Near the cursor it brings
    `update`'s definition in; far from it, it ranks by where `updateDOM` is used, not as an
    import not used yet."""
    lib = "export function update(a: number): number { return a; }\n"
    lib += "export function later(a: number): number { return a; }\n"
    head = "import { update as updateDOM, later } from './lib';\n"
    filler = "".join(f"const x{i} = {i};\n" for i in range(40))
    near_text = head + filler + "const y = updateDOM(1);\n\n"
    index = build_index(tmp_path, {"lib.ts": lib, "main.ts": near_text})
    snap = snapshot(tmp_path / "main.ts", near_text, "typescript")
    ctx = gather(snap, len(near_text) - 1, index, RecentChunks(), 30)
    assert "function update(" in "".join(c for _, c in ctx.files)
    far_text = head + "updateDOM(0);\n" + filler + "const y = 2;\n\n"
    snap = snapshot(tmp_path / "main.ts", far_text, "typescript")
    offset = len(far_text) - 1
    near = names_near(snap, offset)
    entry = index.entry(str(tmp_path / "main.ts"))
    assert entry is not None and entry.import_aliases == (("update", "updateDOM"),)
    uses = imported_uses(snap, offset, ["update", "later"], near, entry.import_aliases)
    assert uses["later"] == 0 and uses["update"] > 30


def test_use_scan_is_bounded_on_long_lines() -> None:
    far = "x = [first_name, " + ", ".join(["tail_name"] * 40_000) + "]\n"  # a 400 KB line
    text = far + "\n" * 20 + "near_name = 1\n" + "\n" * 20 + "y = \n"
    snap = Document("file:///w/long.py", "python", 1, text).snapshot()
    found = nearest_uses(snap, len(text) - 1, window_lines=300)
    assert found["near_name"] == 19  # line 21; the cursor's band starts at line 40
    assert found["tail_name"] == 40  # the line's end is within reach
    assert "first_name" not in found  # its start is not: over MAX_USE_SCAN / 2 characters away


GO_LEX = (
    "package parse\n\nconst (\n\titemError itemType = iota // error occurred\n"
    "\titemBlock    // block keyword\n\titemBreak    // break keyword\n"
    "\titemContinue // continue keyword\n\titemDot      // the cursor\n"
    "\titemElse     // else keyword\n\titemEnd      // end keyword\n)\n\n"
    "func lexText(l *lexer) stateFn { return nil }\n"
)
GO_PARSE = (
    "package parse\n\nfunc (t *Tree) action() Node {\n\tswitch token := t.next(); token.typ {\n"
    "\tcase itemBlock:\n\t\treturn t.blockControl()\n\tcase itemBreak:\n\t\treturn nil\n"
    "\t\n\t\treturn t.continueControl()\n\t}\n\treturn nil\n}\n"
)


def test_neighbours_of_what_the_code_uses_come_in(tmp_path: Path) -> None:
    """The line being written often uses the neighbour of what the code around uses: the next
    constant of a block, another method of the same type. Each name in a const block is
    rendered with its own end-of-line comment."""
    index = build_index(tmp_path, {"parse/lex.go": GO_LEX, "parse/parse.go": GO_PARSE})
    snap = snapshot(tmp_path / "parse/parse.go", GO_PARSE, "go")
    ctx = gather(snap, GO_PARSE.index("\t\n") + 1, index, RecentChunks(), 256)
    [(path, text)] = ctx.files
    assert path == "parse/lex.go"
    assert "itemContinue  // continue keyword" in text  # not used anywhere in parse.go
    assert "itemBreak  // break keyword" in text
    assert "lexText" not in text  # not a neighbour in its group, shares no word


def test_method_neighbours_must_share_a_word_with_the_used_method(tmp_path: Path) -> None:
    lib = (
        "class HelpFormatter:\n    def write_usage(self, prog: str) -> None:\n        pass\n\n"
        "    def write_paragraph(self) -> None:\n        pass\n\n"
        "    def indent(self) -> None:\n        pass\n"
    )
    main = (
        "from formatting import HelpFormatter\n\n\n"
        "def format_help(formatter: HelpFormatter) -> None:\n"
        "    formatter.write_usage('x')\n    \n"
    )
    index = build_index(tmp_path, {"formatting.py": lib, "main.py": main})
    snap = snapshot(tmp_path / "main.py", main, "python")
    ctx = gather(snap, len(main) - 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "def write_paragraph(self) -> None:" in text  # beside write_usage, shares "write"
    assert "def indent" not in text


def test_a_group_shown_with_a_hole_gets_the_missing_members(tmp_path: Path) -> None:
    """The code around uses `mode()` and `gid()` of headerV7, the line being written `uid()`,
    which comes between them: shown without it, the list reads as complete and the model
    writes the member after the hole. Wider holes are left alone."""
    fmt = "package tar\n\ntype headerV7 [512]byte\n\n" + "".join(
        f"func (h *headerV7) {n}() []byte {{ return h[{i}:][:8] }}\n"
        for i, n in enumerate(("name", "mode", "uid", "gid", "size", "a1", "a2", "a3", "chk"))
    )
    writer = (
        "package tar\n\nfunc write(v7 *headerV7) {\n\tfmtNum(v7.mode(), 1)\n\t\n"
        "\tfmtNum(v7.gid(), 2)\n\tfmtNum(v7.size(), 3)\n\tfmtNum(v7.chk(), 4)\n}\n"
    )
    index = build_index(tmp_path, {"format.go": fmt, "writer.go": writer})
    snap = snapshot(tmp_path / "writer.go", writer, "go")
    ctx = gather(snap, writer.index("\t\n") + 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "uid() []byte" in text  # in the hole between mode and gid
    assert "a1()" not in text  # a hole of three, between size and chk
    assert "name()" not in text  # before the first one shown: not a hole


GO_FORMAT = (
    "package tar\n\nconst (\n\t_ Format = (1 << iota) / 4\n\tFormatUnknown // unknown\n"
    "\tformatV7\n)\n\nconst blockSize = 512\n\ntype (\n\tsparseDatas []sparseEntry\n)\n\n"
    "// Reader reads.\ntype Reader struct {\n"
    + "".join(f"\tf{i} int\n" for i in range(12))
    + "}\n\nfunc (tr *Reader) Next() (*Header, error) {\n"
    + "".join(f"\tx{i} := {i}\n" for i in range(12))
    + "\treturn nil, nil\n}\n"
)
TS_OPTIONS = (
    "export interface Options\n  extends Base, Omit<Other, 'xml'> {\n"
    + "".join(f"  f{i}?: number;\n" for i in range(12))
    + "}\n\nexport abstract class Cheerio<T> implements ArrayLike<T> {\n"
    + "".join(f"  p{i} = {i};\n" for i in range(12))
    + "}\n\nexport const createEvents = (): Events => {\n  return {\n"
    + "    onReport(handler: Handler) {\n      emit(handler);\n    },\n  };\n"
    + "".join(f"  const x{i} = {i};\n" for i in range(8))
    + "};\n\nexport function css<T>(\n  this: Cheerio<T>,\n"
    + "".join(f"  value{i}?: string | string[] | Record<string, string>,\n" for i in range(6))
    + "): Cheerio<T> | Record<string, string> {\n  return this;\n}\n"
)


def test_rendered_context_files_are_valid_code(tmp_path: Path) -> None:
    """Bodies left out as `{ /* ... */ }`, Go specs back in their `const ( ... )` block, class
    and interface headers closed: a context file parses like the code the model learned
    from. An object literal's method is not indexed (alone it is not code) and a signature cut
    by length is cut at a line's end, so it shows as cut and is left out."""
    index = build_index(tmp_path, {"format.go": GO_FORMAT, "options.ts": TS_OPTIONS})
    for rel, language in (("format.go", "go"), ("options.ts", "typescript")):
        entry = index.entry(str(tmp_path / rel))
        assert entry is not None
        defs = [d for d in entry.definitions if is_whole(d.signature)]
        text = render_file_definitions(defs, entry.preamble)
        tree = Document(f"file:///w/{rel}", language, 1, text).snapshot().tree
        assert count_error_nodes(tree) == 0, text
        assert text.startswith("package tar\n\nconst (\n") == (language == "go")
        if language == "go":
            assert "_ Format" not in text  # the blank identifier is no definition
            assert "const (\n\tFormatUnknown  // unknown\n\tformatV7\n)" in text
            assert "const blockSize = 512" in text
            assert "type (\n\tsparseDatas []sparseEntry\n)" in text
            assert "type Reader struct { /* ... */ }" in text
            assert "func (tr *Reader) Next() (*Header, error) { /* ... */ }" in text
        else:
            assert "onReport" not in text
            assert (
                "export interface Options\n  extends Base, Omit<Other, 'xml'> { /* ... */ }" in text
            )
            assert "export abstract class Cheerio<T> implements ArrayLike<T> { /* ... */ }" in text
            assert "export const createEvents = (): Events => { /* ... */ }" in text
            assert "css" not in text  # its header was too long: cut, so not whole


def test_a_whole_one_line_function_is_rendered_as_it_is(tmp_path: Path) -> None:
    go = "package tar\n\nfunc (h *headerV7) mode() []byte { return h[100:][:8] }\n"
    index = build_index(tmp_path, {"format.go": go})
    assert render_file_definitions(index.lookup("mode")) == (
        "func (h *headerV7) mode() []byte { return h[100:][:8] }\n"
    )


def test_a_typescript_function_with_a_this_parameter_is_a_method_of_that_class(
    tmp_path: Path,
) -> None:
    """Mixin style (cheerio): `function find(this: Cheerio<T>, ...)` in one file is called as
    `this.find(...)` in another that does not import it."""
    files = {
        "cheerio.ts": "export class Cheerio<T> {\n  length = 0;\n}\n",
        "traversing.ts": (
            "import type { Cheerio } from './cheerio.js';\n\n"
            "export function find<T>(this: Cheerio<T>, selector: string): Cheerio<T> {\n"
            "  return this;\n}\n"
        ),
        "attributes.ts": (
            "import type { Cheerio } from './cheerio.js';\n\n"
            "export function val<T>(this: Cheerio<T>, value: string): Cheerio<T> {\n"
            '  const option = this.find(`option[value="${value}"]`);\n  \n  return this;\n}\n'
        ),
    }
    index = build_index(tmp_path, files)
    main = files["attributes.ts"]
    snap = snapshot(tmp_path / "attributes.ts", main, "typescript")
    ctx = gather(snap, main.index("  \n") + 2, index, RecentChunks(), 384)
    text = "".join(c for _, c in ctx.files)
    assert "export function find<T>(this: Cheerio<T>, selector: string): Cheerio<T>" in text


def test_opening_adds_no_chunk_and_focus_adds_the_viewed_region(tmp_path: Path) -> None:
    """An opened file's first lines (imports) would share names with any cursor: the recent
    chunks are where the user looks (enclave/didFocus) and edits."""
    from lsp_server.context.documents import DocumentStore
    from lsp_server.context.gather import ContextService

    store = DocumentStore()
    service = ContextService(store, lambda: True)
    text = "import os\nimport sys\n" + "".join(f"value_{i} = {i}\n" for i in range(200))
    uri = (tmp_path / "big.py").as_uri()
    store.open(uri, "python", 1, text)

    async def open_and_focus() -> None:  # on_open schedules the re-extraction on the loop
        service.on_open(uri)
        assert service.recent.chunks() == []
        service.on_focus(uri, 150)

    asyncio.run(open_and_focus())
    [chunk] = service.recent.chunks()
    assert chunk.start <= 150 < chunk.end and "import os" not in chunk.text


def test_a_large_typescript_enum_is_written_as_its_header_with_a_left_out_body(
    tmp_path: Path,
) -> None:
    source = "export const enum State {\n" + "".join(f"    S{i},\n" for i in range(12)) + "}\n"
    index = build_index(tmp_path, {"state.ts": source})
    text = render_file_definitions(index.lookup("State"))
    assert text == "export const enum State { /* ... */ }\n"
    tree = Document("file:///w/state.ts", "typescript", 1, text).snapshot().tree
    assert count_error_nodes(tree) == 0


# Two converters written alike (as cattrs' preconf modules are) and one unlike them.
CONV_HOOKS = [
    "converter.register_structure_hook(bytes, lambda v, _: bytes(v))",
    "converter.register_unstructure_hook(bytes, bytes.hex)",
    "converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))",
    "converter.register_unstructure_hook(datetime, lambda v: v.isoformat())",
    "converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))",
    "converter.register_unstructure_hook(date, identity)",
    "configure_union_passthrough(Union[str, int, float, bool], converter)",
]


def converter_module(name: str, hooks: list[str]) -> str:
    head = "from .base import Converter, identity\n\n\n"
    head += f"def configure_{name}(converter: Converter) -> None:\n"
    return head + "".join(f"    {h}\n" for h in hooks)


TOML_CONV = converter_module("toml", CONV_HOOKS)
YAML_CONV = converter_module("yaml", CONV_HOOKS[:5]) + "    \n"
UNLIKE = "def parse_args(argv):\n" + "".join(f"    option_{i} = argv[{i}]\n" for i in range(30))


def test_code_like_the_lines_above_the_cursor_comes_last_with_what_follows_it(
    tmp_path: Path,
) -> None:
    files = {"toml.py": TOML_CONV, "yaml.py": YAML_CONV, "args.py": UNLIKE, "base.py": ""}
    index = build_index(tmp_path, files)
    snap = snapshot(tmp_path / "yaml.py", YAML_CONV, "python")
    offset = len(YAML_CONV) - 1
    ctx = gather(snap, offset, index, RecentChunks(), 384, similar=SimilarCode())
    path, text = ctx.files[-1]
    assert path == "toml.py"
    # What came after the like lines there: the line being written here.
    assert "    converter.register_unstructure_hook(date, identity)\n" in text
    assert "option_" not in "".join(c for _, c in ctx.files)
    assert len("".join(c for _, c in ctx.files)) <= 384 * 3
    # Without the cache object, as before: no such file.
    plain = gather(snap, offset, index, RecentChunks(), 384)
    assert all("register_unstructure_hook(date" not in c for _, c in plain.files)


def test_unlike_code_is_not_shown_and_too_few_words_ask_nothing(tmp_path: Path) -> None:
    build_index(tmp_path, {"toml.py": TOML_CONV, "args.py": UNLIKE})
    cache = SimilarCode()
    main = "def run(argv):\n" + "".join(f"    option_{i} = argv[{i}]\n" for i in range(16))
    main += "    \n"
    query = query_words(snapshot(tmp_path / "run.py", main, "python"), len(main) - 1)
    assert "option_14" in query and "def" not in query  # the 12 lines above the band
    toml, args = [str(tmp_path / "toml.py")], [str(tmp_path / "args.py")]
    assert find_similar(query, toml, cache, time.monotonic() + 1) is None
    assert find_similar(frozenset({"option_1", "argv"}), args, cache, 1e12) is None
    found = find_similar(query, args, cache, time.monotonic() + 1)
    assert found is not None and found.similarity >= MIN_SIMILARITY
    assert found.text.startswith("    option_") and found.path == args[0]


def test_similar_code_cache_follows_the_disk_is_bounded_and_never_reads_secrets(
    tmp_path: Path,
) -> None:
    cache = SimilarCode(size=2)
    a = tmp_path / "a.py"
    a.write_text("alpha = 1\n")
    got = cache.windows(str(a))
    assert got is not None and got[0] == ["alpha = 1", ""]
    a.write_text("beta = 2\ngamma = 3\n")
    got = cache.windows(str(a))
    assert got is not None and got[0][0] == "beta = 2"
    for name in ("b.py", "c.py"):
        (tmp_path / name).write_text("x = 1\n")
        assert cache.windows(str(tmp_path / name)) is not None
    assert len(cache._files) == 2 and str(a) not in cache._files
    secret = tmp_path / ".env"
    secret.write_text("TOKEN_VALUE = 'abc'\n")
    assert cache.windows(str(secret)) is None
    assert cache.windows(str(tmp_path / "missing.py")) is None


def test_similar_code_does_not_change_while_the_cursor_moves_within_a_band(
    tmp_path: Path,
) -> None:
    index = build_index(tmp_path, {"toml.py": TOML_CONV, "yaml.py": YAML_CONV})
    text = YAML_CONV.removesuffix("    \n") + "\n" * 7 + "    \n"
    snap = snapshot(tmp_path / "yaml.py", text, "python")
    lines = text.split("\n")
    cache = SimilarCode()

    def at_line(row: int) -> GatheredContext:
        offset = sum(len(line) + 1 for line in lines[:row]) + 4
        return gather(snap, offset, index, RecentChunks(), 384, similar=cache)

    assert band_of(snap, sum(len(x) + 1 for x in lines[:9])) == 8
    assert at_line(9).files == at_line(12).files == at_line(15).files
    assert at_line(9).files[-1][0] == "toml.py"


def test_python_stubs_put_the_ellipsis_on_the_header_line(tmp_path: Path) -> None:
    """A `...` line at the body's indentation was copied as the line being written."""
    lib = (
        "class Base:\n    pass\n\n\nclass Child(Base):\n    x = 1\n\n\n"
        'def documented(a: int) -> int:\n    """Twice a."""\n' + "    a += 1\n" * 8 + "\n\n"
        "def bare(a: int,\n         b: int) -> int:\n" + "    a += b\n" * 8
    )
    index = build_index(tmp_path, {"lib.py": lib})
    entry = index.entry(str(tmp_path / "lib.py"))
    assert entry is not None
    text = render_file_definitions(entry.definitions)
    assert "class Child(Base): ..." in text
    assert 'def documented(a: int) -> int:\n    """Twice a."""\n' in text  # a whole body
    assert "         b: int) -> int: ...\n" in text
    assert all(line.strip() != "..." for line in text.split("\n"))
    assert count_error_nodes(Document("file:///x.py", "python", 1, text).snapshot().tree) == 0


def test_an_open_sibling_is_searched_as_the_user_sees_it_not_as_saved(tmp_path: Path) -> None:
    from lsp_server.context.documents import DocumentStore
    from lsp_server.context.gather import ContextService

    store = DocumentStore()
    service = ContextService(store, lambda: True, time_budget_ms=lambda: 1000)
    service.set_roots([str(tmp_path)])
    (tmp_path / "toml.py").write_text(UNLIKE)  # on disk: nothing alike yet
    (tmp_path / "yaml.py").write_text(YAML_CONV)
    asyncio.run(service.index.build([tmp_path]))
    store.open((tmp_path / "toml.py").as_uri(), "python", 3, TOML_CONV)  # unsaved
    snap = snapshot(tmp_path / "yaml.py", YAML_CONV, "python")
    ctx = service.gather(snap, len(YAML_CONV) - 1, 384)
    assert ctx.files[-1][0] == "toml.py"
    assert "register_unstructure_hook(date, identity)" in ctx.files[-1][1]
    store.close((tmp_path / "toml.py").as_uri())  # closed unsaved: the disk is the truth
    ctx = service.gather(snap, len(YAML_CONV) - 1, 384)
    assert all("identity)" not in text for _, text in ctx.files)


def test_a_far_name_used_again_and_again_ranks_before_a_nearer_one_used_once(
    tmp_path: Path,
) -> None:
    lib = "package p\n\nfunc commonHelper(x int) int { return x }\n\n"
    lib += "func rareHelper(x int) int { return x }\n"
    pad = "\t// pad\n" * 20
    main = "package p\n\nfunc run() {\n" + "\tcommonHelper(1)\n" * 5 + pad
    main += "\trareHelper(2)\n" + pad + "\t\n}\n"
    index = build_index(tmp_path, {"lib.go": lib, "main.go": main})
    snap = snapshot(tmp_path / "main.go", main, "go")
    ctx = gather(snap, main.index("\t\n}"), index, RecentChunks(), 30)
    text = "".join(c for _, c in ctx.files)
    assert "func commonHelper" in text and "func rareHelper" not in text
