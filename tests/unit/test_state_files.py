"""Saved model states on disk are derived from the user's code: owner-only, never written
through a planted name, removed when used, pushed out or the worker ends, and what a killed
worker left is removed by the next one. The attacks a local user (or a repository) would try."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server.model import state_files
from lsp_server.model.kv_states import SavedState, StateStore
from lsp_server.model.state_files import StateFiles, StateFolderRefused, remove_left


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def ended_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def test_folders_and_files_are_owner_only_and_named_after_nothing(tmp_path: Path) -> None:
    base = tmp_path / "cache" / "states"
    files = StateFiles(base)
    assert mode(base) == 0o700
    assert files.folder.parent == base and mode(files.folder) == 0o700
    assert files.folder.name.startswith(f"{os.getpid()}-")
    first, second = files.new_path(), files.new_path()
    assert first != second
    for path in (first, second):
        assert mode(Path(path)) == 0o600 and os.path.getsize(path) == 0
        assert Path(path).name.split(".")[0].isdigit()  # a counter, not the document
    files.close()
    assert not files.folder.exists() and base.exists()


def test_a_wider_base_is_narrowed(tmp_path: Path) -> None:
    base = tmp_path / "states"
    base.mkdir(mode=0o755)
    os.chmod(base, 0o777)
    StateFiles(base).close()
    assert mode(base) == 0o700


def test_a_base_that_is_a_link_a_file_or_someone_elses_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    with pytest.raises(StateFolderRefused):
        StateFiles(link)
    assert list(elsewhere.iterdir()) == []
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(OSError):
        StateFiles(a_file)
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(theirs).st_uid + 1)
    with pytest.raises(StateFolderRefused, match="another user"):
        StateFiles(theirs)
    assert list(theirs.iterdir()) == []


def test_a_name_planted_in_the_folder_is_never_written_through(tmp_path: Path) -> None:
    files = StateFiles(tmp_path / "states")
    target = tmp_path / "target"
    target.write_text("keep")
    (files.folder / "1.state").symlink_to(target)
    (files.folder / "2.state").write_text("planted")
    for _ in range(2):
        with pytest.raises(FileExistsError):
            files.new_path()
    assert target.read_text() == "keep"
    assert mode(Path(files.new_path())) == 0o600  # the next free name
    files.close()
    assert target.read_text() == "keep" and not files.folder.exists()


def test_folders_left_by_ended_workers_are_removed_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "states"
    base.mkdir(mode=0o700)
    dead = ended_pid()
    left = base / f"{dead}-abc"
    left.mkdir()
    (left / "1.state").write_bytes(b"kv")
    running = base / f"{os.getpid()}-def"  # a worker still running (this process)
    running.mkdir()
    other = base / "notes"
    other.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    (base / f"{dead}-link").symlink_to(outside)  # never followed
    mine = StateFiles(base)
    assert not left.exists()
    assert running.exists() and other.exists() and (outside / "keep").exists()
    assert (base / f"{dead}-link").is_symlink()
    # The supervisor removes a worker's folder by its pid once the process has ended.
    assert remove_left(base, os.getpid()) == 2  # `running` and this engine's own
    assert not running.exists() and not mine.folder.exists() and other.exists()
    # Another user's folder with a worker's name stays.
    theirs = base / f"{dead}-theirs"
    theirs.mkdir()
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(theirs).st_uid + 1)
    assert remove_left(base) == 0 and theirs.exists()


def test_a_missing_base_or_file_is_not_an_error(tmp_path: Path) -> None:
    assert remove_left(tmp_path / "none") == 0
    files = StateFiles(tmp_path / "states")
    files.remove(str(files.folder / "9.state"))
    files.close()
    files.close()


def test_the_default_base_follows_the_cache_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCLAVE_CACHE_DIR", str(tmp_path))
    assert state_files.default_base() == tmp_path / "states"


def test_the_store_lets_go_of_every_state_it_does_not_hand_back() -> None:
    forgotten: list[str] = []
    store = StateStore(100, lambda s: forgotten.append(s.data))

    def put(key: str, data: str, size: int) -> None:
        store.put(key, SavedState((1, 2), data, size))

    put("a", "a1", 40)
    put("a", "a2", 40)  # replaced
    put("b", "b1", 40)
    put("c", "c1", 40)  # pushes out a2
    put("d", "d1", 101)  # cannot fit
    assert forgotten == ["a1", "a2", "d1"]
    taken = store.take("b")
    assert taken is not None and taken.data == "b1" and "b1" not in forgotten  # the taker's now
    store.drop("c")
    assert forgotten == ["a1", "a2", "d1", "c1"]
