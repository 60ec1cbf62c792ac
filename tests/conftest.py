"""Fixtures and hooks for the whole suite: the no-egress guard, and the tiers (a marker from each
test's folder, checked placement, no server in the unit tier). Shared helpers are in
tests/helpers.py; the tier rules in tests/tiers.py."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EGRESS_LOG
from tests.tiers import SERVER_GUARD, misplaced, tier_of

# No egress: every process of the run (server, worker, test servers, this one) loads the guard
# in egress_guard/sitecustomize.py, which refuses and records any non-loopback connection or
# name lookup; the fixture below fails the test during which one was attempted.
GUARD_DIR = Path(__file__).parent / "egress_guard"
os.environ["ENCLAVE_EGRESS_LOG"] = str(EGRESS_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(GUARD_DIR), os.environ.get("PYTHONPATH", "")) if p
)
sys.path.insert(0, str(GUARD_DIR))
import sitecustomize  # noqa: E402, F401  - installs the guard in this process too


@pytest.fixture(autouse=True)
def no_egress() -> Any:
    EGRESS_LOG.write_text("")
    yield
    attempts = EGRESS_LOG.read_text()
    EGRESS_LOG.write_text("")
    if attempts:
        pytest.fail(f"network access outside loopback during this test:\n{attempts}")


# Statistics (lsp_server/stats.py) of every server the tests start go to a folder of this
# run, never to the user's own state dir.
os.environ["ENCLAVE_STATE_DIR"] = tempfile.mkdtemp(prefix="enclave-state-")


# -- tiers: a marker per folder (tests/tiers.py), real-model tests only where they may run, and no
# server started by a unit test ----------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    SERVER_GUARD.install()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        path = Path(str(item.path))
        why = misplaced(path, {m.name for m in item.iter_markers()})
        if why is not None:
            wrong.append(f"{item.nodeid}: {why}")
            continue
        tier = tier_of(path)
        assert tier is not None
        item.add_marker(tier)
    if wrong:
        raise pytest.UsageError("tests in the wrong tier:\n" + "\n".join(wrong))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    # Setup and teardown included: a module fixture of a unit test may not start one either.
    SERVER_GUARD.active = tier_of(Path(str(item.path))) == "unit"
    try:
        return (yield)
    finally:
        SERVER_GUARD.active = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if SERVER_GUARD.refused:  # even if the test caught the refusal
        refused = "\n".join(SERVER_GUARD.refused)
        SERVER_GUARD.refused.clear()
        if not report.failed:
            report.outcome = "failed"
            report.longrepr = f"a unit test started a server (move it to tests/server):\n{refused}"
    return report
