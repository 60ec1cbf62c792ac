"""Secret redaction: before any text leaves the server for a model, secrets in it are replaced
with placeholders. Regular expressions and an entropy test, not a detector library: this runs
on every keystroke's prompt and must take well under a millisecond.

A suggestion that contains a placeholder is dropped, so a redacted value is never re-inserted
(the model never saw it) and no placeholder is inserted into the user's code either."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections import Counter

from lsp_server.model.protocol import CompletionJob, GenerateJob, Job

PLACEHOLDER = "<redacted-secret>"

# Whole-value patterns: the match is the secret.
_TOKENS = re.compile(
    "|".join(
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
            r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{40,}\b",
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack
            r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}\b",  # OpenAI / Stripe style keys
            r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b",
            r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
            r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
            r"\bnpm_[A-Za-z0-9]{36}\b",
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",  # JWT
        )
    )
)
# Credentials inside URLs: scheme://user:PASSWORD@host
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<secret>[^@\s/]+)(?=@)")
# Assignments to secret-sounding names: password = "...", "api_key": '...', TOKEN=...
_ASSIGNMENT = re.compile(
    r"""(?P<head>(?i:\b[\w.-]*(?:pass(?:word|wd)?|secret|token|api[_-]?key|apikey|"""
    r"""private[_-]?key|access[_-]?key|auth|credential)[\w.-]*)["']?\s*(?::=|=|:)\s*)"""
    r"""(?P<quote>["']?)(?P<secret>[^\s"',;)]{6,})(?P=quote)"""
)
# Quoted strings that look random enough to be keys.
_QUOTED = re.compile(r"""(?P<quote>["'])(?P<secret>[A-Za-z0-9+/=_\-]{24,})(?P=quote)""")
# Bits per character above which a string looks random (hex strings top out at 4).
ENTROPY_BITS = 4.0
HEX_ENTROPY_BITS = 3.0
_HEX = set("0123456789abcdefABCDEF")


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def _looks_random(s: str) -> bool:
    has_digit = any(c.isdigit() for c in s)
    has_alpha = any(c.isalpha() for c in s)
    threshold = HEX_ENTROPY_BITS if set(s) <= _HEX else ENTROPY_BITS
    return has_digit and has_alpha and len(s) >= 16 and _entropy(s) >= threshold


def redact(text: str) -> str:
    if not text:
        return text
    return _redact(text)


@functools.lru_cache(maxsize=64)
def _redact(text: str) -> str:
    # Memoised: while the user types, the prompt anchor's prefix and suffix stay the same
    # strings, and four regex passes over them cost about a millisecond per request.
    text = _TOKENS.sub(PLACEHOLDER, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + PLACEHOLDER, text)

    def assignment(m: re.Match[str]) -> str:
        value = m.group("secret")
        if value == PLACEHOLDER or value.startswith(("$", "{", "os.", "env", "process.")):
            return m.group(0)  # a variable or lookup, not a literal secret
        if not m.group("quote") and not _looks_random(value):
            return m.group(0)  # unquoted: code (password = form["password"]) unless random
        return m.group("head") + m.group("quote") + PLACEHOLDER + m.group("quote")

    text = _ASSIGNMENT.sub(assignment, text)

    def quoted(m: re.Match[str]) -> str:
        if _looks_random(m.group("secret")):
            return m.group("quote") + PLACEHOLDER + m.group("quote")
        return m.group(0)

    return _QUOTED.sub(quoted, text)


def redact_job(job: Job) -> Job:
    """The job with every text field that reaches the model redacted."""
    if isinstance(job, GenerateJob):
        return dataclasses.replace(job, prompt=redact(job.prompt))
    assert isinstance(job, CompletionJob)
    return dataclasses.replace(
        job,
        prefix=redact(job.prefix),
        suffix=redact(job.suffix),
        extra_context=redact(job.extra_context),
        middle=redact(job.middle),
        context_files=tuple((path, redact(content)) for path, content in job.context_files),
    )


def contains_placeholder(text: str) -> bool:
    return PLACEHOLDER in text or "redacted-secret" in text
