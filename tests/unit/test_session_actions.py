"""The session's actions (lsp_server/actions.py), in-process with a scripted model: a
refactor resolved and run as a command, a review and the quick fix of its finding, and every
way an edit can go stale or be refused before it reaches the editor."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

import pytest

from lsp_server.actions import ActionRequest, Delivery, DiagnosticRef, OfferKind
from lsp_server.context.documents import Document, Position, Range, TextChange
from lsp_server.features import review as review_feature
from lsp_server.port import DocumentEdit, MessageKind
from tests.unit.session_helpers import URI, harness, insert

TEXT = "def area(w, h):\n    size = w * h\n    return size / 0\n"
FUNCTION = Range(Position(0, 0), Position(2, 19))
DOCUMENTED = (
    'def area(w, h):\n    """Area of a w x h rectangle."""\n    size = w * h\n    return size / 0\n'
)
# "Add docstring" begins the answer with the header and the quotes; the model writes the rest.
DOCSTRING_ANSWER = 'Area of a w x h rectangle."""'

REVIEW_ANSWER = (
    '{"findings": [{"category": "bug-risk", "severity": "error", "message": "division by zero",'
    ' "snippet": "size / 0", "fix": "size"}, {"category": "security", "severity": "error",'
    ' "message": "made up", "snippet": "os.system(x)", "fix": ""}]}'
)


def applied_to(text: str, edit: DocumentEdit) -> str:
    doc = Document(edit.uri, "python", edit.version, text)
    doc.apply_changes([TextChange(rng, new) for rng, new in edit.edits], edit.version + 1)
    return doc.text


async def test_a_resolved_refactor_is_a_checked_edit_of_the_listed_version() -> None:
    h = harness(answer=lambda job: DOCSTRING_ANSWER)
    h.open(text=TEXT)
    offers = await h.session.actions.code_actions(URI, FUNCTION, ["refactor"], [])
    [docstring] = [o for o in offers if o.request is not None and o.request.name == "docstring"]
    assert docstring.delivery is Delivery.RESOLVE and docstring.request is not None
    resolved = await h.session.actions.resolve_action(docstring.request, docstring.title)
    assert resolved.edit is not None and resolved.edit.version == 1
    assert applied_to(TEXT, resolved.edit) == DOCUMENTED
    assert resolved.attempts == 1 and resolved.error == ""
    assert h.port.applied == []  # resolve hands the edit back; the editor applies it


async def test_a_refactor_run_as_a_command_is_applied_through_the_client() -> None:
    h = harness(answer=lambda job: DOCSTRING_ANSWER)
    h.open(text=TEXT)
    applied = await h.session.actions.run_action(ActionRequest("docstring", URI, FUNCTION, 1))
    assert applied.applied and applied.message.startswith("Enclave: Add docstring: ")
    [(edit, label)] = h.port.applied
    assert label == "Enclave: Add docstring" and applied_to(TEXT, edit) == DOCUMENTED


async def test_an_answer_that_fails_the_checks_is_refused_and_said() -> None:
    hostile = "```python\ndef area(w, h):\n    import os\n    os.system('rm -rf ~')\n```"
    h = harness(answer=lambda job: hostile)
    h.open(text=TEXT)
    resolved = await h.session.actions.resolve_action(
        ActionRequest("simplify", URI, FUNCTION, 1), "Enclave: Simplify"
    )
    assert resolved.edit is None and "process" in resolved.error
    assert len(h.backend.jobs) == 2  # tried, retried with the reason, refused
    kind, message = h.port.messages[-1]
    assert kind is MessageKind.ERROR and message.startswith("Enclave: Simplify: no change")
    applied = await h.session.actions.run_action(ActionRequest("simplify", URI, FUNCTION, 1))
    assert not applied.applied and "not applied" in applied.message
    assert h.port.applied == []


@pytest.mark.parametrize("path", ["resolve", "command"])
async def test_an_edit_the_document_outran_is_never_offered(path: str) -> None:
    h = harness(answer=lambda job: DOCSTRING_ANSWER)
    h.open(text=TEXT)
    h.backend.hold = asyncio.Event()
    request = ActionRequest("docstring", URI, FUNCTION, 1)
    actions = h.session.actions
    running: Any = (
        actions.resolve_action(request, "T") if path == "resolve" else actions.run_action(request)
    )
    task = asyncio.ensure_future(running)
    await h.backend.started.wait()
    h.session.change_document(URI, 2, [insert(2, 0, "    # edited meanwhile\n")])
    h.backend.hold.set()
    result = await task
    if path == "resolve":
        assert result.edit is None and "changed" in result.error
    else:
        assert not result.applied and "changed" in result.message
    assert h.port.applied == []


