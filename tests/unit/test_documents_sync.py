"""Versions: any sequence of didOpen/didChange (older, repeated, newer, with gaps; full text,
fitting and misfitting edits) against a reference model of "in sync". The store may only say
a document is in sync when its text is the editor's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import DocumentStore, Position, Range, TextChange
from lsp_server.errors import DocumentError, OutOfSync, StaleVersion

URI = "file:///sync.py"


@dataclass
class Reference:
    """What the editor has, and whether the server may say it has the same."""

    version: int
    text: str  # the editor's text
    in_sync: bool = True
    seen: int = 0  # the newest version the server was sent


@st.composite
def events(draw: st.DrawFn) -> list[tuple[str, int, str]]:
    """(kind, version step, text): kind open | full | insert | misfit; the step is added to
    the newest version the editor used (<= 0: stale, 1: next, > 1: a gap)."""
    kinds = st.sampled_from(["open", "full", "insert", "insert", "misfit"])
    steps = st.sampled_from([-3, -1, 0, 1, 1, 1, 2, 7])
    texts = st.text(alphabet="ab\n😀", max_size=6)
    return draw(st.lists(st.tuples(kinds, steps, texts), min_size=1, max_size=12))


def step(ref: Reference, kind: str, step: int, text: str) -> tuple[int, TextChange | None]:
    """The message the editor sends for one event (its version, and its change or None for a
    reopen), with `ref` moved to what must hold after it."""
    version = ref.version + step
    if kind == "open":
        ref.version, ref.text, ref.in_sync, ref.seen = version, text, True, version
        return version, None
    if kind == "full":
        change, editor_text = TextChange(None, text), text
    elif kind == "insert":
        change = TextChange(Range(Position(0, 0), Position(0, 0)), text)
        editor_text = text + ref.text
    else:  # a range past the document: what a lost change looks like
        far = Position(ref.text.count("\n") + 5, 0)
        change, editor_text = TextChange(Range(far, far), text), ref.text + text
    if version <= ref.seen:
        ref.in_sync = False  # reordered, replayed or repeated: nothing can be trusted
    else:
        ref.seen = version
        if kind == "full":
            ref.in_sync = True
        elif kind == "misfit":
            ref.in_sync = False
    ref.version, ref.text = version, editor_text
    return version, change


@settings(max_examples=300, deadline=None)
@given(events())
def test_store_matches_the_reference_model(script: list[tuple[str, int, str]]) -> None:
    store = DocumentStore()
    store.open(URI, "python", 1, "start\n")
    ref = Reference(version=1, text="start\n", seen=1)
    for kind, delta, text in script:
        seen = ref.seen
        version, change = step(ref, kind, delta, text)
        if change is None:
            store.open(URI, "python", version, text)
        else:
            try:
                store.change(URI, version, [change])
            except StaleVersion:
                assert version <= seen
            except DocumentError:
                assert version > seen and not ref.in_sync
        doc = store.get(URI)
        assert doc.desynced == (not ref.in_sync), (kind, delta)
        assert doc.version == ref.seen
        if ref.in_sync:
            assert doc.text == ref.text


def test_each_refusal_names_its_reason() -> None:
    store = DocumentStore()
    store.open(URI, "python", 3, "x\n")
    with pytest.raises(StaleVersion, match="version 3 is not newer than 3"):
        store.change(URI, 3, [TextChange(None, "y\n")])
    with pytest.raises(OutOfSync, match=r"version 3 is not newer than 3.*full-text"):
        store.change(URI, 4, [TextChange(Range(Position(0, 0), Position(0, 0)), "z")])
    assert store.get(URI).desync_reason == "version 3 is not newer than 3"
    reopened = store.open(URI, "python", 1, "fresh\n")  # a reopen repairs, any version
    assert store.get(URI) is reopened and not reopened.desynced


async def test_no_model_job_starts_for_a_document_out_of_sync() -> None:
    """Background work (prefetch, warm-up) queued while a document was fine may start after it
    broke: the one gate every job passes (Session.submit) refuses it then."""
    from lsp_server.errors import GenerationCancelled
    from lsp_server.model.protocol import CompletionJob
    from lsp_server.model.scheduler import Lane, LaneKind
    from lsp_server.session import Session

    session = Session()
    started: list[str] = []

    async def run(job: object) -> object:
        started.append(type(job).__name__)
        raise AssertionError("the model was asked")

    session.scheduler._run = run  # type: ignore[assignment]
    session.open_document(URI, "python", 5, "x = 1\n")
    with pytest.raises(DocumentError):
        session.change_document(URI, 5, [TextChange(None, "y = 2\n")])  # a repeated version
    job = CompletionJob(prefix="x", suffix="")
    for kind in LaneKind:
        with pytest.raises(GenerationCancelled, match=r"out of sync.*version 5 is not newer"):
            await session.submit(Lane(kind, URI), job)
    with pytest.raises(GenerationCancelled, match="not open"):
        await session.submit(Lane(LaneKind.COMPLETION, "file:///never.py"), job)
    assert started == []
    with pytest.raises(OutOfSync):
        session.model_view(URI)
    assert "version 5 is not newer" in session.status().lastEmptyReason
