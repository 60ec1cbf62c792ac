"""Review a file or a selection: the model answers JSON (constrained by a schema, and still
validated here), each finding quotes the code it is about, and only findings whose quote is
found in the document are kept, on the exact range of the quote.

Findings belong to one document version; `ReviewStore.on_change` moves them below an edit and
drops those the edit touches, so they never point at text that is no longer there.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from lsp_server.context.documents import (
    DocumentSnapshot,
    Position,
    Range,
    TextChange,
    file_name,
)
from lsp_server.errors import Unsupported
from lsp_server.features.edits import (
    Edit,
    EditRejected,
    Target,
    check_edits,
    resolve_target,
)
from lsp_server.features.explain import gather_context
from lsp_server.features.slips import CONTEXT_CHARS, Slip, find_slips
from lsp_server.model.json_items import close_list
from lsp_server.model.protocol import ScoreJob
from lsp_server.prompts.actions import Generate, build_prompt

logger = logging.getLogger(__name__)


CATEGORIES = ("bug-risk", "security", "performance", "readability")
SEVERITIES = ("error", "warning", "information", "hint")
MAX_FINDINGS = 5
MAX_TARGET_CHARS = 8000
DEADLINE_S = 180.0

FINDINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "maxItems": MAX_FINDINGS,
            "items": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "severity": {"type": "string", "enum": list(SEVERITIES)},
                    "message": {"type": "string"},
                    "snippet": {"type": "string"},
                    "fix": {"type": "string"},
                },
                "required": ["category", "severity", "message", "snippet", "fix"],
            },
        }
    },
    "required": ["findings"],
}

_ids = itertools.count(1)


@dataclass(frozen=True)
class Finding:
    id: int
    uri: str
    version: int
    range: Range
    category: str
    severity: str
    message: str
    snippet: str
    fix: str  # replacement for the snippet; "" when the model proposed none
    basis: str = "model"  # "model": the model's answer; "slip": the slip pass (features/slips.py)


@dataclass(frozen=True)
class ReviewOutcome:
    target: Target
    findings: tuple[Finding, ...]
    dropped: int  # findings that were malformed or quoted text that is not there


def parse_findings(text: str) -> list[dict[str, str]]:
    """The well-formed findings of a JSON answer (anything else is dropped, not guessed)."""
    try:
        raw = json.loads(close_list(text))  # cut before a repeated finding: `[{...}`
    except ValueError:
        return []
    # A bare list is what the review asks for; an object with "findings" is accepted too.
    items = raw if isinstance(raw, list) else raw.get("findings") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        return []
    good: list[dict[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        fields = {k: item.get(k) for k in ("category", "severity", "message", "snippet", "fix")}
        if fields["fix"] is None:
            fields["fix"] = ""
        if not all(isinstance(v, str) for v in fields.values()):
            continue
        clean = {k: str(v) for k, v in fields.items()}
        if clean["category"] not in CATEGORIES or clean["severity"] not in SEVERITIES:
            continue
        if not clean["message"].strip() or not clean["snippet"].strip():
            continue
        good.append(clean)
    return good[:MAX_FINDINGS]


def locate(snap: DocumentSnapshot, target: Target, snippet: str) -> tuple[int, int] | None:
    """Offsets of the quoted snippet inside the target, or None when it is not there."""
    quote = snippet.strip()
    if not quote:
        return None
    at = snap.text.find(quote, target.start, target.end)
    return None if at < 0 else (at, at + len(quote))


async def review(
    snap: DocumentSnapshot, rng: Range | None, family: str, generate: Generate
) -> ReviewOutcome:
    """Raises ModelUnavailable / GenerationCancelled from the model."""
    if rng is None:
        target = Target(snap, 0, len(snap.text), "the file")
        context = "(the whole file: see the target)"
    else:
        target = resolve_target(snap, rng)
        context = gather_context(target)
    prompt = build_prompt(
        "review",
        family,
        language=snap.language.name if snap.language else snap.language_id,
        path=file_name(snap.uri),
        context=context,
        target=target.text[:MAX_TARGET_CHARS],
    )
    slips = await _slip_pass(snap, target, generate)
    # The answer is constrained to a bare list of findings: held to an object that must open
    # with {"findings":, the 1.5B answered [] to all of 10 plain bugs (SQL injection, eval,
    # os.system, ...); asked for the list it found them (the code-server test's eval).
    findings_schema = FINDINGS_SCHEMA["properties"]["findings"]
    result = await generate(prompt.job(DEADLINE_S, findings_schema, stop_repeats=True))
    parsed = parse_findings(result.text)
    findings: list[Finding] = []
    for item in parsed:
        where = locate(snap, target, item["snippet"])
        if where is None:
            logger.info("review: dropped a finding whose quote is not in the document")
            continue
        rng_found = Range(snap.position_at(where[0]), snap.position_at(where[1]))
        if any(f.range == rng_found and f.category == item["category"] for f in findings):
            continue
        findings.append(
            Finding(
                next(_ids),
                snap.uri,
                snap.version,
                rng_found,
                item["category"],
                item["severity"],
                item["message"].strip(),
                snap.text[where[0] : where[1]],
                item["fix"].strip("\n"),
            )
        )
    kept = len(findings)
    found = [_finding(snap, slip) for slip in slips]
    findings = [_graded(f, found) for f in findings] + found
    return ReviewOutcome(target, tuple(findings), len(parsed) - kept)


def _graded(finding: Finding, slips: Sequence[Finding]) -> Finding:
    """The model's own severity is not evidence: on the actions bench's tune half its
    bug-risk "errors" ("does not handle the case where ...") came on a third of the clean
    functions. Only security findings, and findings on a line where the slip pass found
    something, keep it; the others are information."""
    if finding.category == "security" or finding.severity in ("information", "hint"):
        return finding
    lines = range(finding.range.start.line, finding.range.end.line + 1)
    if any(s.range.start.line in lines for s in slips):
        return finding
    return replace(finding, severity="information")


async def _slip_pass(snap: DocumentSnapshot, target: Target, generate: Generate) -> list[Slip]:
    """The slips of the target (features/slips.py); none when the backend cannot score. The
    context is the file before the target, as it is: scored after the review prompt instead
    (which the model pass would then reuse), the same functions of the actions bench's tune
    half gave half the slips (docs/actions.md)."""
    text = target.text[:MAX_TARGET_CHARS]
    head = snap.text[max(0, target.start - CONTEXT_CHARS) : target.start]
    if target.start > CONTEXT_CHARS and "\n" in head:
        head = head[head.index("\n") + 1 :]  # from a line start
    try:
        result = await generate(ScoreJob(head, text, DEADLINE_S))
    except Unsupported as exc:
        logger.info("review: no slip pass: %s", exc)
        return []
    return await asyncio.to_thread(find_slips, snap, target.start, text, result.scores)


def _finding(snap: DocumentSnapshot, slip: Slip) -> Finding:
    return Finding(
        next(_ids),
        snap.uri,
        snap.version,
        Range(snap.position_at(slip.start), snap.position_at(slip.end)),
        "bug-risk",
        slip.severity,
        slip.message,
        slip.actual,
        slip.fix,
        "slip",
    )


def fix_edit(snap: DocumentSnapshot, finding: Finding) -> Edit:
    """The finding's proposed fix as a checked edit; raises EditRejected."""
    if not finding.fix.strip():
        raise EditRejected("the model proposed no fix")
    if finding.uri != snap.uri or finding.version != snap.version:
        raise EditRejected("the document changed since the review")
    start, end = snap.offset_at(finding.range.start), snap.offset_at(finding.range.end)
    if snap.text[start:end] != finding.snippet:
        raise EditRejected("the reviewed code is no longer there")
    target = Target(snap, start, end, "finding")
    fix = finding.fix
    if "\n" not in finding.snippet:
        fix = fix.strip()
    edit = Edit(snap.uri, snap.version, start, end, fix)
    check_edits(snap, target, [edit])
    return edit


