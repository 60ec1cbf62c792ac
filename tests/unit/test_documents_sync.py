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


@settings(max_examples=300, deadline=None)
@given(events())
def test_store_matches_the_reference_model(script: list[tuple[str, int, str]]) -> None:
    store = DocumentStore()
    store.open(URI, "python", 1, "start\n")
    ref = Reference(version=1, text="start\n", seen=1)
    for kind, step, text in script:
        version = ref.version + step
        if kind == "open":
            store.open(URI, "python", version, text)
            ref = Reference(version=version, text=text, seen=version)
        else:
            if kind == "full":
                change = TextChange(None, text)
                editor_text = text
            elif kind == "insert":
                change = TextChange(Range(Position(0, 0), Position(0, 0)), text)
                editor_text = text + ref.text
            else:  # a range past the document: what a lost change looks like
                far = Position(ref.text.count("\n") + 5, 0)
                change = TextChange(Range(far, far), text)
                editor_text = ref.text + text
            stale = version <= ref.seen
            try:
                store.change(URI, version, [change])
            except StaleVersion:
                assert stale
            except DocumentError:
                assert not stale
            else:
                assert not stale
            if not stale:
                ref.seen = version
                if kind == "full":
                    ref.in_sync = True
                elif kind == "misfit":
                    ref.in_sync = False
            else:
                ref.in_sync = False
            ref.version, ref.text = version, editor_text
        doc = store.get(URI)
        assert doc.desynced == (not ref.in_sync), (kind, step)
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
