"""Runs llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server ...`) with the
same load patch as Enclave's worker: on this project's CPUs llama.cpp 0.3.36 segfaults after
repacking weights for AMX unless extra buffer types are off (see
lsp_server.model.worker._disable_extra_buffer_types).

Usage: python tests/model/llama_server_wrapper.py --model PATH --host 127.0.0.1 --port N ...
"""

from __future__ import annotations

import runpy
import sys

from lsp_server.model.worker import _disable_extra_buffer_types

if __name__ == "__main__":
    _disable_extra_buffer_types()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
