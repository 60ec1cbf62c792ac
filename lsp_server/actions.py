"""The actions' policy, owned by the session: which code actions a range offers (no model
call), and explain, refactor, rewrite, fix and review, each on a document the gate lets
through, in the document's action lane (completions never cancel them), with work-done
progress, edits checked before they are offered, and review findings kept in step with edits.

Results are domain values (offers, edits, refusals); handlers/ make LSP of them. Ranges arrive
clamped to the document (handlers/lsp.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lsp_server.context.documents import DocumentSnapshot, Range, TextChange
from lsp_server.errors import (
    EnclaveError,
    GenerationCancelled,
    IgnoredDocument,
    ModelUnavailable,
    OutOfSync,
)
from lsp_server.features import explain as explain_feature
from lsp_server.features import refactor as refactor_feature
from lsp_server.features import refactor_offers
from lsp_server.features import review as review_feature
from lsp_server.features.edits import EditRejected, definition_at
from lsp_server.model.protocol import GenerateJob, GenerationResult, ScoreJob
from lsp_server.model.scheduler import Lane, LaneKind
from lsp_server.port import DocumentEdit, MessageKind, ProgressBegin
from lsp_server.prompts.actions import Generate, spec

if TYPE_CHECKING:
    from lsp_server.session import Session

logger = logging.getLogger(__name__)

T = TypeVar("T")

SOURCE = "enclave"  # the source of the diagnostics Enclave publishes (review findings)
# Actions whose edit the model makes when the user picks them (codeAction/resolve, or the
# refactor command for clients that cannot resolve an edit).
MODEL_EDITS = (*refactor_feature.REFACTORS, "fix")
MAX_TITLE_MESSAGE = 50


class OfferKind(Enum):
    # The values are LSP's CodeActionKind.
    EXPLAIN = ""
    REFACTOR = "refactor.rewrite"
    QUICK_FIX = "quickfix"


class Delivery(Enum):
    RESOLVE = "resolve"  # the model makes the edit on codeAction/resolve
    COMMAND = "command"  # a server command runs it (explain, rewrite; or for lack of resolve)
    EDIT = "edit"  # the checked edit comes with the offer (a review finding's fix)
    DISABLED = "disabled"  # shown, greyed out, with the reason


@dataclass(frozen=True)
class ActionRequest:
    """An action to run later: what a listed action carries (the resolve data or the
    command's argument)."""

    name: str  # "explain", "rewrite", a refactor, or "fix"
    uri: str
    range: Range
    version: int | None = None  # of the document it was listed for (None: not checked)
    diagnostic: str = ""  # fix: the diagnostic to fix, "source: message"
    instruction: str = ""  # rewrite: what the user asked for


@dataclass(frozen=True)
class DiagnosticRef:
    """What the actions need of a diagnostic the editor sent with a code action request."""

    range: Range
    message: str
    source: str = ""
    finding_id: int | None = None  # Enclave's own: which review finding


@dataclass(frozen=True)
class Offer:
    title: str
    kind: OfferKind
    delivery: Delivery
    request: ActionRequest | None = None  # RESOLVE and COMMAND
    edit: DocumentEdit | None = None  # EDIT
    disabled: str = ""  # DISABLED: why
    diagnostic: int | None = None  # the index of the diagnostic it fixes


@dataclass(frozen=True)
class Resolved:
    edit: DocumentEdit | None  # checked; None with the reason in `error`
    error: str = ""
    target: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class Applied:
    applied: bool
    message: str


@dataclass(frozen=True)
class Explained:
    markdown: str
    path: str | None  # the private file it was written to, if any


@dataclass(frozen=True)
class Reviewed:
    findings: int
    dropped: int  # malformed, or quoting text that is not there


def _wanted(kind: OfferKind, only: Sequence[str] | None) -> bool:
    if not only:
        return True
    return any(kind.value == o or kind.value.startswith(o + ".") or o == "" for o in only)


def _short(message: str) -> str:
    if len(message) <= MAX_TITLE_MESSAGE:
        return message
    return message[: MAX_TITLE_MESSAGE - 1] + "…"


class Actions:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- the list (cheap: no model call) ----------------------------------------------------

    async def code_actions(
        self,
        uri: str,
        rng: Range,
        only: Sequence[str] | None,
        diagnostics: Sequence[DiagnosticRef],
    ) -> list[Offer]:
        """What `rng` offers; nothing for a document the model may not see (the status says
        why). Raises UnknownDocument."""
        try:
            snap = self._session.model_view(uri)
        except (IgnoredDocument, OutOfSync):
            return []
        offers: list[Offer] = []
        start, end = snap.offset_at(rng.start), snap.offset_at(rng.end)
        has_target = start != end or definition_at(snap, start, end) is not None

        def here(name: str) -> ActionRequest:
            return ActionRequest(name, uri, rng, snap.version)

        if has_target and only is None:
            offers.append(self._offer(OfferKind.EXPLAIN, here("explain"), lazy=False))
        if has_target and _wanted(OfferKind.REFACTOR, only):
            names = await asyncio.to_thread(
                refactor_offers.applicable, snap, rng, refactor_feature.REFACTORS
            )
            offers += [self._offer(OfferKind.REFACTOR, here(n)) for n in names]
            offers.append(self._offer(OfferKind.REFACTOR, here("rewrite"), lazy=False))
        if _wanted(OfferKind.QUICK_FIX, only):
            for i, diag in enumerate(diagnostics):
                fix = await self._quick_fix(snap, i, diag)
                if fix is not None:
                    offers.append(fix)
        return offers

    def _offer(
        self,
        kind: OfferKind,
        request: ActionRequest,
        title: str = "",
        index: int | None = None,
        lazy: bool = True,
    ) -> Offer:
        """Explain and rewrite run as commands (rewrite asks for an instruction first); the
        model makes a `lazy` action's edit when it is chosen: on resolve, or as the refactor
        command for clients that cannot resolve an edit (Eglot 1.9, for one)."""
        resolves = lazy and self._session.features.resolves_code_action_edits
        delivery = Delivery.RESOLVE if resolves else Delivery.COMMAND
        title = title or spec(request.name).title
        return Offer(title, kind, delivery, request, diagnostic=index)

    async def _quick_fix(
        self, snap: DocumentSnapshot, index: int, diag: DiagnosticRef
    ) -> Offer | None:
        if diag.source == SOURCE:  # our own review finding: its fix is already known
            finding_id = diag.finding_id if diag.finding_id is not None else -1
            found = self._session.reviews.find(snap.uri, finding_id)
            if found is None or not found.fix.strip():
                return None
            title = f"Enclave: apply the suggested fix ({found.category})"
            kind = OfferKind.QUICK_FIX
            try:
                # The checks parse the whole file: off the event loop, like every edit check.
                edit = await asyncio.to_thread(review_feature.fix_edit, snap, found)
            except (EditRejected, EnclaveError) as exc:
                return Offer(title, kind, Delivery.DISABLED, disabled=str(exc), diagnostic=index)
            checked = DocumentEdit.of(snap, [edit])
            return Offer(title, kind, Delivery.EDIT, edit=checked, diagnostic=index)
        origin = f"{diag.source}: " if diag.source else ""
        message = " ".join(diag.message.split())
        request = ActionRequest("fix", snap.uri, diag.range, snap.version, origin + message)
        title = f"{spec('fix').title}: {_short(message)}"
        return self._offer(OfferKind.QUICK_FIX, request, title, index)

    # -- model-made edits -------------------------------------------------------------------

    async def resolve_action(self, request: ActionRequest, title: str) -> Resolved:
        """codeAction/resolve: the checked edit of a listed action, or why there is none (also
        shown to the user). Raises UnknownDocument."""
        try:
            snap = self._session.model_view(request.uri)
        except (IgnoredDocument, OutOfSync) as exc:
            return self._refused(title, str(exc))
        if snap.version != request.version:
            return self._refused(title, "the document changed; ask again")
        try:
            outcome = await self._refactor(snap, request)
        except EnclaveError as exc:
            return self._refused(title, str(exc))
        if outcome.edit is None:
            return self._refused(title, outcome.error)
        if not self._session.is_current(snap):
            return self._refused(title, "the document changed; ask again")
        edit = DocumentEdit.of(snap, [outcome.edit])
        return Resolved(edit, target=outcome.target.label, attempts=outcome.attempts)

    def _refused(self, title: str, why: str) -> Resolved:
        self._show_error(f"{title}: no change offered ({why})")
        return Resolved(None, why)

    async def run_action(self, request: ActionRequest) -> Applied:
        """A refactor, fix or rewrite run as a command: its checked edit applied through the
        client, or why not. Raises UnknownDocument, IgnoredDocument, OutOfSync."""
        snap = self._session.model_view(request.uri)
        if request.version is not None and snap.version != request.version:
            message = "Enclave: the document changed; ask for the action again"
            self._show_error(message)
            return Applied(False, message)
        title = spec(request.name).title
        try:
            outcome = await self._with_progress(title, self._refactor(snap, request))
        except (ModelUnavailable, GenerationCancelled) as exc:
            return Applied(False, str(exc))
        if outcome.edit is not None and not self._session.is_current(snap):
            return Applied(False, f"{title}: the document changed; ask again")
        if outcome.edit is None:
            message = f"{title}: not applied: {outcome.error}"
            self._show_error(message)
            return Applied(False, message)
        edit = DocumentEdit.of(snap, [outcome.edit])
        answer = await self._session.client.apply_edit(edit, title)
        if not answer.applied:
            return Applied(False, answer.failure_reason or "the editor refused it")
        return Applied(True, f"{title}: {outcome.target.label}")

    def _refactor(
        self, snap: DocumentSnapshot, request: ActionRequest
    ) -> Awaitable[refactor_feature.RefactorOutcome]:
        return refactor_feature.refactor(
            snap,
            request.range,
            request.name,
            self._session.model_family,
            self._generator(snap.uri),
            instruction=request.instruction,
            diagnostic=request.diagnostic,
        )

    # -- explain and review -----------------------------------------------------------------

    async def explain(self, uri: str, rng: Range) -> Explained:
        """Raises UnknownDocument, IgnoredDocument, OutOfSync, and the model's errors."""
        session = self._session
        snap = session.model_view(uri)
        explaining = explain_feature.explain(snap, rng, session.model_family, self._generator(uri))
        result = await self._with_progress("Enclave: explaining", explaining)
        path: str | None = None
        try:
            path = str(explain_feature.write_private(result.markdown, uri))
        except OSError as exc:
            logger.warning("could not write the explanation file: %s", exc)
        if path is not None and session.features.show_document:
            with contextlib.suppress(Exception):  # the client may refuse; the result stands
                await session.client.show_document(Path(path).as_uri())
        return Explained(result.markdown, path)

    async def review(self, uri: str, rng: Range | None) -> Reviewed:
        """Review the file (or the range) and publish the findings as diagnostics. Raises
        UnknownDocument, IgnoredDocument, OutOfSync, and the model's errors."""
        session = self._session
        snap = session.model_view(uri)
        reviewing = review_feature.review(snap, rng, session.model_family, self._generator(uri))
        outcome = await self._with_progress("Enclave: reviewing", reviewing)
        if not session.is_current(snap):
            raise GenerationCancelled("the document changed during the review; run it again")
        session.reviews.set(uri, outcome.findings, outcome.target.range if rng else None)
        self._publish(uri)
        return Reviewed(len(outcome.findings), outcome.dropped)

    def on_document_change(self, uri: str, changes: Sequence[TextChange]) -> None:
        """Review findings move with the text above them; those an edit touches go."""
        docs = self._session.documents
        version = docs.get(uri).version if changes and uri in docs else None
        if self._session.reviews.on_change(uri, changes, version):
            self._publish(uri)

    def _publish(self, uri: str) -> None:
        docs = self._session.documents
        version = docs.get(uri).version if uri in docs else None
        self._session.client.publish_diagnostics(uri, self._session.reviews.get(uri), version)

    # -- shared -----------------------------------------------------------------------------

    def _generator(self, uri: str) -> Generate:
        """Actions run in their own lane per document, so completions never cancel them."""

        def generate(job: GenerateJob | ScoreJob) -> Awaitable[GenerationResult]:
            return self._session.submit(Lane(LaneKind.ACTION, uri), job)

        return generate

    async def _with_progress(self, title: str, work: Awaitable[T]) -> T:
        """Cancellable progress while `work` runs; the user's cancel ends it with
        GenerationCancelled."""
        async with self._session.progress(ProgressBegin(title, cancellable=True)) as progress:
            try:
                return await work
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if progress.cancelled and task is not None:
                    task.uncancel()
                    raise GenerationCancelled(f"{title}: cancelled") from None
                raise

    def _show_error(self, message: str) -> None:
        self._session.client.show_message(MessageKind.ERROR, message)
