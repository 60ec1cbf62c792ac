"""The context service: document events feed the recent chunks and the similar-code search."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from lsp_server.context.documents import DocumentStore
from lsp_server.context.service import ContextService
from tests.unit.gather_helpers import TOML_CONV, UNLIKE, YAML_CONV, snapshot


def test_opening_adds_no_chunk_and_focus_adds_the_viewed_region(tmp_path: Path) -> None:
    """An opened file's first lines (imports) would share names with any cursor: the recent
    chunks are where the user looks (enclave/didFocus) and edits."""
    store = DocumentStore()
    service = ContextService(store, lambda: True)
    text = "import os\nimport sys\n" + "".join(f"value_{i} = {i}\n" for i in range(200))
    uri = (tmp_path / "big.py").as_uri()
    store.open(uri, "python", 1, text)

    async def open_and_focus() -> None:  # on_open schedules the re-extraction on the loop
        service.on_open(uri)
        assert service.recent.chunks() == []
        service.on_focus(uri, 150)

    asyncio.run(open_and_focus())
    [chunk] = service.recent.chunks()
    assert chunk.start <= 150 < chunk.end and "import os" not in chunk.text


def test_an_open_sibling_is_searched_as_the_user_sees_it_not_as_saved(tmp_path: Path) -> None:
    store = DocumentStore()
    service = ContextService(store, lambda: True, time_budget_ms=lambda: 1000)
    service.set_roots([str(tmp_path)])
    (tmp_path / "toml.py").write_text(UNLIKE)  # on disk: nothing alike yet
    (tmp_path / "yaml.py").write_text(YAML_CONV)
    asyncio.run(service.index.build([tmp_path]))
    store.open((tmp_path / "toml.py").as_uri(), "python", 3, TOML_CONV)  # unsaved
    snap = snapshot(tmp_path / "yaml.py", YAML_CONV, "python")
    ctx = asyncio.run(service.gather(snap, len(YAML_CONV) - 1, 384))
    assert ctx.files[-1][0] == "toml.py"
    assert "register_unstructure_hook(date, identity)" in ctx.files[-1][1]
    store.close((tmp_path / "toml.py").as_uri())  # closed unsaved: the disk is the truth
    ctx = asyncio.run(service.gather(snap, len(YAML_CONV) - 1, 384))
    assert all("identity)" not in text for _, text in ctx.files)


def test_the_index_changes_on_the_loop_while_searches_run_in_threads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Searches run in threads while the event loop keeps putting and removing files of the
    folder searched (saves, deletes): every search gets its context, none fails midway (a set
    or dict changed while read), and what it finds is the index before or after a change."""
    from lsp_server.context.index import extract_file

    store = DocumentStore()
    service = ContextService(store, lambda: True, time_budget_ms=lambda: 1000)
    service.set_roots([str(tmp_path)])
    for i in range(12):
        (tmp_path / f"conv_{i}.py").write_text(TOML_CONV.replace("toml", f"toml{i}"))
    (tmp_path / "yaml.py").write_text(YAML_CONV)
    asyncio.run(service.index.build([tmp_path]))
    snap = snapshot(tmp_path / "yaml.py", YAML_CONV, "python")
    paths = [str(tmp_path / f"conv_{i}.py") for i in range(12)]
    entries = {p: extract_file(p, Path(p).name) for p in paths}

    async def churn_while_searching() -> list[int]:
        searches = [
            asyncio.create_task(service.gather(snap, len(YAML_CONV) - 1, 384)) for _ in range(100)
        ]
        while not all(t.done() for t in searches):
            for p in paths:
                service.index.remove(p)
                service.similar.forget(p)
                await asyncio.sleep(0)
                entry = entries[p]
                assert entry is not None
                service.index.put(entry)
        return [len((await t).files) for t in searches]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        found = asyncio.run(churn_while_searching())
    finally:
        sys.setswitchinterval(interval)
    assert "gathering context failed" not in caplog.text
    assert all(n > 0 for n in found), found
