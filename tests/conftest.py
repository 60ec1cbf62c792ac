"""Fixtures and hooks for the whole suite: the no-egress guard. Shared helpers are in
tests/helpers.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EGRESS_LOG

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
