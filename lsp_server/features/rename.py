""" "Rename locals" asks the model for names, not code. The locals the target may rename
(features/structure.locals_bound: bound there, never a parameter, an attribute, a definition)
are listed in the prompt; the model answers a JSON object giving each its name, held by a
grammar to exactly those keys, in order, each value an identifier; the server renames every
use itself. So the answer cannot change the code but for those names (with the whole code
back, the 1.5B turned `ctx.color` into `ctx.get_color()` or merged two declarations while
renaming, and the edit was refused), it is a few tokens instead of the whole target, and the
structural check (features/structure.py) still runs on the result.

Where no local is found (a language without a tree, a selection that binds none), or there
are too many to list, the model writes the whole code as before.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

import tree_sitter

from lsp_server.features import listed
from lsp_server.features.edits import EditRejected, Target, Unchanged
from lsp_server.features.structure import identifiers, locals_bound, renamed
from lsp_server.model.protocol import GenerateJob
from lsp_server.prompts.actions import ChatPrompt

MAX_LOCALS = 24
TOKENS_PER_NAME = 16  # the key, its quotes and the new name
IDENTIFIER = "^[A-Za-z_][A-Za-z0-9_]*$"
# Names a local must not take: the language's keywords and what it predeclares (a local `error`
# in Go or `list` in Python shadows the builtin for the rest of the function).
_JS = (
    "await break case catch class const continue debugger default delete do else enum export"
    " extends false finally for function if import in instanceof let new null return static"
    " super switch this throw true try typeof var void while with yield undefined NaN Infinity"
    " Object Array String Number Boolean Symbol BigInt Map Set WeakMap Promise JSON Math Date"
    " Error RegExp console window document globalThis arguments eval any unknown never type"
)
_GO = (
    "break case chan const continue default defer else fallthrough for func go goto if"
    " import interface map package range return select struct switch type var bool"
    " byte complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune"
    " string uint uint8 uint16 uint32 uint64 uintptr true false iota nil any comparable"
    " append cap clear close complex copy delete imag len make max min new panic print"
    " println real recover"
)
_RUST = (
    "as async await break const continue crate dyn else enum extern false fn for if impl"
    " in let loop match mod move mut pub ref return self Self static struct super trait"
    " true type unsafe use where while Option Some None Result Ok Err Vec String Box"
)
RESERVED = {
    "python": frozenset([*keyword.kwlist, *keyword.softkwlist, *dir(builtins)]),
    "go": frozenset(_GO.split()),
    "javascript": frozenset(_JS.split()),
    "typescript": frozenset(_JS.split()),
    "tsx": frozenset(_JS.split()),
    "rust": frozenset(_RUST.split()),
}
# Languages whose identifiers may hold `$` too.
DOLLAR = frozenset({"javascript", "typescript", "tsx", "java"})


@dataclass(frozen=True)
class NameSlot:
    """The target's locals, where each is used, and how the answer is read."""

    language: str
    names: tuple[str, ...]
    source: bytes = field(repr=False)  # the document's bytes
    span: range  # the target's bytes in `source`
    uses: dict[str, list[tree_sitter.Node]] = field(repr=False, compare=False)
    taken: frozenset[str] = frozenset()  # every name the target's code uses

    @property
    def pattern(self) -> str:
        return IDENTIFIER.replace("_]", "_$]") if self.language in DOLLAR else IDENTIFIER

    def job(self, chat: ChatPrompt, deadline_s: float) -> GenerateJob:
        return listed.job(chat, deadline_s, self.names, self.pattern, TOKENS_PER_NAME)

    def apply(self, answer: str) -> str:
        """The target with the names the answer gives. Raises EditRejected for an answer that
        is not such an object, Unchanged when it keeps every name."""
        chosen = listed.values(answer, "names")
        renames: dict[str, str] = {}
        clashes: list[str] = []
        for name in self.names:
            new = chosen.get(name)
            if not isinstance(new, str) or new == name:
                continue
            # The grammar holds the model to names; an HTTP backend may not have one.
            if not re.fullmatch(self.pattern, new):
                raise EditRejected(f"{new[:40]!r} is not a name")
            if (
                new in self.taken
                or new in renames.values()
                or new in RESERVED.get(self.language, ())
            ):
                # The 1.5B likes the function's own name for its result (`t` -> `total`
                # in `def total`): that one is left as it was, the others still apply.
                clashes.append(f"{name} -> {new}")
                continue
            renames[name] = new
        if not renames and clashes:
            raise EditRejected(
                f"the code or the language already uses the new names ({', '.join(clashes)})"
            )
        if not renames:
            raise Unchanged()
        return renamed(self.source, self.span, self.uses, renames).decode("utf-8")


def name_slot(target: Target) -> NameSlot | None:
    """The locals of `target` to name, or None (the whole-code answer then)."""
    snap = target.snap
    if snap.language is None or snap.tree is None:
        return None
    start, end = target.code_bytes
    uses = locals_bound(snap.tree.root_node, start, end)
    if not uses or len(uses) > MAX_LOCALS:
        return None
    span = range(snap.byte_offset(target.start), snap.byte_offset(target.end))
    source = snap.text.encode("utf-8")
    taken = frozenset(
        (node.text or b"").decode("utf-8", "replace")
        for node in identifiers(snap.tree.root_node, start, end)
    )
    return NameSlot(snap.language.name, tuple(uses), source, span, uses, taken)