async def test_an_action_listed_for_an_older_version_is_refused() -> None:
    h = harness(answer=lambda job: DOCSTRING_ANSWER)
    h.open(text=TEXT)
    h.session.change_document(URI, 2, [TextChange(None, TEXT + "\n")])
    old = ActionRequest("docstring", URI, FUNCTION, 1)
    resolved = await h.session.actions.resolve_action(old, "T")
    assert resolved.edit is None and resolved.error == "the document changed; ask again"
    applied = await h.session.actions.run_action(old)
    assert not applied.applied and "ask for the action again" in applied.message
    assert h.backend.jobs == [] and h.port.applied == []


async def test_the_editor_refusing_an_edit_is_reported() -> None:
    h = harness(answer=lambda job: DOCSTRING_ANSWER)
    h.port.apply = False
    h.open(text=TEXT)
    applied = await h.session.actions.run_action(ActionRequest("docstring", URI, FUNCTION))
    assert applied == type(applied)(False, "refused by the test")


async def test_review_publishes_located_findings_and_their_fix_is_checked_off_the_loop(
    monkeypatch: Any,
) -> None:
    threads: list[threading.Thread] = []
    real = review_feature.fix_edit

    def spy(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(review_feature, "fix_edit", spy)
    h = harness(answer=lambda job: REVIEW_ANSWER)
    h.open(text=TEXT)
    reviewed = await h.session.actions.review(URI, None)
    assert (reviewed.findings, reviewed.dropped) == (1, 1)  # the made-up quote is dropped
    [(uri, [finding], version)] = h.port.published
    assert (uri, version, finding.snippet) == (URI, 1, "size / 0")
    ours = DiagnosticRef(finding.range, finding.message, "enclave", finding.id)
    offers = await h.session.actions.code_actions(URI, finding.range, ["quickfix"], [ours])
    [fix] = offers
    assert (fix.kind, fix.delivery, fix.diagnostic) == (OfferKind.QUICK_FIX, Delivery.EDIT, 0)
    assert fix.edit is not None and "return size\n" in applied_to(TEXT, fix.edit)
    assert threads and threading.main_thread() not in threads  # the edit check ran in a thread


async def test_a_findings_fix_that_no_longer_fits_is_offered_disabled() -> None:
    h = harness(answer=lambda job: REVIEW_ANSWER)
    h.open(text=TEXT)
    await h.session.actions.review(URI, None)
    [(_, [_], _)] = h.port.published
    # An edit elsewhere: the finding moves along (version 2) and its fix still applies.
    h.session.change_document(URI, 2, [insert(0, 0, "# area\n")])
    [moved] = h.port.published[-1][1]
    ours = DiagnosticRef(moved.range, moved.message, "enclave", moved.id)
    [fix] = await h.session.actions.code_actions(URI, moved.range, ["quickfix"], [ours])
    assert fix.delivery is Delivery.EDIT and fix.edit is not None and fix.edit.version == 2
    # A finding for another version (an editor's stale diagnostic) is offered, disabled.
    h.session.reviews.set(URI, [dataclasses.replace(moved, version=1)])
    [stale] = await h.session.actions.code_actions(URI, moved.range, ["quickfix"], [ours])
    assert stale.delivery is Delivery.DISABLED and "changed since the review" in stale.disabled
    unknown = DiagnosticRef(moved.range, "gone", "enclave", 10**9)
    assert await h.session.actions.code_actions(URI, moved.range, ["quickfix"], [unknown]) == []


async def test_listing_asks_nothing_and_honours_only() -> None:
    h = harness()
    h.open(text=TEXT)
    empty = Range(Position(1, 4), Position(1, 4))  # inside the function: a target
    lint = DiagnosticRef(Range(Position(2, 11), Position(2, 19)), "division by zero", "lint")
    everything = await h.session.actions.code_actions(URI, empty, None, [lint])
    kinds = {o.kind for o in everything}
    assert kinds == {OfferKind.EXPLAIN, OfferKind.REFACTOR, OfferKind.QUICK_FIX}
    refactors = await h.session.actions.code_actions(URI, empty, ["refactor"], [lint])
    assert {o.kind for o in refactors} == {OfferKind.REFACTOR}
    fixes = await h.session.actions.code_actions(URI, empty, ["quickfix"], [lint])
    assert [o.kind for o in fixes] == [OfferKind.QUICK_FIX]
    blank = "\n\n\n"
    h.open("file:///tmp/enclave-session/blank.py", blank)
    nowhere = Range(Position(1, 0), Position(1, 0))
    offers = await h.session.actions.code_actions(
        "file:///tmp/enclave-session/blank.py", nowhere, None, []
    )
    assert offers == []  # no selection, no definition: nothing to act on
    assert h.backend.jobs == []
