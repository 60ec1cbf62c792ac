"""The test tiers themselves: each test carries the marker of its folder, real-model tests live
only where they may run, and a unit test cannot start a server however it tries (the guard runs
for real here, with /bin/true standing in so that a broken guard starts nothing harmful)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.tiers import (
    SERVER_GUARD,
    TESTS,
    TIERS,
    ServerInUnitTier,
    misplaced,
    starts_a_server,
    tier_of,
)

TRUE = "/bin/true"


@pytest.mark.parametrize(
    ("relative", "tier"),
    [
        ("unit/test_tiers.py", "unit"),
        ("server/test_protocol.py", "server"),
        ("editors/test_neovim.py", "editor"),
        ("model/test_real_model.py", "model"),
        ("e2e/test_neovim.py", None),  # the old folder is no tier
        ("e2e/test_protocol.py", None),
        ("editors/sub/test_neovim.py", "editor"),
        ("test_loose.py", None),
        ("data/stats.py", None),
        ("../test_outside.py", None),
    ],
)
def test_the_tier_comes_from_the_folder(relative: str, tier: str | None) -> None:
    assert tier_of(TESTS / relative) == tier


@pytest.mark.parametrize("markers", [{"model"}, {"slow"}, {"model", "slow"}])
def test_real_model_markers_belong_to_the_model_and_editor_tiers(markers: set[str]) -> None:
    for folder in ("unit", "server"):
        why = misplaced(TESTS / folder / "test_x.py", markers)
        assert why is not None and "tests/model" in why
    for folder in ("model", "editors"):
        assert misplaced(TESTS / folder / "test_x.py", markers) is None
    assert misplaced(TESTS / "e2e" / "test_other.py", set()) is not None


def test_every_collected_test_carries_exactly_its_folders_tier(
    request: pytest.FixtureRequest,
) -> None:
    items = request.session.items
    assert any(item.nodeid == request.node.nodeid for item in items)
    for item in items:
        names = {m.name for m in item.iter_markers()}
        tier = tier_of(Path(str(item.path)))
        tiers = names & set(TIERS)
        if tier == "editor":
            tiers -= {"model"}  # an editor test may also run the real model
        assert tiers == {tier}, item.nodeid
        if names & {"model", "slow"}:
            assert names & {"model", "editor"}, item.nodeid


SERVERS = [
    [sys.executable, "-m", "lsp_server", "serve"],
    [sys.executable, "-m", "lsp_server", "serve", "--log-level", "debug"],
    ["python3", "-X", "utf8", "-m", "lsp_server", "serve", "--stdio"],
    ["/home/u/.venv/bin/enclave", "serve"],
    ["enclave", "serve", "--tcp", "127.0.0.1:0"],
    [b"enclave", b"serve"],
    [Path("/opt/venv/bin/enclave"), "serve"],
    "enclave serve --stdio",
    f"{sys.executable} -m lsp_server serve",
]
NOT_SERVERS = [
    [sys.executable, "-m", "lsp_server", "--version"],
    [sys.executable, "-m", "lsp_server", "model", "verify"],
    [sys.executable, "-m", "lsp_server.model.worker"],
    [sys.executable, "-c", "print('serve')"],
    ["enclave", "complete", "serve.py:1:1"],
    ["nvim", "--headless"],
    "echo serve",
]


@pytest.mark.parametrize("argv", SERVERS, ids=str)
def test_server_command_lines_are_recognised(argv: object) -> None:
    assert starts_a_server(argv)


@pytest.mark.parametrize("argv", NOT_SERVERS, ids=str)
def test_other_command_lines_are_not(argv: object) -> None:
    assert not starts_a_server(argv)


@given(
    st.lists(st.text(min_size=1).filter(lambda w: w.strip() == w and " " not in w)),
    st.sampled_from([["-m", "lsp_server"], ["enclave"], ["/x/y/enclave"]]),
    st.lists(st.sampled_from(["--stdio", "--log-level", "debug", "--tcp", "127.0.0.1:1"])),
)
def test_serve_after_the_program_is_always_recognised(
    before: list[str], program: list[str], flags: list[str]
) -> None:
    argv = [*before, *program, "serve", *flags]
    assert starts_a_server(argv)
    assert not starts_a_server([w for w in argv if w != "serve"])


@contextlib.contextmanager
def provoked(expected: int) -> Iterator[None]:
    """Refusals a test provokes on purpose: counted, then cleared so that they do not fail it."""
    try:
        yield
    finally:
        count = len(SERVER_GUARD.refused)
        SERVER_GUARD.refused.clear()
    assert count == expected


def test_the_guard_is_on_in_the_unit_tier() -> None:
    assert SERVER_GUARD.active


def test_popen_of_a_server_is_refused_before_anything_starts() -> None:
    with provoked(3):
        with pytest.raises(ServerInUnitTier, match="lsp_server serve"):
            subprocess.Popen([sys.executable, "-m", "lsp_server", "serve"], executable=TRUE)
        with pytest.raises(ServerInUnitTier):
            subprocess.run("enclave serve", shell=True, executable=TRUE, check=False)
        # Swallowed, it is still recorded: the report hook in conftest.py fails such a test.
        with contextlib.suppress(ServerInUnitTier):
            subprocess.run(["enclave", "serve"], executable=TRUE, check=False)


async def test_asyncio_subprocesses_are_refused() -> None:
    # pytest-lsp starts its server this way.
    with provoked(1), pytest.raises(ServerInUnitTier):
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lsp_server", "serve", executable=TRUE
        )


def test_os_level_spawns_are_refused() -> None:
    with provoked(1), pytest.raises(ServerInUnitTier):
        os.posix_spawn(TRUE, ["enclave", "serve"], os.environ)
    # os.spawnv forks, then execs in the child: the guard refuses there, the child exits 127
    # instead of running the program (/bin/true would exit 0).
    assert os.spawnv(os.P_WAIT, TRUE, ["enclave", "serve"]) == 127
    assert os.spawnv(os.P_WAIT, TRUE, ["enclave", "complete"]) == 0


def test_other_subprocesses_still_run() -> None:
    done = subprocess.run([sys.executable, "-c", "print('serve')"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == "serve\n"
    assert not SERVER_GUARD.refused
