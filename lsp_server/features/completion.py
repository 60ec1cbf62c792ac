"""Inline completion: decide whether and how much to complete, answer from what is already
known when possible, else ask the model, and clean the answer.

No pygls here: the session gives a document snapshot and a position, and gets back the text to
insert or the reason there is none.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from lsp_server.context.documents import Document, DocumentSnapshot, Position, file_name
from lsp_server.context.gather.pipeline import GatheredContext
from lsp_server.context.syntax import (
    CompletionMode,
    block_rule,
    classify_position,
    definition_chain,
    imports,
)
from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.features.budget import AdaptiveBudget
from lsp_server.features.postprocess import postprocess, postprocess_why
from lsp_server.features.suggestions import Anchor, Anchors, Suggestion, SuggestionCache
from lsp_server.model.block_end import BlockEnd
from lsp_server.model.protocol import CompletionJob, GenerationResult, GenerationStats
from lsp_server.prompts.fim import WINDOW_SNAP_LINES
from lsp_server.settings import CompletionSettings

logger = logging.getLogger(__name__)

# Runs a job for a document: (uri, job, background) -> result.
Submit = Callable[[str, CompletionJob, bool], Awaitable[GenerationResult]]
# Repository context for a position: (snapshot, offset, budget in tokens) -> context.
Gather = Callable[[DocumentSnapshot, int, int], Awaitable[GatheredContext]]

# Prefetch parses the document as it would be after accepting; above this size it is skipped.
MAX_PREFETCH_CHARS = 300_000
# Rough characters per token, only to guess whether stable context is already in the window.
CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class CompletionOutcome:
    text: str
    reason: str  # why the text is empty, or "ok"
    mode: CompletionMode
    stats: GenerationStats | None = None
    source: str = "model"  # who wrote it: model | prefetch (computed ahead)
    cached: bool = False  # answered from the suggestion cache, with no model call
    suggestion_id: str = ""  # set by the session: what an acceptance names (stats)
    # Other suggestions to cycle through (an invoked request), best first, and their ids.
    alternatives: tuple[str, ...] = ()
    alternative_ids: tuple[str, ...] = ()


@dataclass
class Counters:
    """Figures for `enclave/getStatus` (benchmarks read them)."""

    requests: int = 0
    answeredFromCache: int = 0  # camelCase: protocol field names
    answeredFromPrefetch: int = 0
    modelCalls: int = 0
    promptTokens: int = 0
    reusedTokens: int = 0
    evaluatedTokens: int = 0
    superseded: int = 0  # requests whose model call was cancelled by a newer one

    def count(self, stats: GenerationStats) -> None:
        self.modelCalls += 1
        self.promptTokens += stats.prompt_tokens
        self.reusedTokens += stats.reused_tokens
        self.evaluatedTokens += stats.evaluated_tokens


def extra_context(snap: DocumentSnapshot, offset: int, window_chars: int) -> str:
    """Imports and enclosing definitions that fall outside the window the model will see."""
    window = snap.text[max(0, offset - window_chars) : offset]
    lines = [*imports(snap), *definition_chain(snap, offset)]
    return "\n".join(line for line in lines if line.strip() and line not in window)


def _ends_in_one_space(prefix: str) -> bool:
    """Whether the cursor's line has text and ends in exactly one space."""
    line = prefix[prefix.rfind("\n") + 1 :]
    return line.endswith(" ") and not line.endswith("  ") and bool(line.strip())


def distinct(texts: list[str]) -> list[str]:
    """The non-empty texts, each once, in their order."""
    return list(dict.fromkeys(t for t in texts if t))


def heal(text: str, job: CompletionJob) -> str:
    """Drop from the answer the blanks the user typed but the prompt left out."""
    return text[len(job.heal) :] if job.heal and text.startswith(job.heal) else text


# The worker cuts the window in model tokens; this first cut, in characters, only bounds what
# is sent (and redacted) per request in a huge file. It is generous: no token is this long.
MAX_CHARS_PER_TOKEN = 8


