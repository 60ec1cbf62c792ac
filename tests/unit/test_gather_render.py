"""Rendering context files: code that parses, as the model saw code in training."""

from __future__ import annotations

from pathlib import Path

from lsp_server.context.documents import Document
from lsp_server.context.gather.render import is_whole, render_file_definitions
from lsp_server.context.syntax import count_error_nodes
from tests.unit.gather_helpers import build_index

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


def test_a_large_typescript_enum_is_written_as_its_header_with_a_left_out_body(
    tmp_path: Path,
) -> None:
    source = "export const enum State {\n" + "".join(f"    S{i},\n" for i in range(12)) + "}\n"
    index = build_index(tmp_path, {"state.ts": source})
    text = render_file_definitions(index.lookup("State"))
    assert text == "export const enum State { /* ... */ }\n"
    tree = Document("file:///w/state.ts", "typescript", 1, text).snapshot().tree
    assert count_error_nodes(tree) == 0


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


def test_methods_are_written_under_their_class_header_which_is_closed(tmp_path: Path) -> None:
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


RUST_TOKENS = (
    "pub struct Span {\n    pub start: usize,\n    pub end: usize,\n}\n\n"
    "#[derive(Eq, PartialEq, Debug)]\npub enum Token<'a> {\n"
    + "".join(f"    Punct{i},\n" for i in range(12))
    + "}\n\npub(crate) enum ErrorKind {\n"
    + "".join(f"    Kind{i}(usize),\n" for i in range(12))
    + "}\n\npub trait Buf {\n"
    + "".join(f"    fn f{i}(&self) -> usize;\n" for i in range(12))
    + "}\n"
)


def test_a_large_rust_type_is_written_as_its_header_with_a_left_out_body(
    tmp_path: Path,
) -> None:
    """The index keeps a large Rust enum, struct or trait as its header without `{`: alone,
    `pub(crate) enum ErrorKind` is not Rust (it was rendered so until 2026-12-07)."""
    index = build_index(tmp_path, {"tokens.rs": RUST_TOKENS})
    entry = index.entry(str(tmp_path / "tokens.rs"))
    assert entry is not None
    text = render_file_definitions(entry.definitions)
    assert "pub struct Span {\n    pub start: usize,\n    pub end: usize,\n}" in text  # small
    assert "pub enum Token<'a> { /* ... */ }" in text
    assert "pub(crate) enum ErrorKind { /* ... */ }" in text
    assert "pub trait Buf { /* ... */ }" in text
    tree = Document("file:///w/tokens.rs", "rust", 1, text).snapshot().tree
    assert count_error_nodes(tree) == 0, text
