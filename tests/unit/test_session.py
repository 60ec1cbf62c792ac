"""The session as the one application service, in-process with a scripted model and a port
that records what it asked of the editor: the gate for every reason and at every entry point,
a completion, the lane of each kind of job, the components and listeners it wires, and what
depends on the client's capabilities."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server import log
from lsp_server.actions import ActionRequest, DiagnosticRef
from lsp_server.context.documents import Position, Range, TextChange
from lsp_server.errors import (
    DocumentError,
    GenerationCancelled,
    IgnoredDocument,
    OutOfSync,
    UnknownDocument,
)
from lsp_server.model.backend import ModelState
from lsp_server.model.protocol import CompletionJob, GenerateJob
from lsp_server.model.scheduler import Lane, LaneKind
from lsp_server.port import MessageKind
from lsp_server.workspace import IGNORE_GLOB, WATCH_GLOB
from tests.unit.session_helpers import (
    AT,
    EVERYTHING,
    NOTHING,
    TEXT,
    URI,
    Harness,
    harness,
    insert,
)

# -- the gate -------------------------------------------------------------------------------

# Ways a document becomes one the model may not see: (name, how, the reason's words).
BUILTIN_IGNORED = "file:///tmp/enclave-session/.env"


def _stale(h: Harness, uri: str) -> None:
    with pytest.raises(DocumentError):
        h.session.change_document(uri, 1, [TextChange(None, "x = 1\n")])  # a repeated version


def _older(h: Harness, uri: str) -> None:
    h.session.change_document(uri, 3, [insert(0, 0, "# ")])
    with pytest.raises(DocumentError):
        h.session.change_document(uri, 2, [insert(0, 0, "# ")])


def _misfit(h: Harness, uri: str) -> None:
    with pytest.raises(DocumentError):
        h.session.change_document(uri, 2, [insert(40, 0, "x")])


def _unreadable(h: Harness, uri: str) -> None:
    h.session.reject_change(uri, "a change could not be read")


def _ignored_by_rule(h: Harness, uri: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="enclave-session-"))
    (root / ".enclaveignore").write_text("calc.py\n")
    h.session.ignore.add_root(str(root))
    h.session.close_document(uri)
    h.open((root / "calc.py").as_uri())


BREAKS: dict[str, tuple[Callable[[Harness, str], None], str]] = {
    "stale version": (_stale, "not newer"),
    "older version": (_older, "not newer"),
    "misfit edit": (_misfit, "outside"),
    "unreadable change": (_unreadable, "could not be read"),
    "ignore rule": (_ignored_by_rule, "ignore rules"),
}


def broken(how: str) -> tuple[Harness, str]:
    h = harness()
    uri = h.open()
    breaker, _ = BREAKS[how]
    breaker(h, uri)
    if how == "ignore rule":
        uri = next(u for u in h.session.documents.uris())
    return h, uri


@pytest.mark.parametrize("how", list(BREAKS))
async def test_the_gate_refuses_with_the_reason_the_status_shows(how: str) -> None:
    h, uri = broken(how)
    error = IgnoredDocument if how == "ignore rule" else OutOfSync
    with pytest.raises(error) as caught:
        h.session.model_view(uri)
    assert BREAKS[how][1] in str(caught.value)
    assert h.session.status().lastEmptyReason == str(caught.value)
    assert h.port.statuses()[-1]["lastEmptyReason"] == str(caught.value)


async def test_the_gate_lets_an_open_document_in_sync_through_and_knows_no_other() -> None:
    h = harness()
    h.open()
    snap = h.session.model_view(URI)
    assert (snap.uri, snap.version, snap.text) == (URI, 1, TEXT)
    h.open(BUILTIN_IGNORED, "API_KEY=x\n")
    with pytest.raises(IgnoredDocument, match="ignore rules"):
        h.session.model_view(BUILTIN_IGNORED)
    with pytest.raises(UnknownDocument, match="not open"):
        h.session.model_view("file:///tmp/enclave-session/never.py")
    h.session.close_document(URI)
    with pytest.raises(UnknownDocument):
        h.session.model_view(URI)


EVERYWHERE = Range(Position(0, 0), Position(2, 11))


async def _every_entry_point(h: Harness, uri: str) -> list[str]:
    """Ask for everything about `uri`; the refusals seen (every entry point must refuse)."""
    session, actions = h.session, h.session.actions
    refusals: list[str] = []
    outcome = await session.complete(uri, AT)
    assert outcome.text == ""
    refusals.append(outcome.reason)
    diag = DiagnosticRef(EVERYWHERE, "odd", "lint")
    assert await actions.code_actions(uri, EVERYWHERE, None, [diag]) == []
    for name in ("simplify", "fix"):
        resolved = await actions.resolve_action(ActionRequest(name, uri, EVERYWHERE, 1), "T")
        assert resolved.edit is None
        refusals.append(resolved.error)
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: actions.run_action(ActionRequest("simplify", uri, EVERYWHERE, 1)),
        lambda: actions.run_action(ActionRequest("rewrite", uri, EVERYWHERE, instruction="x")),
        lambda: actions.explain(uri, EVERYWHERE),
        lambda: actions.review(uri, None),
        lambda: actions.review(uri, EVERYWHERE),
    ]
    for call in calls:
        with pytest.raises((IgnoredDocument, OutOfSync)) as caught:
            await call()
        refusals.append(str(caught.value))
    for kind in LaneKind:
        with pytest.raises(GenerationCancelled) as cancelled:
            await session.submit(Lane(kind, uri), CompletionJob(prefix="x", suffix=""))
        refusals.append(str(cancelled.value))
    session.focus(uri, AT)
    await h.settle()
    return refusals


@settings(max_examples=15, deadline=None)
@given(how=st.sampled_from(list(BREAKS)), features=st.sampled_from([EVERYTHING, NOTHING]))
def test_no_entry_point_reaches_the_model_past_the_gate(how: str, features: Any) -> None:
    async def scenario() -> None:
        h, uri = broken(how)
        h.session.features = features
        refusals = await _every_entry_point(h, uri)
        assert h.backend.jobs == []  # the model was asked nothing
        assert all(BREAKS[how][1] in why for why in refusals), refusals
        assert h.port.applied == [] and h.port.shown == []
        assert BREAKS[how][1] in h.session.status().lastEmptyReason

    asyncio.run(scenario())


async def test_every_entry_point_refuses_a_document_never_opened() -> None:
    h = harness()
    never = "file:///tmp/enclave-session/never.py"
    with pytest.raises(UnknownDocument):
        await h.session.complete(never, AT)
    with pytest.raises(UnknownDocument):
        await h.session.actions.code_actions(never, EVERYWHERE, None, [])
    with pytest.raises(UnknownDocument):
        await h.session.actions.resolve_action(ActionRequest("simplify", never, EVERYWHERE), "T")
    with pytest.raises(UnknownDocument):
        await h.session.actions.explain(never, EVERYWHERE)
    with pytest.raises(GenerationCancelled, match="not open"):
        await h.session.submit(Lane(LaneKind.ACTION, never), CompletionJob(prefix="", suffix=""))
    h.session.focus(never, AT)  # a notification: nothing to answer, nothing done
    assert h.backend.jobs == []


async def test_a_full_text_repairs_what_the_gate_refused() -> None:
    h, uri = broken("stale version")
    h.session.change_document(uri, 5, [TextChange(None, TEXT)])
    assert h.session.model_view(uri).version == 5
    outcome = await h.session.complete(uri, AT)
    assert outcome.text == "a + b"
    assert h.session.status().lastEmptyReason == ""


# -- a completion, and the lane of each kind of job -----------------------------------------


async def test_a_completion_goes_through_its_lane_then_prefetches_in_the_background() -> None:
    h = harness()
    h.open()
    outcome = await h.session.complete(URI, AT)
    assert outcome.text == "a + b"
    await h.settle()
    assert h.lanes[0] == Lane(LaneKind.COMPLETION, URI)
    assert Lane(LaneKind.BACKGROUND, URI) in h.lanes[1:]  # the next suggestion, prefetched
    assert all(lane.uri == URI for lane in h.lanes)
    completion = h.backend.jobs[0]
    assert isinstance(completion, CompletionJob)
    # The job is for the cursor after "return " (the space is healed from the answer).
    assert (completion.prefix + completion.middle + completion.heal).endswith("return ")
    assert h.port.statuses()[-1]["lastEmptyReason"] == ""


async def test_a_completion_the_document_outran_is_dropped() -> None:
    h = harness()
    h.open()
    h.backend.hold = asyncio.Event()
    pending = asyncio.ensure_future(h.session.complete(URI, AT))
    await h.backend.started.wait()
    h.session.change_document(URI, 2, [insert(0, 0, "# header\n")])
    h.backend.hold.set()
    outcome = await pending
    assert outcome.text == "" and outcome.reason == "the document changed meanwhile"
    assert h.session.status().lastEmptyReason == "the document changed meanwhile"


async def test_completions_off_asks_nothing(monkeypatch: Any) -> None:
    monkeypatch.setattr(log, "configure", lambda level, file: None)
    h = harness()
    h.open()
    h.session.apply_settings({"completion": {"enabled": False}}, "change")
    outcome = await h.session.complete(URI, AT)
    assert (outcome.text, outcome.reason) == ("", "completions are turned off")
    assert h.backend.jobs == []


async def test_focus_warms_in_the_background_lane() -> None:
    h = harness()
    h.open()
    h.session.focus(URI, Position(2, 999))  # past the line's end: its end
    await h.settle()
    assert h.lanes == [Lane(LaneKind.BACKGROUND, URI)]
    assert [type(j).__name__ for j in h.backend.jobs] == ["CompletionJob"]


# A docstring added, nothing else changed (the return stays empty).
ACTION_ANSWER = '```python\ndef add(a, b):\n    """Sum."""\n    total = a + b\n    return\n```'


def answer_for(job: Any) -> str:
    """ "Add docstring" begins the answer up to the quotes: the docstring's text goes on it."""
    prompt = getattr(job, "prompt", "")
    return 'Sum."""' if prompt.endswith('"""') else ACTION_ANSWER


