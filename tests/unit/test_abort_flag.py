"""The worker's abort flag: llama.cpp reads it between graph nodes with no Python call."""

from __future__ import annotations

import ctypes
import time
from types import SimpleNamespace

import pytest

from lsp_server.model import worker
from lsp_server.model.worker import AbortFlag

# llama-cpp-python's type for the callback: bool (*)(void *).
NATIVE = SimpleNamespace(ggml_abort_callback=ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p))


def asked(flag: AbortFlag) -> bool:
    """What llama.cpp gets when it calls the callback with its data."""
    return bool(flag.callback(flag.data))


def test_the_flag_follows_the_check_while_watched() -> None:
    flag = AbortFlag(NATIVE)
    assert flag.data is not None  # libc's strlen, not a Python callback
    assert not asked(flag)
    stop = [False]
    flag.watch(lambda: stop[0])
    time.sleep(0.05)
    assert not asked(flag)
    stop[0] = True
    for _ in range(400):  # the watcher sets it within a poll
        if asked(flag):
            break
        time.sleep(0.005)
    assert asked(flag)
    flag.clear()  # the decode ended
    assert not asked(flag)
    flag.watch(lambda: False)  # the next one starts with the flag down
    assert not asked(flag)
    time.sleep(0.05)
    assert not asked(flag)
    flag.clear()


def test_without_a_c_library_the_check_is_asked_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(_name: object) -> None:
        raise OSError("no C library")

    monkeypatch.setattr(worker.ctypes, "CDLL", no_library)
    flag = AbortFlag(NATIVE)
    assert flag.data is None  # a Python callback
    assert not asked(flag)
    stop = [False]
    flag.watch(lambda: stop[0])
    assert not asked(flag)
    stop[0] = True
    assert asked(flag)  # at once: nothing in between
    flag.clear()
    assert not asked(flag)
