"""Refactors and fixes by the model: build the prompt for the target (the selection, else the
enclosing definition), read the replacement code out of the answer, check the edit, and retry
once with the reason when a check fails. The caller gets either a checked edit or the reason
there is none, never an unchecked edit."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from lsp_server.context.documents import DocumentSnapshot, Range, file_name
from lsp_server.errors import Unsupported
from lsp_server.features.annotate import type_slot
from lsp_server.features.docstring import doc_slot
from lsp_server.features.edits import (
    Edit,
    EditRejected,
    Target,
    Unchanged,
    check_edits,
    check_intent,
    renamed_as,
    replacement_edit,
    resolve_target,
)
from lsp_server.features.explain import gather_context
from lsp_server.features.rename import name_slot
from lsp_server.prompts.actions import Generate, build_prompt, extract_code, load_actions

logger = logging.getLogger(__name__)


REFACTORS = ("docstring", "annotate", "simplify", "extract_function", "rename_locals", "idiomatic")
ATTEMPTS = 2  # the first answer, and one retry with the reason it was rejected
DEADLINE_S = 120.0


@dataclass(frozen=True)
class RefactorOutcome:
    target: Target
    edit: Edit | None  # checked; None when every attempt failed
    error: str = ""  # why there is no edit
    attempts: int = 0
    rejected: tuple[str, ...] = ()  # the raw answers that failed a check (for the log / tests)


def _check(target: Target, action: str, edit: Edit) -> None:
    check_edits(target.snap, target, [edit])
    check_intent(target.snap, target, action, edit.new_text)


def title(action: str) -> str:
    return load_actions().actions[action].title


async def refactor(
    snap: DocumentSnapshot,
    rng: Range,
    action: str,
    family: str,
    generate: Generate,
    *,
    instruction: str = "",
    diagnostic: str = "",
) -> RefactorOutcome:
    """Raises ModelUnavailable / GenerationCancelled from the model and PositionOutOfRange
    for a bad range; a bad answer is an outcome with `error`, not an exception."""
    target = resolve_target(snap, rng)
    if not target.text.strip():
        return RefactorOutcome(target, None, "the target is empty")
    context = gather_context(target)
    slot = await asyncio.to_thread(doc_slot, target) if action == "docstring" else None
    # Renames and annotations are asked for as a list of names or types (features/rename.py,
    # features/annotate.py) where the server finds what to list.
    listed = {"rename_locals": name_slot, "annotate": type_slot}.get(action)
    names = await asyncio.to_thread(listed, target) if listed else None
    error = ""
    unchanged = False
    rejected: list[str] = []
    attempt = 0
    while attempt < ATTEMPTS:
        attempt += 1
        prompt = build_prompt(
            action,
            family,
            language=snap.language.name if snap.language else snap.language_id,
            path=file_name(snap.uri),
            context=context,
            target=target.text,
            instruction=instruction,
            diagnostic=diagnostic,
            retry_error=error,
            unchanged=unchanged,
            names=names.names if names else (),
        )
        if slot is not None:
            prompt = slot.prompt(prompt)
        # A refactor copies most of its target: prompt-lookup drafts (model/lookup.py); a
        # docstring written into its slot, or a list, copy nothing.
        try:
            job = names.job(prompt, DEADLINE_S) if names else None
            result = await generate(job or prompt.job(DEADLINE_S, lookup=slot is None))
        except Unsupported:
            if names is None:
                raise
            # A backend that cannot hold an answer to a schema: the whole code instead.
            names, attempt = None, attempt - 1
            continue
        try:
            stopped = result.stats.stop_reason
            if stopped in ("deadline", "cancelled") or (slot is not None and stopped == "length"):
                raise EditRejected(f"the model stopped early ({stopped})")
            if names is not None:
                code = await asyncio.to_thread(names.apply, result.text)
            elif slot is not None:
                code = slot.assemble(result.text)
            else:
                code = extract_code(result.text, target.text)
            if not code:
                raise EditRejected("the answer held no " + ("docstring" if slot else "code"))
            edit = replacement_edit(target, code)
            # The checks parse the whole file (twice for a new text): off the event loop.
            try:
                await asyncio.to_thread(_check, target, action, edit)
            except EditRejected:
                if action != "rename_locals" or names is not None:
                    raise
                # The names the model chose, applied to the code as it was.
                renamed = await asyncio.to_thread(renamed_as, target, code)
                if renamed is None:
                    raise
                edit = replacement_edit(target, renamed)
                await asyncio.to_thread(_check, target, action, edit)
        except EditRejected as exc:
            error, unchanged = str(exc), isinstance(exc, Unchanged)
            rejected.append(result.text)
            logger.info("%s: attempt %d rejected: %s", action, attempt, error)
            continue
        return RefactorOutcome(target, edit, "", attempt, tuple(rejected))
    return RefactorOutcome(target, None, error, ATTEMPTS, tuple(rejected))
