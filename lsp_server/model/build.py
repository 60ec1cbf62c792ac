"""What this llama-cpp-python build can do: its ggml backends (CPU, CUDA, Metal, Vulkan...)
and whether it can offload layers to a GPU. Read from the library, no model loaded."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# llama_print_system_info(): "CUDA : ARCHS = 890 | ... | CPU : SSE3 = 1 | AVX = 1 | ..."
_BACKEND = re.compile(r"(?:^|\|)\s*([A-Za-z][\w-]*)\s*:")


@dataclass(frozen=True)
class BuildInfo:
    backends: tuple[str, ...]
    gpu_offload: bool
    system_info: str


def parse_system_info(text: str) -> tuple[str, ...]:
    """The backend names of llama.cpp's system info line, in order, once each."""
    return tuple(dict.fromkeys(m.group(1) for m in _BACKEND.finditer(text)))


@functools.cache
def build_info() -> BuildInfo:
    import llama_cpp.llama_cpp as native

    native.llama_backend_init()  # registers the backends (idempotent)
    raw = native.llama_print_system_info()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return BuildInfo(
        parse_system_info(text), bool(native.llama_supports_gpu_offload()), text.strip()
    )
