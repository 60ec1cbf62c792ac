"""Inline completion: decide whether and how much to complete, ask the model, clean the answer.

No pygls here: the handler gives a document snapshot and a position, and gets back the text to
insert or the reason there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from lsp_server.context.documents import DocumentSnapshot, Position
from lsp_server.context.syntax import (
    CompletionMode,
    classify_position,
    definition_chain,
    imports,
    truncate_completion,
)
from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.model.protocol import CompletionJob, GenerationResult, GenerationStats
from lsp_server.settings import CompletionSettings

logger = logging.getLogger(__name__)

Submit = Callable[[CompletionJob], Awaitable[GenerationResult]]

# Rough characters per token, only to guess whether stable context is already in the window.
CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class CompletionOutcome:
    text: str
    reason: str  # why the text is empty, or "ok"
    mode: CompletionMode
    stats: GenerationStats | None = None


def _extra_context(snap: DocumentSnapshot, offset: int, window_chars: int) -> str:
    """Imports and enclosing definitions that fall outside the window the model will see."""
    window = snap.text[max(0, offset - window_chars) : offset]
    lines = [*imports(snap), *definition_chain(snap, offset)]
    missing = [line for line in lines if line.strip() and line not in window]
    return "\n".join(missing)


CLOSERS = set(")]}>\"';:,")


def strip_suffix_overlap(text: str, suffix: str) -> str:
    """Drop the end of a one-line `text` that repeats the closing punctuation already after the
    cursor on its line (the model writes `)` and the line already has `)`)."""
    rest = suffix.split("\n", 1)[0]
    if "\n" in text:
        return text
    for n in range(min(len(rest), len(text)), 0, -1):
        head = rest[:n]
        if set(head) <= CLOSERS and text.endswith(head):
            return text[:-n]
    return text


def build_job(
    snap: DocumentSnapshot, offset: int, mode: CompletionMode, settings: CompletionSettings
) -> CompletionJob:
    single = mode is CompletionMode.SINGLE_LINE
    return CompletionJob(
        prefix=snap.text[:offset],
        suffix=snap.text[offset:],
        path=snap.uri.rsplit("/", 1)[-1],
        extra_context=_extra_context(snap, offset, settings.contextTokens * CHARS_PER_TOKEN),
        budget=settings.contextTokens,
        max_tokens=settings.maxTokensLine if single else settings.maxTokensBlock,
        stop=("\n",) if single else (),
        deadline_s=settings.deadlineMs / 1000,
    )


def postprocess(snap: DocumentSnapshot, offset: int, mode: CompletionMode, raw: str) -> str:
    suffix = snap.text[offset:]
    text = raw.rstrip()
    if mode is CompletionMode.SINGLE_LINE:
        text = strip_suffix_overlap(text.split("\n", 1)[0], suffix)
    text = truncate_completion(snap, offset, text, mode)
    if not text.strip() or suffix.lstrip().startswith(text.strip()):
        return ""  # nothing, or a repeat of the text after the cursor
    return text


async def complete(
    snap: DocumentSnapshot, position: Position, settings: CompletionSettings, submit: Submit
) -> CompletionOutcome:
    """Raises PositionOutOfRange for a position beyond the document."""
    offset = snap.offset_at(position)
    gate = classify_position(snap, offset)
    if gate.mode is CompletionMode.NONE:
        return CompletionOutcome("", f"no completion here ({gate.reason})", gate.mode)
    job = build_job(snap, offset, gate.mode, settings)
    try:
        result = await submit(job)
    except GenerationCancelled as exc:
        return CompletionOutcome("", str(exc), gate.mode)
    except ModelUnavailable as exc:
        return CompletionOutcome("", str(exc), gate.mode)
    text = postprocess(snap, offset, gate.mode, result.text)
    stats = result.stats
    if text:
        return CompletionOutcome(text, "ok", gate.mode, stats)
    if stats.stop_reason == "deadline":
        reason = "the model was too slow (deadline reached)"
    elif result.text.strip():
        reason = "the suggestion was dropped (it repeated the code or broke the syntax)"
    else:
        reason = "the model suggested nothing"
    logger.info("empty completion: %s (%s)", reason, stats.stop_reason)
    return CompletionOutcome("", reason, gate.mode, stats)
