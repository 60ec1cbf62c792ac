"""Rendering: a context file's chosen definitions as code that parses, in line order, methods
under their class header and Go specs in their block, bodies left out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lsp_server.context.index import GO_BLOCKS, Definition
from lsp_server.context.languages import language_for


@dataclass(frozen=True)
class ContextFile:
    """A file's chosen definitions (see choose.choose), to be rendered after its preamble."""

    rel: str
    preamble: str  # see FileEntry.preamble (a Go file's `package` line)
    definitions: tuple[Definition, ...]


def render_files(files: Sequence[ContextFile]) -> list[tuple[str, str]]:
    """(path, content) per file, in the given order."""
    return [(f.rel, render_file_definitions(f.definitions, f.preamble)) for f in files]


def _comment_prefix(path: str) -> str:
    info = language_for("", path)
    return info.comment_prefix if info is not None else "#"


def is_whole(signature: str) -> bool:
    """False for a header the index cut short (a long parameter list: `def prompt(`): a
    bracket is left open. Such a stub tells the model little and reads as broken code."""
    depth = 0
    for ch in signature.rstrip().removesuffix("{"):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
    return depth == 0


# A body left out, in code that still parses: `{ ... }` is a syntax error in Go, TypeScript
# and Rust, and a context file that does not parse is not what the model saw in training.
STUB_BODY = "{ /* ... */ }"


def _stubbed(header: str) -> str:
    """`header` (its opening brace, if any, dropped) with a left-out body."""
    return header.rstrip().rstrip("{").rstrip() + " " + STUB_BODY


# Headers the index keeps without their `{`: interfaces and enums (`const enum State`), Rust's
# enums, structs, unions and traits (`pub(crate) enum Token<'a>`).
_BRACED_TYPE = re.compile(
    r"(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:const\s+)?(?:interface|enum)\b"
    r"|(?:pub(?:\([^)]*\))?\s+)?(?:enum|struct|union|trait)\b"
)


def render_definition(d: Definition, comment: str) -> str:
    sig = d.signature
    one_line = sig.strip()
    if "\n" in one_line:
        header_only = not one_line.endswith(("}", ")", ";"))
    else:  # `func (h *headerV7) mode() []byte { return h[100:][:8] }` is whole
        header_only = not (one_line.endswith("}") and "{" in one_line and is_whole(one_line))
    python = comment == "#"
    if python and sig.rstrip().endswith(":"):
        # A docstring is a whole body; without one, `...` on the header's line, as stubs
        # write it: a `...` line at the indentation of the line being written was copied.
        if d.doc:
            return f'{sig}\n    """{d.doc}"""'
        return f"{sig.rstrip()} ..."
    if not python and d.kind == "constant" and one_line.endswith("{"):
        sig = _stubbed(sig)  # `const f = (): T => {`
        one_line = sig.strip()
    if d.kind == "constant" and d.doc and "\n" not in one_line and d.doc not in sig:
        return f"{sig}  {comment} {d.doc}"  # as a const block writes it
    doc = f"{comment} {d.doc}\n" if d.doc and d.doc not in sig else ""
    if python:
        return doc + sig
    if header_only and d.kind in ("function", "method"):
        abstract = re.match(r"(?:\w+\s+)*abstract\s", sig)
        sig = sig.rstrip().rstrip("{").rstrip() + ";" if abstract else _stubbed(sig)
    elif d.kind in ("class", "type") and (
        one_line.endswith("{")
        or (
            (d.kind == "class" or _BRACED_TYPE.match(one_line))
            and not one_line.endswith(("}", ";"))
        )
    ):
        sig = _stubbed(sig)  # `type Reader struct {`, a class or interface header
    return doc + sig


def render_file_definitions(defs: Sequence[Definition], preamble: str = "") -> str:
    """Definitions of one file in line order, after its `preamble` (see FileEntry); methods
    under their class header, Go specs in their `const ( ... )` block."""
    if not defs:
        return ""
    comment = _comment_prefix(defs[0].path)
    python = comment == "#"
    containers = {d.container for d in defs if d.container}
    # A class shown with some of its methods is written once, as their header, with its doc.
    headers = {d: d.signature.split("\n")[0] for d in defs if d.kind == "class"}
    class_docs = {h: d.doc for d, h in headers.items() if h in containers}
    parts: list[str] = [preamble + "\n"] if preamble else []
    container = ""

    def close() -> None:
        if container and not python:
            parts.append(")" if container in GO_BLOCKS else "}")

    for d in sorted(defs, key=lambda d: d.line):
        if headers.get(d) in class_docs:
            continue
        text = render_definition(d, comment)
        if d.container != container:
            close()
            container = d.container
            doc = class_docs.get(container, "")
            if container and python:
                parts.append(container + (f'\n    """{doc}"""' if doc else ""))
            elif container in GO_BLOCKS:
                parts.append(container + " (")
            elif container:
                parts.append((f"{comment} {doc}\n" if doc else "") + container + " {")
        if container:
            pad = "\t" if container in GO_BLOCKS else "    "
            text = "\n".join(pad + line if line else line for line in text.split("\n"))
        parts.append(text)
    close()
    return "\n".join(parts) + "\n"
