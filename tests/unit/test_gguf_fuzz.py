"""The GGUF reader under attack: whatever the bytes (mutations of a valid header, deep nesting,
counts that claim more than the file holds, files that are not files), it answers with the
metadata or its own error (GgufError), within a bounded time: never a RecursionError, a
struct.error, a hang or a huge allocation."""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.model import gguf
from lsp_server.model.gguf import GgufError, GgufMetadata, read_metadata
from tests.unit.test_gguf import _str, gguf_bytes, qwen_like_kvs

VALID = gguf_bytes(qwen_like_kvs())
HEADER = b"GGUF" + struct.pack("<IQ", 3, 0)


def read_bytes(tmp: Path, data: bytes) -> GgufMetadata | GgufError:
    path = tmp / "f.gguf"
    path.write_bytes(data)
    started = time.monotonic()
    try:
        return read_metadata(path)
    except GgufError as exc:  # anything else fails the test
        return exc
    finally:
        assert time.monotonic() - started < 10.0  # bounded work (a hang guard, not a timing)


MUTATION = st.tuples(
    st.sampled_from(["set", "insert", "delete", "u64"]),
    st.integers(0, len(VALID) - 1),
    st.binary(min_size=1, max_size=8),
)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(MUTATION, min_size=1, max_size=6), st.integers(0, len(VALID)))
def test_mutated_headers_give_metadata_or_gguf_error(
    tmp_path: Path, mutations: list[tuple[str, int, bytes]], cut: int
) -> None:
    data = bytearray(VALID)
    for op, pos, blob in mutations:
        pos = min(pos, len(data))
        if op == "set":
            data[pos : pos + len(blob)] = blob
        elif op == "insert":
            data[pos:pos] = blob
        elif op == "delete":
            del data[pos : pos + len(blob)]
        else:  # a count or length replaced by a large one
            data[pos : pos + 8] = struct.pack("<Q", int.from_bytes(blob.ljust(8, b"\xff"), "big"))
    result = read_bytes(tmp_path, bytes(data[: max(cut, 24)]))
    assert isinstance(result, GgufMetadata | GgufError)


def nested(depth: int, leaf: bytes = struct.pack("<IQ", gguf.T_UINT8, 0)) -> bytes:
    """An array of one array of one array ... `depth` levels deep."""
    return struct.pack("<IQ", gguf.T_ARRAY, 1) * depth + leaf


def file_with(key_value: bytes, kv_count: int = 1) -> bytes:
    arch = _str("general.architecture") + struct.pack("<I", gguf.T_STRING) + _str("x")
    return HEADER + struct.pack("<Q", kv_count + 1) + arch + key_value


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 100, 5000, 20000])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    kv = _str("deep") + struct.pack("<I", gguf.T_ARRAY) + nested(depth)
    result = read_bytes(tmp_path, file_with(kv))
    if depth <= 3:  # array of depth+1 levels in all: within the bound
        assert isinstance(result, GgufMetadata)
    else:
        assert isinstance(result, GgufError) and "nests arrays deeper" in str(result)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([gguf.T_ARRAY, gguf.T_STRING, gguf.T_UINT8, 99]), st.integers(0, 3)
        ),
        min_size=1,
        max_size=8,
    )
)
def test_structured_nesting(tmp_path: Path, shape: list[tuple[int, int]]) -> None:
    """Arrays of arrays of ..., with element types and counts drawn, bodies short or long."""
    body = b""
    for etype, count in reversed(shape):
        if etype == gguf.T_STRING:
            inner = b"".join(_str("s") for _ in range(count))
        elif etype == gguf.T_UINT8:
            inner = b"\x01" * count
        else:
            inner = body * count
        body = struct.pack("<IQ", etype, count) + inner
    kv = _str("shaped") + struct.pack("<I", gguf.T_ARRAY) + body
    result = read_bytes(tmp_path, file_with(kv))
    assert isinstance(result, GgufMetadata | GgufError)


@pytest.mark.parametrize(
    "etype", [gguf.T_ARRAY, gguf.T_STRING, gguf.T_UINT64, gguf.T_FLOAT32], ids=str
)
@pytest.mark.parametrize("count", [2**63, 2**40, 10**6])
def test_counts_beyond_the_file_are_refused_at_once(tmp_path: Path, etype: int, count: int) -> None:
    for key in ("a", "tokenizer.ggml.tokens"):
        kv = _str(key) + struct.pack("<IIQ", gguf.T_ARRAY, etype, count) + b"\0" * 64
        result = read_bytes(tmp_path, file_with(kv))
        assert isinstance(result, GgufError) and "truncated or corrupt" in str(result)


def test_work_is_bounded_by_an_element_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf, "_MAX_ELEMENTS", 1000)
    strings = struct.pack("<IQ", gguf.T_STRING, 600) + _str("") * 600
    kvs = b"".join(_str(f"k{i}") + struct.pack("<I", gguf.T_ARRAY) + strings for i in range(2))
    result = read_bytes(tmp_path, file_with(kvs, kv_count=2))
    assert isinstance(result, GgufError) and "array elements" in str(result)


def test_a_key_claiming_a_huge_length_is_refused(tmp_path: Path) -> None:
    data = HEADER + struct.pack("<QQ", 1, 2**62) + b"k" * 64
    result = read_bytes(tmp_path, data)
    assert isinstance(result, GgufError) and "metadata key" in str(result)


def test_a_fifo_or_a_directory_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    with pytest.raises(GgufError, match="not a regular file"):
        read_metadata(fifo)
    with pytest.raises(GgufError):
        read_metadata(tmp_path)
