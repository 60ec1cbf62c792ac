"""Explain a selection (or the enclosing definition) in Markdown, with its tree-sitter context:
the enclosing definition and the same-file definitions the selection calls.

The answer is sanitized (features/markdown.py) and may be written to a private file for
editors that can only open documents.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import tree_sitter

from lsp_server.context.documents import DocumentSnapshot, Range, file_name
from lsp_server.features import explain_sections, signature
from lsp_server.features.edits import (
    Target,
    char_offset,
    definition_at,
    node_name,
    resolve_target,
    whole_definition,
)
from lsp_server.features.markdown import sanitize_markdown
from lsp_server.prompts.actions import Generate, build_prompt

logger = logging.getLogger(__name__)


MAX_CONTEXT_CHARS = 6000
MAX_CALLEE_CHARS = 1500
MAX_CALLEES = 4
DEADLINE_S = 120.0
_CALL_TYPES = frozenset({"call", "call_expression", "method_invocation", "macro_invocation"})


@dataclass(frozen=True)
class Explanation:
    markdown: str
    target: Target


def _called_names(snap: DocumentSnapshot, start: int, end: int) -> list[str]:
    if snap.tree is None:
        return []
    b0, b1 = snap.byte_offset(start), snap.byte_offset(end)
    names: list[str] = []
    stack = [snap.tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_byte < b0 or node.start_byte > b1:
            continue
        if node.type in _CALL_TYPES:
            fn = node.child_by_field_name("function") or node.child_by_field_name("name")
            if fn is not None:
                # obj.method(...) / pkg.Func(...): the last identifier names the callee.
                ident = fn.child_by_field_name("attribute") or fn.child_by_field_name("field")
                ident = ident or fn.child_by_field_name("property") or fn
                name = (ident.text or b"").decode("utf-8", "replace")
                if name.isidentifier() and name not in names:
                    names.append(name)
        stack.extend(node.children)
    return names


def _definitions(snap: DocumentSnapshot) -> dict[str, tree_sitter.Node]:
    info = snap.language
    if info is None or snap.tree is None:
        return {}
    found: dict[str, tree_sitter.Node] = {}
    stack = [snap.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in info.definition_types:
            name = node_name(node)
            if name and name not in found:
                found[name] = node
        stack.extend(node.children)
    return found


def gather_context(target: Target) -> str:
    """The code the model sees around the target: the enclosing definition (when the target
    is inside one) and the same-file definitions the target calls."""
    snap = target.snap
    parts: list[str] = []
    enclosing = definition_at(snap, target.start, target.end)
    seen: set[tuple[int, int]] = set()
    if enclosing is not None:
        s, e = char_offset(snap, enclosing.start_byte), char_offset(snap, enclosing.end_byte)
        if (s, e) != (target.start, target.end):
            parts.append(snap.text[s:e][:MAX_CONTEXT_CHARS])
        seen.add((enclosing.start_byte, enclosing.end_byte))
    defs = _definitions(snap)
    callees = 0
    for name in _called_names(snap, target.start, target.end):
        node = defs.get(name)
        if node is None or (node.start_byte, node.end_byte) in seen or callees >= MAX_CALLEES:
            continue
        seen.add((node.start_byte, node.end_byte))
        s, e = char_offset(snap, node.start_byte), char_offset(snap, node.end_byte)
        if s <= target.start and target.end <= e:
            continue
        parts.append(snap.text[s:e][:MAX_CALLEE_CHARS])
        callees += 1
    if not parts:
        return target.text[:MAX_CONTEXT_CHARS]
    return "\n\n# ...\n\n".join(parts)


def _interface(target: Target) -> tuple[list[str], bool] | None:
    """The parameters and whether a value is returned, when the target is one function."""
    node = whole_definition(target)
    fn = signature.function_node(node) if node is not None else None
    if fn is None or node is None:
        return None
    params = signature.parameters(fn, is_method=_in_class(node))
    snap = target.snap
    language = snap.language.name if snap.language else ""
    return (params or [], signature.returns_something(fn, language))


def _in_class(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in signature.FUNCTION_NODES:
            return False
        if "class" in parent.type or parent.type in ("impl_item", "declaration_list"):
            return True
        parent = parent.parent
    return False


async def explain(
    snap: DocumentSnapshot, rng: Range, family: str, generate: Generate
) -> Explanation:
    """Raises ModelUnavailable / GenerationCancelled from the model, PositionOutOfRange for a
    bad range."""
    target = resolve_target(snap, rng)
    prompt = build_prompt(
        "explain",
        family,
        language=snap.language.name if snap.language else snap.language_id,
        path=file_name(snap.uri),
        context=gather_context(target),
        target=target.text,
    )
    result = await generate(prompt.job(DEADLINE_S))
    answer = result.text.strip()
    interface = await asyncio.to_thread(_interface, target)  # walks the function's tree
    if answer and interface is not None and result.stats.stop_reason not in ("length", "deadline"):
        answer = await explain_sections.complete(answer, prompt, *interface, generate)
    body = sanitize_markdown(answer) or "_The model gave no explanation._"
    line = snap.text.count("\n", 0, target.start) + 1
    title = f"## Explanation: `{target.label}` ({file_name(snap.uri)}, line {line})"
    if result.stats.stop_reason in ("length", "deadline"):
        body += "\n\n_(cut short)_"
    return Explanation(f"{title}\n\n{body}\n", target)


def explanations_dir() -> Path:
    return Path(platformdirs.user_cache_dir("enclave")) / "explanations"


def write_private(markdown: str, uri: str, directory: Path | None = None) -> Path:
    """Write the explanation to an owner-only file (0600, in an 0700 directory)."""
    directory = directory or explanations_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    digest = hashlib.sha256(uri.encode("utf-8")).hexdigest()[:10]
    stem = Path(file_name(uri)).stem or "document"
    path = directory / f"{stem}-{digest}.md"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(markdown.encode("utf-8"))
    return path
