"""Ranking: which definitions the current file can reach, and in which order they come."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.context.gather.names import imported_uses, names_near
from lsp_server.context.gather.rank import Confidence, Rank
from lsp_server.context.gather.recent import RecentChunks
from tests.unit.gather_helpers import LIB, TUNING, build_index, gather_all, snapshot


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
    ctx = gather_all(snap, main.index("return self"), index, RecentChunks(), 256)
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
    ctx = gather_all(snap, ts_main.index("return this"), index, RecentChunks(), 256)
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
    ctx = gather_all(snap, len(main) - 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "def write_paragraph(self) -> None:" in text  # used 45 lines up, on a Formatter
    assert "flush_lines" not in text  # used as far, but Stream is not a class in scope


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
    ctx = gather_all(snap, len(main) - 1, index, RecentChunks(), 256)
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
    ctx = gather_all(snap, len(files["main.py"]) - 1, index, RecentChunks(), 256)
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
    ctx = gather_all(snap, offset, index, RecentChunks(), 256)
    assert [p for p, _ in ctx.files] == ["proxy/socket.go"]
    assert "func (s Socket) Listen() (net.Listener, error)" in ctx.files[0][1]


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
    near = names_near(snap, offset, TUNING)
    assert "seen_here" in near and "close_by" in near and "far_away" not in near
    names = ["far_away", "close_by", "not_yet", "seen_here"]
    uses = imported_uses(snap, offset, TUNING, names, near)
    assert set(uses) == {"far_away", "not_yet"}  # the near ones are ranked as near
    assert uses["not_yet"] == 0
    assert uses["far_away"] > 50
    # Room for one definition: the one not used yet.
    ctx = gather_all(snap, offset, index, RecentChunks(), 20)
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
    ctx = gather_all(snap, len(near_text) - 1, index, RecentChunks(), 30)
    assert "function update(" in "".join(c for _, c in ctx.files)
    far_text = head + "updateDOM(0);\n" + filler + "const y = 2;\n\n"
    snap = snapshot(tmp_path / "main.ts", far_text, "typescript")
    offset = len(far_text) - 1
    near = names_near(snap, offset, TUNING)
    entry = index.entry(str(tmp_path / "main.ts"))
    assert entry is not None and entry.import_aliases == (("update", "updateDOM"),)
    uses = imported_uses(snap, offset, TUNING, ["update", "later"], near, entry.import_aliases)
    assert uses["later"] == 0 and uses["update"] > 30


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
    ctx = gather_all(snap, GO_PARSE.index("\t\n") + 1, index, RecentChunks(), 256)
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
    ctx = gather_all(snap, len(main) - 1, index, RecentChunks(), 256)
    text = "".join(c for _, c in ctx.files)
    assert "def write_paragraph(self) -> None:" in text  # beside write_usage, shares "write"
    assert "def indent" not in text


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
    ctx = gather_all(snap, main.index("  \n") + 2, index, RecentChunks(), 384)
    text = "".join(c for _, c in ctx.files)
    assert "export function find<T>(this: Cheerio<T>, selector: string): Cheerio<T>" in text


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
    ctx = gather_all(snap, main.index("\t\n}"), index, RecentChunks(), 30)
    text = "".join(c for _, c in ctx.files)
    assert "func commonHelper" in text and "func rareHelper" not in text


RANKS = st.builds(
    Rank,
    st.booleans(),
    st.sampled_from(Confidence),
    st.integers(0, 400),
    st.booleans(),
    st.sampled_from(["a.py", "b/c.py", "b/d.go"]),
    st.integers(0, 2000),
)


@given(st.lists(RANKS, max_size=30))
def test_ranks_order_near_names_then_surer_then_closer_then_this_folder_then_place(
    ranks: list[Rank],
) -> None:
    """The order definitions come in, field by field: names used near the cursor first, then
    the surer (imported from where it is defined), the closer use, the current folder; the
    file and line only make the order total."""
    expected = sorted(
        ranks, key=lambda r: (r.far, r.confidence, r.distance, r.other_folder, r.rel, r.line)
    )
    assert sorted(ranks) == expected
    assert Confidence.IMPORTED_LINKED < Confidence.IMPORTED < Confidence.LINKED
