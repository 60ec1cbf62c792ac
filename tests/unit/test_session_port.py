"""The session's side of the LSP connection (lsp_server/handlers/lsp.py): the client's
capabilities read once into ClientFeatures, the one work-done progress context manager
(against pygls' own progress bookkeeping), and the conversions handlers use (positions clamped
as LSP means them, code action data and back, workspace edits)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types
from pygls.progress import Progress
from pytest_lsp import client_capabilities

from lsp_server.actions import ActionRequest
from lsp_server.context.documents import Document, Position, Range
from lsp_server.errors import DocumentError, InvalidPosition
from lsp_server.handlers.lsp import (
    action_data,
    action_request,
    client_features,
    position_in,
    range_in,
    work_done,
    workspace_edit,
)
from lsp_server.port import ClientFeatures, DocumentEdit, ProgressBegin

# -- capabilities ---------------------------------------------------------------------------


def test_capabilities_are_read_into_features() -> None:
    vscode = client_features(client_capabilities("visual-studio-code"))
    assert vscode == ClientFeatures(True, True, True, True, "utf-16")
    emacs = client_features(client_capabilities("emacs"))  # Eglot: no resolve, no showDocument
    assert (emacs.resolves_code_action_edits, emacs.show_document) == (False, False)
    neovim = client_features(client_capabilities("neovim"))  # no dynamic watchers
    assert neovim.dynamic_watched_files is False and neovim.resolves_code_action_edits
    assert client_features(types.ClientCapabilities()) == ClientFeatures()


def test_resolve_support_must_include_the_edit() -> None:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.text_document.code_action is not None
    caps.text_document.code_action.resolve_support = types.ClientCodeActionResolveOptions(
        properties=["command"]
    )
    assert not client_features(caps).resolves_code_action_edits


# -- work-done progress ---------------------------------------------------------------------


class StubProtocol:
    """What pygls' Progress talks to: the client's answers to window/workDoneProgress/create,
    and the $/progress notifications sent."""

    def __init__(self, refuse: bool) -> None:
        self.refuse = refuse
        self.sent: list[tuple[str, Any]] = []

    async def send_request_async(self, method: str, params: Any) -> None:
        if self.refuse:
            raise RuntimeError("the client refused")

    def notify(self, method: str, params: Any) -> None:
        self.sent.append((params.token, params.value))


class StubServer:
    def __init__(self, refuse: bool = False) -> None:
        self.protocol = StubProtocol(refuse)
        self.work_done_progress = Progress(self.protocol)

    def values(self) -> list[Any]:
        return [value for _, value in self.protocol.sent]


async def test_progress_begins_reports_and_ends() -> None:
    ls = StubServer()
    async with work_done(
        ls, ProgressBegin("Enclave: indexing", "scanning", percentage=0)
    ) as progress:
        progress.report("1/2 files", 50)
    begin, report, end = ls.values()
    assert (begin.title, begin.message, begin.percentage, begin.cancellable) == (
        "Enclave: indexing",
        "scanning",
        0,
        None,
    )
    assert (report.message, report.percentage) == ("1/2 files", 50)
    assert end.message == "done"
    assert len({token for token, _ in ls.protocol.sent}) == 1
    assert ls.work_done_progress.tokens == {}  # the token is forgotten at the end


async def test_a_refused_progress_is_no_progress_and_the_work_goes_on() -> None:
    ls = StubServer(refuse=True)
    ran = False
    async with work_done(ls, ProgressBegin("Enclave")) as progress:
        progress.report("ignored")
        ran = True
    assert ran and ls.values() == []


async def test_the_end_says_failed_or_what_the_body_set() -> None:
    ls = StubServer()
    with pytest.raises(ValueError):
        async with work_done(ls, ProgressBegin("Enclave")):
            raise ValueError("boom")
    assert ls.values()[-1].message == "failed"
    async with work_done(ls, ProgressBegin("Enclave")) as progress:
        progress.end_message = ""  # an empty final message is still the body's
    assert ls.values()[-1].message == ""


@pytest.mark.parametrize("cancellable", [True, False])
async def test_a_cancel_in_the_editor_cancels_only_cancellable_work(cancellable: bool) -> None:
    ls = StubServer()
    entered = asyncio.Event()
    handles: list[Any] = []

    async def body() -> str:
        async with work_done(
            ls, ProgressBegin("Enclave: reviewing", cancellable=cancellable)
        ) as progress:
            handles.append(progress)
            entered.set()
            await asyncio.sleep(0.2)
        return "finished"

    task = asyncio.ensure_future(body())
    await entered.wait()
    [token] = ls.work_done_progress.tokens
    ls.work_done_progress.tokens[
        token
    ].cancel()  # what pygls does on window/workDoneProgress/cancel
    if cancellable:
        with pytest.raises(asyncio.CancelledError):
            await task
        assert handles[0].cancelled and ls.values()[-1].message == "cancelled"
        assert ls.values()[0].cancellable is True
    else:
        assert await task == "finished"
        assert not handles[0].cancelled and ls.values()[-1].message == "done"


# -- conversions ----------------------------------------------------------------------------

TEXT = "def f(a):\n    return a\n\ns = 'é😀'\r\nend"
DOC = Document("file:///t.py", "python", 1, TEXT)
coordinates = st.integers(min_value=0, max_value=2**31 - 1)
small = st.integers(min_value=0, max_value=8)


@given(st.tuples(small | coordinates, small | coordinates), st.tuples(small, small))
def test_a_range_means_its_clamped_ends_in_order(a: tuple[int, int], b: tuple[int, int]) -> None:
    raw = {"start": {"line": a[0], "character": a[1]}, "end": {"line": b[0], "character": b[1]}}
    rng = range_in(DOC, raw)
    ends = sorted(
        [DOC.clamp(Position(*a)), DOC.clamp(Position(*b))], key=lambda p: (p.line, p.character)
    )
    assert rng == Range(*ends)
    assert 0 <= DOC.offset_at(rng.start) <= DOC.offset_at(rng.end) <= len(TEXT)
    lsp = types.Range(types.Position(*a), types.Position(*b))
    assert range_in(DOC, lsp) == rng  # an lsprotocol Range means the same as its JSON


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"line": -1, "character": 0},
        {"line": 0, "character": 2**31},
        {"line": "1", "character": 0},
        {"line": True, "character": 0},
        {"line": 1.0, "character": 0},
        {"line": 0},
    ],
)
def test_only_malformed_positions_are_refused(raw: Any) -> None:
    with pytest.raises(InvalidPosition):
        position_in(DOC, raw)


@given(
    st.sampled_from(["docstring", "simplify", "fix"]),
    st.tuples(small, small, small, small),
    st.none() | st.integers(min_value=-5, max_value=10**9),
    st.text(max_size=30),
)
def test_code_action_data_reads_back_as_the_same_request(
    name: str, where: tuple[int, int, int, int], version: int | None, diagnostic: str
) -> None:
    rng = range_in(
        DOC,
        {
            "start": {"line": where[0], "character": where[1]},
            "end": {"line": where[2], "character": where[3]},
        },
    )
    request = ActionRequest(name, DOC.uri, rng, version, diagnostic if name == "fix" else "")
    assert action_request(DOC, action_data(request)) == request


@pytest.mark.parametrize("version", ["1", 1.5, True, [1]])
def test_a_version_that_is_not_an_integer_is_refused(version: Any) -> None:
    data = action_data(ActionRequest("simplify", DOC.uri, Range(Position(0, 0), Position(0, 0))))
    with pytest.raises(DocumentError, match="version"):
        action_request(DOC, {**data, "version": version})


def test_a_workspace_edit_is_text_edits_of_one_version() -> None:
    edit = DocumentEdit("file:///t.py", 7, ((Range(Position(1, 4), Position(1, 12)), "pass"),))
    lsp = workspace_edit(edit)
    assert lsp.changes is None and lsp.document_changes is not None
    [change] = lsp.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert (change.text_document.uri, change.text_document.version) == ("file:///t.py", 7)
    [text_edit] = change.edits
    assert text_edit.range == types.Range(types.Position(1, 4), types.Position(1, 12))
    assert text_edit.new_text == "pass"