# -- keeping findings in step with edits ----------------------------------------------------


def _before(a: Position, b: Position) -> bool:
    return (a.line, a.character) < (b.line, b.character)


def _end_of_insert(start: Position, text: str) -> Position:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(lines) == 1:
        return Position(start.line, start.character + len(lines[0].encode("utf-16-le")) // 2)
    return Position(start.line + len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)


def _shift(pos: Position, change_end: Position, new_end: Position) -> Position:
    """`pos`, which lies at or after `change_end`, after the change replaced up to it."""
    if pos.line == change_end.line:
        return Position(new_end.line, new_end.character + pos.character - change_end.character)
    return Position(pos.line + new_end.line - change_end.line, pos.character)


def move_finding(finding: Finding, change: TextChange) -> Finding | None:
    """The finding after one change, or None when the change touches it."""
    if change.range is None:
        return None
    c = change.range
    f = finding.range
    if _before(f.end, c.start):  # entirely before the change: unchanged
        return finding
    if _before(c.end, f.start):  # entirely after: moves with the text
        new_end = _end_of_insert(c.start, change.text)
        moved = Range(_shift(f.start, c.end, new_end), _shift(f.end, c.end, new_end))
        return replace(finding, range=moved)
    return None  # the change touches the finding's text


class ReviewStore:
    """The current findings per document."""

    def __init__(self) -> None:
        self._findings: dict[str, list[Finding]] = {}

    def set(self, uri: str, findings: Sequence[Finding], within: Range | None = None) -> None:
        """Replace the findings (of the whole file, or only those inside `within`)."""
        kept: list[Finding] = []
        if within is not None:
            kept = [
                f
                for f in self._findings.get(uri, [])
                if _before(f.range.end, within.start) or _before(within.end, f.range.start)
            ]
        self._findings[uri] = kept + list(findings)

    def get(self, uri: str) -> list[Finding]:
        return list(self._findings.get(uri, []))

    def find(self, uri: str, finding_id: int) -> Finding | None:
        return next((f for f in self._findings.get(uri, []) if f.id == finding_id), None)

    def on_change(self, uri: str, changes: Sequence[TextChange], version: int | None) -> bool:
        """Move or drop the findings of `uri` after `changes` (none: the document closed).
        Returns whether anything changed (the diagnostics must then be published again)."""
        current = self._findings.get(uri)
        if not current:
            return False
        if not changes:
            del self._findings[uri]
            return True
        moved: list[Finding] = []
        for finding in current:
            f: Finding | None = finding
            for change in changes:
                f = move_finding(f, change) if f is not None else None
            if f is not None:
                moved.append(replace(f, version=version) if version is not None else f)
        self._findings[uri] = moved
        return True
