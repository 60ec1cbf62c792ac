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


def postprocess(snap: DocumentSnapshot, offset: int, mode: CompletionMode, raw: str) -> str:
    suffix = snap.text[offset:]
    text = stop_repetition(raw.rstrip())
    if mode is CompletionMode.SINGLE_LINE:
        text = strip_suffix_overlap(text.split("\n", 1)[0], suffix)
    else:
        text = strip_trailing_suffix_lines(text, suffix)
    text = truncate_completion(snap, offset, text, mode)
    if not text.strip() or suffix.lstrip().startswith(text.strip()):
        return ""  # nothing, or a repeat of the text after the cursor
    if contains_placeholder(text):
        return ""  # never insert a redaction placeholder (nor guess the value behind it)
    return text