async def test_every_action_runs_in_the_documents_action_lane(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from lsp_server.features import explain

    monkeypatch.setattr(explain, "write_private", lambda markdown, uri: tmp_path / "e.md")
    h = harness(answer=lambda job: ACTION_ANSWER)
    h.open()
    actions = h.session.actions
    await actions.explain(URI, EVERYWHERE)
    await actions.review(URI, None)
    await actions.resolve_action(ActionRequest("simplify", URI, EVERYWHERE, 1), "T")
    await actions.run_action(ActionRequest("fix", URI, EVERYWHERE, 1, diagnostic="lint: odd"))
    assert len(h.lanes) >= 4
    assert set(h.lanes) == {Lane(LaneKind.ACTION, URI)}
    # Prompt-lookup drafts for the answers that copy their target (the refactor, the fix);
    # not for the explanation, nor for the review (its JSON grammar).
    jobs = [j for j in h.backend.jobs if isinstance(j, GenerateJob)]
    assert [j.lookup for j in jobs] == [False, False, True, True], jobs


async def test_a_completion_does_not_cancel_an_action_but_closing_cancels_both() -> None:
    h = harness(answer=lambda job: ACTION_ANSWER if not isinstance(job, CompletionJob) else "1")
    h.open()
    h.backend.hold = asyncio.Event()
    action = asyncio.ensure_future(
        h.session.actions.run_action(ActionRequest("simplify", URI, EVERYWHERE, 1))
    )
    await h.backend.started.wait()
    completion = asyncio.ensure_future(h.session.complete(URI, AT))
    await asyncio.sleep(0.05)
    assert not action.done()  # another lane: the keystroke did not cancel the refactor
    h.session.close_document(URI)
    h.backend.hold.set()
    applied = await action
    assert applied.applied is False
    assert (await completion).text == ""
    assert h.port.applied == []


# -- wiring ---------------------------------------------------------------------------------


async def test_the_constructor_wires_every_component() -> None:
    h = harness()
    s = h.session
    assert s.completer.gather == s.context.gather  # repository context for completions
    assert s.context.index.excluded == s.ignore.is_ignored  # the index never reads ignored files
    assert s.context.extra_ignored == s.ignore.is_ignored
    assert s.document_listeners == [s.context.on_change, s.actions.on_document_change]


async def test_document_changes_reach_every_listener() -> None:
    h = harness(answer=lambda job: REVIEW_ANSWER)
    h.open()
    await h.session.actions.review(URI, None)
    [(uri, [finding], version)] = h.port.published
    assert (uri, version) == (URI, 1) and finding.snippet == "total = a + b"
    h.session.change_document(URI, 2, [insert(0, 0, "import math\n")])
    moved = h.port.published[-1]
    assert moved[2] == 2 and moved[1][0].range.start.line == finding.range.start.line + 1
    assert "calc.py" in h.session.context.recent.chunks()[-1].path  # the context's listener
    h.session.close_document(URI)
    assert h.port.published[-1] == (URI, [], None)  # findings of a closed file are cleared


REVIEW_ANSWER = (
    '{"findings": [{"category": "bug-risk", "severity": "warning", "message": "unused",'
    ' "snippet": "total = a + b", "fix": "return a + b"}]}'
)


async def test_model_state_reaches_the_status_and_loading_is_shown_as_progress() -> None:
    h = harness()
    h.backend._set_state(ModelState.LOADING, "loading scripted.gguf")
    await asyncio.sleep(0)
    assert h.port.statuses()[-1]["state"] == "loading"
    h.backend._set_state(ModelState.READY, "ready again")
    await h.settle()
    [loading] = [p for p in h.port.progresses if p.title == "Enclave"]
    assert (loading.begin.message, loading.end) == ("loading scripted.gguf", "ready again")
    assert h.port.statuses()[-1]["state"] == "ready"


# -- what depends on the client's capabilities ---------------------------------------------


async def test_without_progress_support_nothing_is_shown_and_the_work_is_done(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from lsp_server.features import explain

    monkeypatch.setattr(explain, "write_private", lambda markdown, uri: tmp_path / "e.md")
    for features, expected in ((EVERYTHING, True), (NOTHING, False)):
        h = harness(features, answer=answer_for)
        h.open()
        h.backend._set_state(ModelState.LOADING, "loading")
        h.backend._set_state(ModelState.READY, "ready")
        await h.settle()
        explained = await h.session.actions.explain(URI, EVERYWHERE)
        assert explained.markdown
        await h.session.actions.review(URI, None)
        applied = await h.session.actions.run_action(ActionRequest("docstring", URI, EVERYWHERE))
        assert applied.applied, applied
        await h.settle()
        titles = [p.title for p in h.port.progresses]
        if expected:
            assert titles == [
                "Enclave",
                "Enclave: explaining",
                "Enclave: reviewing",
                "Enclave: Add docstring",
            ]
            assert all(p.begin.cancellable for p in h.port.progresses[1:])
            assert [p.end for p in h.port.progresses] == ["ready", "done", "done", "done"]
        else:
            assert titles == []


async def test_a_cancel_from_the_editor_cancels_the_action() -> None:
    h = harness(answer=lambda job: ACTION_ANSWER)
    h.open()
    h.port.cancel_progress = True
    h.backend.hold = asyncio.Event()  # the model would never answer
    with pytest.raises(GenerationCancelled, match="Enclave: explaining: cancelled"):
        await asyncio.wait_for(h.session.actions.explain(URI, EVERYWHERE), 5)
    assert h.port.progresses[-1].end == "cancelled"
    applied = await asyncio.wait_for(
        h.session.actions.run_action(ActionRequest("simplify", URI, EVERYWHERE)), 5
    )
    assert applied.applied is False and "cancelled" in applied.message
    assert h.port.applied == []


@pytest.mark.parametrize("resolves", [True, False])
async def test_model_made_actions_resolve_or_come_as_commands(resolves: bool) -> None:
    from dataclasses import replace

    from lsp_server.actions import Delivery, OfferKind

    h = harness(replace(EVERYTHING, resolves_code_action_edits=resolves))
    # A loop in the body: something to simplify and to extract (features/refactor_offers.py).
    h.open(
        text="def add(a, b):\n    total = a + b\n    for x in (a, b):\n"
        "        total += x\n    return total\n"
    )
    lint = DiagnosticRef(Range(Position(1, 4), Position(1, 9)), "Name  'total'\n unused", "lint")
    offers = await h.session.actions.code_actions(
        URI, Range(Position(0, 0), Position(5, 0)), None, [lint]
    )
    lazy = Delivery.RESOLVE if resolves else Delivery.COMMAND
    by_name = {o.request.name: o for o in offers if o.request is not None}
    assert by_name["explain"].delivery is Delivery.COMMAND
    assert by_name["rewrite"].delivery is Delivery.COMMAND
    for name in ("docstring", "annotate", "simplify", "extract_function", "rename_locals"):
        offer = by_name[name]
        assert (offer.kind, offer.delivery) == (OfferKind.REFACTOR, lazy)
        assert offer.request is not None and offer.request.version == 1
    fix = by_name["fix"]
    assert (fix.kind, fix.delivery, fix.diagnostic) == (OfferKind.QUICK_FIX, lazy, 0)
    assert fix.title == "Fix with Enclave: Name 'total' unused"
    assert fix.request is not None and fix.request.diagnostic == "lint: Name 'total' unused"
    assert h.backend.jobs == []  # listing never asks the model


@pytest.mark.parametrize("supported", [True, False])
async def test_explanations_are_shown_only_where_the_client_can(
    supported: bool, tmp_path: Path, monkeypatch: Any
) -> None:
    from dataclasses import replace

    from lsp_server.features import explain

    monkeypatch.setattr(explain, "write_private", lambda markdown, uri: tmp_path / "e.md")
    h = harness(replace(EVERYTHING, show_document=supported), answer=lambda job: "It adds.")
    h.open()
    explained = await h.session.actions.explain(URI, EVERYWHERE)
    assert explained.path == str(tmp_path / "e.md")
    assert h.port.shown == ([(tmp_path / "e.md").as_uri()] if supported else [])


@pytest.mark.parametrize("features", [EVERYTHING, NOTHING], ids=["vscode", "bare"])
async def test_indexing_progress_and_file_watchers_follow_the_capabilities(
    features: Any, tmp_path: Path
) -> None:
    (tmp_path / "lib.py").write_text("def helper():\n    return 1\n")
    h = harness(features)
    h.session.context.set_roots([str(tmp_path)])
    h.session.workspace.start_indexing()
    await h.settle()
    assert "lib.py" in " ".join(h.session.context.index.files)
    indexing = [p for p in h.port.progresses if p.title == "Enclave: indexing"]
    if features.work_done_progress:
        [shown] = indexing
        assert shown.end == "indexed 1 files" and shown.reports[-1] == ("1/1 files", 100)
    else:
        assert indexing == []
    assert h.port.watched == ([[WATCH_GLOB, IGNORE_GLOB]] if features.dynamic_watched_files else [])
    h.session.workspace.start_indexing()  # again (a folder added): watchers are asked once
    await h.settle()
    assert len(h.port.watched) <= 1


async def test_settings_warnings_are_shown_once_per_refused_key(monkeypatch: Any) -> None:
    monkeypatch.setattr(log, "configure", lambda level, file: None)
    h = harness()
    for _ in range(2):
        h.session.apply_settings({"backend": {"url": "http://10.0.0.9:8080"}, "bogus": 1}, "change")
    warnings = [m for kind, m in h.port.messages if kind is MessageKind.WARNING]
    assert sum("backend.url" in w for w in warnings) == 1
    assert sum("bogus" in w for w in warnings) == 2
    assert h.session.settings.backend.url is None
