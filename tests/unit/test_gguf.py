"""GGUF metadata reader: synthetic files written here, plus the real 0.5B model if its wheels
are available locally."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from lsp_server.errors import ModelError
from lsp_server.model import gguf
from lsp_server.model.gguf import read_metadata
from lsp_server.model.provision import MODELS, model_path, verify

_FMT = {
    gguf.T_UINT8: "B",
    gguf.T_INT8: "b",
    gguf.T_UINT16: "H",
    gguf.T_INT16: "h",
    gguf.T_UINT32: "I",
    gguf.T_INT32: "i",
    gguf.T_FLOAT32: "f",
    gguf.T_BOOL: "B",
    gguf.T_UINT64: "Q",
    gguf.T_INT64: "q",
    gguf.T_FLOAT64: "d",
}


def _str(s: str) -> bytes:
    raw = s.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _value(vtype: int, value: object) -> bytes:
    if vtype == gguf.T_STRING:
        assert isinstance(value, str)
        return _str(value)
    if vtype == gguf.T_ARRAY:
        assert isinstance(value, tuple)
        etype, items = value
        body = b"".join(_value(etype, v) for v in items)
        return struct.pack("<IQ", etype, len(items)) + body
    return struct.pack("<" + _FMT[vtype], value)


def gguf_bytes(
    kvs: list[tuple[str, int, object]], *, version: int = 3, tensor_count: int = 0
) -> bytes:
    """Serialize a GGUF header and key/value section (no tensors)."""
    out = [b"GGUF", struct.pack("<IQQ", version, tensor_count, len(kvs))]
    for key, vtype, value in kvs:
        out.append(_str(key) + struct.pack("<I", vtype) + _value(vtype, value))
    return b"".join(out)


def qwen_like_kvs(extra_tokens: int = 0) -> list[tuple[str, int, object]]:
    tokens = ["a", "b", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"]
    tokens += [f"tok{i}" for i in range(extra_tokens)]
    return [
        ("general.architecture", gguf.T_STRING, "qwen2"),
        ("general.name", gguf.T_STRING, "Tiny Test"),
        ("general.alignment", gguf.T_UINT32, 32),
        ("qwen2.context_length", gguf.T_UINT32, 32768),
        ("qwen2.rope.freq_base", gguf.T_FLOAT32, 1000000.0),
        ("tokenizer.ggml.add_bos_token", gguf.T_BOOL, False),
        ("tokenizer.ggml.eos_token_id", gguf.T_INT32, -1),
        ("big.u64", gguf.T_UINT64, 2**40),
        ("big.i64", gguf.T_INT64, -(2**40)),
        ("small.values", gguf.T_ARRAY, (gguf.T_INT16, [1, -2, 3])),
        ("f64", gguf.T_FLOAT64, 0.5),
        ("u8", gguf.T_UINT8, 7),
        ("i8", gguf.T_INT8, -7),
        ("u16", gguf.T_UINT16, 65535),
        ("tokenizer.ggml.tokens", gguf.T_ARRAY, (gguf.T_STRING, tokens)),
        ("tokenizer.ggml.scores", gguf.T_ARRAY, (gguf.T_FLOAT32, [0.0] * len(tokens))),
        ("tokenizer.ggml.merges", gguf.T_ARRAY, (gguf.T_STRING, ["a b"] * len(tokens))),
        ("flags", gguf.T_ARRAY, (gguf.T_BOOL, [True, False])),
        ("nested", gguf.T_ARRAY, (gguf.T_ARRAY, [(gguf.T_UINT8, [1, 2]), (gguf.T_UINT8, [3])])),
    ]


def write_gguf(path: Path, kvs: list[tuple[str, int, object]], *, pad_to: int = 0) -> Path:
    data = gguf_bytes(kvs)
    path.write_bytes(data + b"\0" * max(0, pad_to - len(data)))
    return path


def real_05_model() -> Path:
    """The 0.5B model as `enclave model fetch --size 0.5b` provisioned it (`make test` does)."""
    spec = MODELS["0.5b"]
    path = model_path(spec)
    if not verify(path, spec, quick=True).ok:
        pytest.skip("the 0.5b model is not provisioned: run `enclave model fetch --size 0.5b`")
    return path


def test_reads_synthetic_file(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", qwen_like_kvs())
    meta = read_metadata(path)
    assert meta.version == 3
    assert meta.tensor_count == 0
    assert meta.architecture == "qwen2"
    assert meta.name == "Tiny Test"
    assert meta.context_length == 32768
    v = meta.values
    assert v["general.alignment"] == 32
    assert v["qwen2.rope.freq_base"] == 1000000.0
    assert v["tokenizer.ggml.add_bos_token"] is False
    assert v["tokenizer.ggml.eos_token_id"] == -1
    assert v["big.u64"] == 2**40
    assert v["big.i64"] == -(2**40)
    assert v["small.values"] == [1, -2, 3]
    assert v["f64"] == 0.5
    assert (v["u8"], v["i8"], v["u16"]) == (7, -7, 65535)
    assert v["flags"] == [True, False]
    assert v["nested"] == [[1, 2], [3]]
    assert meta.has_token("<|fim_prefix|>")
    assert meta.has_token("<|file_sep|>")
    assert not meta.has_token("<fim_prefix>")
    assert meta.token_count == 6


def test_large_arrays_omitted_but_tokens_kept(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", qwen_like_kvs(extra_tokens=50))
    meta = read_metadata(path, max_array=10)
    assert "tokenizer.ggml.tokens" not in meta.values
    assert "tokenizer.ggml.scores" not in meta.values
    assert "tokenizer.ggml.merges" not in meta.values
    assert meta.array_lengths["tokenizer.ggml.scores"] == 56
    assert meta.array_lengths["tokenizer.ggml.merges"] == 56
    assert meta.token_count == 56
    assert meta.has_token("tok49") and meta.has_token("<|fim_middle|>")
    # Keys after the skipped arrays are still read correctly.
    assert meta.values["flags"] == [True, False]


def test_not_gguf(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(ModelError, match="not a GGUF"):
        read_metadata(p)


def test_truncated(tmp_path: Path) -> None:
    data = gguf_bytes(qwen_like_kvs())
    for cut in (10, 30, len(data) // 2, len(data) - 1):
        p = tmp_path / f"t{cut}.gguf"
        p.write_bytes(data[:cut])
        with pytest.raises(ModelError, match="truncated"):
            read_metadata(p)


def test_empty_and_missing(tmp_path: Path) -> None:
    p = tmp_path / "empty.gguf"
    p.write_bytes(b"")
    with pytest.raises(ModelError, match="not a GGUF"):
        read_metadata(p)
    with pytest.raises(ModelError, match="cannot read"):
        read_metadata(tmp_path / "missing.gguf")


def test_unsupported_version(tmp_path: Path) -> None:
    p = tmp_path / "v1.gguf"
    p.write_bytes(gguf_bytes(qwen_like_kvs(), version=1))
    with pytest.raises(ModelError, match="unsupported GGUF version 1"):
        read_metadata(p)
    p.write_bytes(b"GGUF" + struct.pack(">I", 3) + b"\0" * 40)
    with pytest.raises(ModelError, match="big-endian"):
        read_metadata(p)


def test_missing_architecture(tmp_path: Path) -> None:
    p = write_gguf(tmp_path / "m.gguf", [("general.name", gguf.T_STRING, "x")])
    with pytest.raises(ModelError, match=r"general\.architecture"):
        read_metadata(p)


def test_unknown_value_type(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _str("k") + struct.pack("<I", 99) + b"\0" * 16
    p = tmp_path / "m.gguf"
    p.write_bytes(data)
    with pytest.raises(ModelError, match="unknown GGUF value type 99"):
        read_metadata(p)


def test_real_05_model() -> None:
    path = real_05_model()
    meta = read_metadata(path)
    assert meta.architecture == "qwen2"
    assert meta.context_length is not None and meta.context_length >= 32768
    assert meta.token_count > 150_000
    for tok in (
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
        "<|repo_name|>",
        "<|file_sep|>",
    ):
        assert meta.has_token(tok), tok
    assert meta.tensor_count > 0