def cut_prefix(prefix: str, max_chars: int) -> str:
    """The end of `prefix`, starting on a line whose number is a multiple of the window snap,
    so the worker's own line-snapped window is unchanged by this cut."""
    if len(prefix) <= max_chars:
        return prefix
    start = len(prefix) - max_chars
    line = prefix.count("\n", 0, start)
    skip = -(line + 1) % WINDOW_SNAP_LINES + 1  # line breaks to pass to reach a snapped line
    for _ in range(skip):
        start = prefix.find("\n", start) + 1
        if start == 0:
            return prefix[-max_chars:]
    return prefix[start:]


def cut_suffix(suffix: str, max_chars: int) -> str:
    if len(suffix) <= max_chars:
        return suffix
    end = suffix.rfind("\n", 0, max_chars)
    return suffix[: end if end > 0 else max_chars]


@dataclass
class Completer:
    """Completion state of one session: the suggestion cache, prompt anchors and the speed
    estimates. Every request and background job goes through `submit`."""

    submit: Submit
    gather: Gather | None = None
    cache: SuggestionCache = field(default_factory=SuggestionCache)
    anchors: Anchors = field(default_factory=Anchors)
    budget: AdaptiveBudget = field(default_factory=AdaptiveBudget)
    counters: Counters = field(default_factory=Counters)

    async def complete(
        self,
        snap: DocumentSnapshot,
        position: Position,
        settings: CompletionSettings,
        invoked: bool = False,
    ) -> CompletionOutcome:
        """Raises PositionOutOfRange for a position beyond the document. An invoked request
        (the user asked, e.g. for the next suggestion) also gets the alternatives."""
        offset = snap.offset_at(position)
        self.counters.requests += 1
        gate = classify_position(snap, offset)
        if gate.mode is CompletionMode.NONE:
            return CompletionOutcome("", f"no completion here ({gate.reason})", gate.mode)
        wanted = settings.alternatives if invoked else 0
        shown = ""  # the suggestion the editor shows here, as typed through
        if settings.cache:
            found = self._cached(snap, offset, gate.mode, 1 + wanted)
            # Alternatives wanted and only one cached: the model is asked for them.
            if found and (not wanted or len(found) > 1):
                return self._from_cache(found, gate.mode)
            shown = next(iter(found), "")
        job = await self._job(snap, offset, gate.mode, settings)
        if wanted:
            job = dataclasses.replace(job, alternatives=wanted)
        try:
            result = await self.submit(snap.uri, job, False)
        except (GenerationCancelled, ModelUnavailable) as exc:
            if isinstance(exc, GenerationCancelled):
                self.counters.superseded += 1
            return CompletionOutcome("", str(exc), gate.mode)
        stats = result.stats
        self.counters.count(stats)
        self.budget.observe(stats)
        mode = CompletionMode.SINGLE_LINE if job.stop else CompletionMode.MULTI_LINE
        text, dropped = postprocess_why(snap, offset, mode, heal(result.text, job))
        # The alternatives are cleaned as the first is; one stands in for a first dropped.
        texts = distinct(
            [text, *(postprocess(snap, offset, mode, heal(t, job)) for t in result.alternatives)]
        )
        if shown:
            # Asked again where a suggestion is shown (the next-suggestion key): it stays the
            # first, so that the editor's "next" moves away from it whatever the model now
            # answers (VS Code steps from the first item when none was selected).
            texts = distinct([shown, *texts])[: 1 + wanted]
        if texts:
            if settings.cache:
                for t in reversed(texts):  # the first added last: a lookup prefers it
                    self.cache.add(
                        Suggestion(snap.uri, snap.text[:offset], snap.text[offset:], t, "model")
                    )
            return CompletionOutcome(texts[0], "ok", mode, stats, alternatives=tuple(texts[1:]))
        if stats.stop_reason == "deadline":
            reason = "the model was too slow (deadline reached)"
        elif dropped:
            reason = dropped
        else:
            reason = "the model suggested nothing"
        logger.info("empty completion: %s (%s)", reason, stats.stop_reason)
        return CompletionOutcome("", reason, mode, stats)

    def _cached(
        self, snap: DocumentSnapshot, offset: int, mode: CompletionMode, most: int
    ) -> dict[str, Suggestion]:
        """Up to `most` suggestions being typed through here, cleaned, by text, the latest
        first."""
        hits = self.cache.lookup_all(snap.uri, snap.text[:offset], snap.text[offset:], most)
        found: dict[str, Suggestion] = {}
        for remainder, suggestion in hits:
            multi = CompletionMode.MULTI_LINE if "\n" in remainder else mode
            found.setdefault(postprocess(snap, offset, multi, remainder), suggestion)
        found.pop("", None)
        return found

    def _from_cache(self, found: dict[str, Suggestion], mode: CompletionMode) -> CompletionOutcome:
        """The answer from the suggestions being typed through (`_cached`, not empty)."""
        texts = list(found)
        item = found[texts[0]]
        if item.source == "prefetch":
            self.counters.answeredFromPrefetch += 1
        else:
            self.counters.answeredFromCache += 1
        first_mode = CompletionMode.MULTI_LINE if "\n" in texts[0] else mode
        return CompletionOutcome(
            texts[0],
            "ok",
            first_mode,
            source=item.source,
            cached=True,
            alternatives=tuple(texts[1:]),
        )

    async def _job(
        self,
        snap: DocumentSnapshot,
        offset: int,
        mode: CompletionMode,
        settings: CompletionSettings,
        kind: str = "user",
    ) -> CompletionJob:
        prefix, suffix = snap.text[:offset], snap.text[offset:]
        typed = ""
        anchored = self.anchors.typed_since(snap.uri, prefix, suffix) if settings.cache else None
        if anchored is None and self.gather is not None and settings.contextFiles > 0:
            # Off the event loop; meanwhile another request may have set an anchor to reuse.
            ctx = await self.gather(snap, offset, settings.contextFiles)
            if settings.cache:
                anchored = self.anchors.typed_since(snap.uri, prefix, suffix)
        else:
            ctx = GatheredContext()
        if anchored is not None:
            anchor, typed = anchored
        else:
            window = settings.contextTokens * CHARS_PER_TOKEN
            anchor = Anchor(
                prefix,
                suffix,
                extra_context(snap, offset, window),
                ctx.files,
                ctx.path,
                ctx.repo,
            )
            # A prefetch is for a document that may never exist: it must not move the anchor
            # of the real one (the model's cache follows the anchor).
            if settings.cache and kind != "prefetch":
                self.anchors.set(snap.uri, anchor)
        plan = self.budget.plan(
            mode,
            settings.maxTokensLine,
            settings.maxTokensBlock,
            settings.targetLatencyMs / 1000,
            settings.deadlineMs / 1000,
            expected_eval_tokens=len(typed) // CHARS_PER_TOKEN + 8
            if anchored
            else settings.contextTokens // 2,
        )
        if plan.reason:
            logger.info("%s", plan.reason)
        single = plan.mode is CompletionMode.SINGLE_LINE
        # A block stops where the server would cut it anyway (generate only what is shown); a
        # prefetched line at its end (see prefetch).
        end = block_rule(snap, offset) if not single else None
        if single and kind == "prefetch":
            end = BlockEnd("line")
        max_chars = settings.contextTokens * MAX_CHARS_PER_TOKEN
        # Trailing blanks stay out of the middle (see heal): a lone space token there makes
        # the model write its usual " word" token, a second space.
        healed = typed.rstrip(" \t")
        # The same for a space ending the anchor's own line (`# `, `return `): the model
        # writes its usual " word" token (prose after a comment marker, issue 21). The space
        # goes into the middle once something is typed after it, so the prompt before the
        # middle stays the same while the user types.
        space = " " if _ends_in_one_space(anchor.prefix) else ""
        prompt_prefix = anchor.prefix[: len(anchor.prefix) - len(space)]
        middle = space + healed if healed else ""
        healing = typed[len(healed) :] if healed else space + typed
        return CompletionJob(
            prefix=cut_prefix(prompt_prefix, max_chars),
            suffix=cut_suffix(anchor.suffix, max_chars),
            path=(anchor.context_files and anchor.context_path) or file_name(snap.uri),
            extra_context=anchor.extra_context,
            budget=settings.contextTokens + (settings.contextFiles if anchor.context_files else 0),
            max_tokens=plan.max_tokens,
            stop=("\n",) if single and kind == "user" else (),
            deadline_s=plan.deadline_s,
            middle=middle,
            heal=healing,
            reuse_cache=settings.cache,
            kind=kind,
            context_files=anchor.context_files,
            context_budget=settings.contextFiles,
            repo=anchor.repo,
            comment_prefix=snap.language.comment_prefix if snap.language else "#",
            document=snap.uri,
            block_end=end.rule if end else "",
            block_open=end.open if end else (),
            block_close=end.close if end else (),
        )

    async def prefetch(
        self, snap: DocumentSnapshot, offset: int, accepted: str, settings: CompletionSettings
    ) -> None:
        """Compute, in idle time, the suggestion that would follow `accepted` once inserted, so
        accept-then-continue is answered from the cache. A user request cancels it."""
        if len(snap.text) > MAX_PREFETCH_CHARS:
            return  # parsing the would-be document would hold the event loop too long
        text = snap.text[:offset] + accepted + snap.text[offset:]
        doc = Document(snap.uri, snap.language_id, snap.version, text)
        future = doc.snapshot()
        at = offset + len(accepted)
        gate = classify_position(future, at)
        if gate.mode is CompletionMode.NONE:
            return
        job = await self._job(future, at, gate.mode, settings, kind="prefetch")
        try:
            result = await self.submit(snap.uri, job, True)
        except (GenerationCancelled, ModelUnavailable):
            return
        self.counters.count(result.stats)
        self.budget.observe(result.stats)
        raw = heal(result.text, job)
        if gate.mode is CompletionMode.SINGLE_LINE:
            # The likely next step after accepting a line is a new line: keep one line, with
            # the line break and indentation the model wrote before it.
            head, _, rest = raw.partition("\n")
            raw = head if head.strip() else "\n" + rest.split("\n", 1)[0]
        mode = CompletionMode.MULTI_LINE if "\n" in raw else gate.mode
        cleaned = postprocess(future, at, mode, raw)
        if cleaned:
            self.cache.add(Suggestion(snap.uri, text[:at], text[at:], cleaned, "prefetch"))

    async def warm(self, snap: DocumentSnapshot, offset: int, settings: CompletionSettings) -> None:
        """Evaluate the prompt for a position in idle time (one token generated): the next
        request there, or typed on from there, reuses that work."""
        gate = classify_position(snap, offset)
        if gate.mode is CompletionMode.NONE:
            return
        job = await self._job(snap, offset, gate.mode, settings, kind="warmup")
        job = CompletionJob(**{**job.__dict__, "max_tokens": 1})
        try:
            result = await self.submit(snap.uri, job, True)
        except (GenerationCancelled, ModelUnavailable):
            return
        self.counters.count(result.stats)

    @staticmethod
    def warm_offset(snap: DocumentSnapshot, offset: int) -> int | None:
        """Where to warm for a cursor at `offset`: there, or when no completion is possible
        there (on a word, as in Vim's normal mode), at the end of its line."""
        if classify_position(snap, offset).mode is not CompletionMode.NONE:
            return offset
        end = snap.text.find("\n", offset)
        end = len(snap.text) if end < 0 else end
        if end != offset and classify_position(snap, end).mode is not CompletionMode.NONE:
            return end
        return None

    def covers(self, uri: str, text: str, offset: int) -> bool:
        """Whether a request at `offset` would reuse the document's prompt anchor."""
        return self.anchors.typed_since(uri, text[:offset], text[offset:]) is not None

    def forget(self, uri: str) -> None:
        self.cache.forget(uri)
        self.anchors.forget(uri)
