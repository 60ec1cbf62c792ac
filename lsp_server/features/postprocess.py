"""Cleaning a raw model answer before it is offered. Each rule comes from a real bad output
(tests/unit/test_postprocess.py keeps them as cases)."""

from __future__ import annotations

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.syntax import CompletionMode, truncate_completion
from lsp_server.privacy.redact import contains_placeholder

CLOSERS = set(")]}>\"';:,")
# A non-blank line this long that comes twice in a row is taken for a repetition loop.
MIN_REPEAT_LINE = 4


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


def stop_repetition(text: str) -> str:
    """Cut a loop: a line repeated right after itself, or a suggestion that restarts itself."""
    lines = text.split("\n")
    for i in range(1, len(lines)):
        line = lines[i].strip()
        if len(line) >= MIN_REPEAT_LINE and line == lines[i - 1].strip():
            return "\n".join(lines[:i])
    return text


def strip_trailing_suffix_lines(text: str, suffix: str) -> str:
    """Drop final lines of a multi-line `text` that the document already has after the cursor
    (the model rewrites the code that follows)."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    after = [line.strip() for line in suffix.split("\n")[1:] if line.strip()]
    if not after:
        return text
    for k in range(min(len(lines) - 1, len(after)), 0, -1):
        tail = [line.strip() for line in lines[-k:]]
        if tail == after[:k] and all(tail):
            return "\n".join(lines[:-k])
    return text


def repeats_following(text: str, suffix: str) -> bool:
    """Whether `text` only repeats what follows the cursor: the start of the rest of its line,
    or whole lines that come next (blank lines skipped). A line that merely starts like the
    next one is not a repeat (`return x` above `return x + 1`): it was dropped until issue 21
    and was sometimes the right line."""
    rest, _, after = suffix.partition("\n")
    wanted = text.strip()
    if rest.strip():
        return rest.strip().startswith(wanted)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    following = [line.strip() for line in after.split("\n") if line.strip()][: len(lines)]
    return bool(lines) and lines == following


# Why an answer the model wrote was not offered (the status's lastEmptyReason).
DROPPED_REPEAT = "the suggestion was dropped (it repeated the code after the cursor)"
DROPPED_SYNTAX = "the suggestion was dropped (it broke the syntax)"
DROPPED_SECRET = "the suggestion was dropped (it held a redacted secret)"


def postprocess_why(
    snap: DocumentSnapshot, offset: int, mode: CompletionMode, raw: str
) -> tuple[str, str]:
    """The cleaned answer, and when it is empty although the model wrote something, why."""
    suffix = snap.text[offset:]
    text = stop_repetition(raw.rstrip())
    if mode is CompletionMode.SINGLE_LINE:
        text = strip_suffix_overlap(text.split("\n", 1)[0], suffix)
    else:
        text = strip_trailing_suffix_lines(text, suffix)
    if not text.strip():
        return "", DROPPED_REPEAT if raw.strip() else ""
    if repeats_following(text, suffix):
        return "", DROPPED_REPEAT
    text = truncate_completion(snap, offset, text, mode)
    if not text.strip():
        return "", DROPPED_SYNTAX
    if repeats_following(text, suffix):
        return "", DROPPED_REPEAT
    if contains_placeholder(text):
        return "", DROPPED_SECRET  # never insert a placeholder (nor guess the value behind it)
    return text, ""


def postprocess(snap: DocumentSnapshot, offset: int, mode: CompletionMode, raw: str) -> str:
    return postprocess_why(snap, offset, mode, raw)[0]
