"""Pure-Python reader for the metadata section of a GGUF file.

Used to describe a model (architecture, context length) and to pick a fill-in-the-middle
template from the tokens it knows, without loading the model through llama.cpp.
Only the header and key/value section are read; tensor data is never touched.
"""

from __future__ import annotations

import logging
import mmap
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from lsp_server.errors import ModelError

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
TOKENS_KEY = "tokenizer.ggml.tokens"
DEFAULT_MAX_ARRAY = 1024

# GGUF value type ids (from the GGUF spec).
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32 = 0, 1, 2, 3, 4, 5, 6
T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = 7, 8, 9, 10, 11, 12

# struct code per scalar type; bool is one byte.
_SCALAR_FORMATS: dict[int, str] = {
    T_UINT8: "B",
    T_INT8: "b",
    T_UINT16: "H",
    T_INT16: "h",
    T_UINT32: "I",
    T_INT32: "i",
    T_FLOAT32: "f",
    T_BOOL: "B",
    T_UINT64: "Q",
    T_INT64: "q",
    T_FLOAT64: "d",
}

# Sanity limits: a corrupt or hostile file must not make us recurse, loop or allocate for
# ages. llama.cpp itself refuses nested arrays; one level is allowed here, a few for slack.
_MAX_KV_COUNT = 1 << 20
_MAX_KEY_LEN = 1 << 16
_MAX_ARRAY_DEPTH = 4
_MAX_ELEMENTS = 1 << 22  # array elements read or skipped in one file (vocabularies: ~260k)
# Fewest bytes one array element of a type takes: a count must fit in what is left.
_MIN_ELEMENT_SIZE = {T_STRING: 8, T_ARRAY: 12}


class GgufError(ModelError):
    """The file is not a GGUF file this reader can use (missing, truncated, corrupt, hostile).
    The only error read_metadata raises."""


@dataclass(frozen=True)
class GgufMetadata:
    """What the header and key/value section of a GGUF file say."""

    path: Path
    version: int
    tensor_count: int
    architecture: str
    name: str | None
    context_length: int | None
    # Every key except arrays longer than max_array (their lengths are in array_lengths).
    values: dict[str, object]
    array_lengths: dict[str, int] = field(default_factory=dict)
    tokens: frozenset[str] = frozenset()

    def has_token(self, text: str) -> bool:
        """True if `text` is exactly one token of the vocabulary (e.g. "<|fim_prefix|>")."""
        return text in self.tokens

    @property
    def token_count(self) -> int:
        return self.array_lengths.get(TOKENS_KEY, len(self.tokens))


class _Reader:
    """Bounds-checked little-endian cursor over the mapped file."""

    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.size = len(buf)
        self.path = path
        self.elements = 0  # array elements so far, against _MAX_ELEMENTS

    def array_count(self, etype: int, count: int, key: str, walked: bool) -> None:
        """Check an array's count before reading it: it must fit in the rest of the file and,
        if its elements are walked one by one, in the budget of elements; so the work is
        bounded by the file, not by what it claims."""
        least = _MIN_ELEMENT_SIZE.get(etype, 1)
        self._need(count * least, f"the array {key}")
        if not walked:
            return
        self.elements += count
        if self.elements > _MAX_ELEMENTS:
            raise GgufError(
                f"{self.path}: corrupt GGUF metadata (more than {_MAX_ELEMENTS} array elements)"
            )

    def _need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > self.size:
            raise GgufError(
                f"{self.path}: GGUF file is truncated or corrupt (reading {what} at byte "
                f"{self.pos}, needs {n} bytes, file has {self.size}); download it again"
            )

    def scalar(self, vtype: int) -> int | float | bool:
        fmt = _SCALAR_FORMATS[vtype]
        n = struct.calcsize(fmt)
        self._need(n, "a value")
        (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += n
        if vtype == T_BOOL:
            return bool(value)
        return value  # type: ignore[no-any-return]

    def u32(self) -> int:
        return int(self.scalar(T_UINT32))

    def u64(self) -> int:
        return int(self.scalar(T_UINT64))

    def string(self, what: str = "a string", limit: int | None = None) -> str:
        n = self.u64()
        if limit is not None and n > limit:
            raise GgufError(f"{self.path}: corrupt GGUF file ({what} of {n} bytes)")
        self._need(n, what)
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        n = self.u64()
        self._need(n, "a string")
        self.pos += n

    def strings(self, count: int) -> list[str]:
        # Hot loop for ~150k vocabulary entries: local names and one unpack per item.
        buf, size, pos = self.buf, self.size, self.pos
        unpack = struct.Struct("<Q").unpack_from
        out: list[str] = []
        append = out.append
        for _ in range(count):
            if pos + 8 > size:
                self.pos = pos
                self._need(8, "a string length")
            (n,) = unpack(buf, pos)
            pos += 8
            if pos + n > size:
                self.pos = pos
                self._need(n, "a string")
            append(buf[pos : pos + n].decode("utf-8", errors="replace"))
            pos += n
        self.pos = pos
        return out

    def skip_strings(self, count: int) -> None:
        buf, size, pos = self.buf, self.size, self.pos
        unpack = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > size:
                self.pos = pos
                self._need(8, "a string length")
            (n,) = unpack(buf, pos)
            pos += 8 + n
        if pos > size:
            self.pos = size
            self._need(1, "a string")
        self.pos = pos


def _read_value(
    r: _Reader,
    vtype: int,
    key: str,
    max_array: int,
    array_lengths: dict[str, int],
    depth: int = 0,
) -> tuple[object, bool]:
    """Read one value. Returns (value, kept); kept is False for an omitted huge array."""
    if vtype in _SCALAR_FORMATS:
        return r.scalar(vtype), True
    if vtype == T_STRING:
        return r.string(f"the value of {key}"), True
    if vtype != T_ARRAY:
        raise GgufError(f"{r.path}: unknown GGUF value type {vtype} for key {key!r}")
    if depth >= _MAX_ARRAY_DEPTH:
        raise GgufError(
            f"{r.path}: corrupt GGUF metadata ({key!r} nests arrays deeper than {_MAX_ARRAY_DEPTH})"
        )
    etype = r.u32()
    count = r.u64()
    if etype not in _SCALAR_FORMATS and etype not in (T_STRING, T_ARRAY):
        raise GgufError(f"{r.path}: unknown GGUF array element type {etype} for key {key!r}")
    r.array_count(etype, count, key, walked=etype not in _SCALAR_FORMATS or count <= max_array)
    if etype in _SCALAR_FORMATS:
        fmt = _SCALAR_FORMATS[etype]
        nbytes = struct.calcsize(fmt) * count
        r._need(nbytes, f"the array {key}")
        if count > max_array:
            array_lengths[key] = count
            r.pos += nbytes
            return None, False
        items = struct.unpack_from(f"<{count}{fmt}", r.buf, r.pos)
        r.pos += nbytes
        if etype == T_BOOL:
            return [bool(x) for x in items], True
        return list(items), True
    if etype == T_STRING:
        if key == TOKENS_KEY:
            # The vocabulary is always read: token detection needs it.
            array_lengths[key] = count
            return r.strings(count), count <= max_array
        if count > max_array:
            array_lengths[key] = count
            r.skip_strings(count)
            return None, False
        return r.strings(count), True
    if etype == T_ARRAY:
        # Nested arrays do not occur in practice; read them element by element.
        nested: list[object] = []
        for i in range(count):
            value, _ = _read_value(r, T_ARRAY, f"{key}[{i}]", max_array, {}, depth + 1)
            nested.append(value)
        if count > max_array:
            array_lengths[key] = count
            return None, False
        return nested, True
    raise AssertionError("unreachable: element types are checked above")


def read_metadata(path: Path | str, *, max_array: int = DEFAULT_MAX_ARRAY) -> GgufMetadata:
    """Parse the GGUF header and key/value section of `path`.

    Arrays longer than `max_array` are left out of `values` (their length goes to
    `array_lengths`), except that `tokenizer.ggml.tokens` always fills `tokens`.
    Raises GgufError (a ModelError), and nothing else, for a missing, non-GGUF, unsupported,
    truncated or corrupt file.
    """
    p = Path(path)
    try:
        # Non-blocking open: a FIFO at the path must not hang the server; only files are read.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise GgufError(f"{p}: not a regular file")
            size = st.st_size
            if size < 24:
                head = f.read(4)
                if head != GGUF_MAGIC:
                    raise GgufError(f"{p}: not a GGUF model file (bad magic {head!r})")
                raise GgufError(f"{p}: GGUF file is truncated ({size} bytes); download it again")
            # mmap: the vocabulary alone is ~150k small strings, so avoid per-item read() calls.
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(_Reader(buf, p), max_array)
    except OSError as e:
        raise GgufError(f"{p}: cannot read model file: {e.strerror or e}") from e


def _parse(r: _Reader, max_array: int) -> GgufMetadata:
    magic = bytes(r.buf[0:4])
    if magic != GGUF_MAGIC:
        raise GgufError(f"{r.path}: not a GGUF model file (bad magic {magic!r})")
    r.pos = 4
    version = r.u32()
    if version not in SUPPORTED_VERSIONS:
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        if swapped in SUPPORTED_VERSIONS:
            raise GgufError(f"{r.path}: big-endian GGUF files are not supported")
        raise GgufError(
            f"{r.path}: unsupported GGUF version {version} (supported: "
            f"{', '.join(map(str, SUPPORTED_VERSIONS))}); convert the model with a recent llama.cpp"
        )
    tensor_count = r.u64()
    kv_count = r.u64()
    if kv_count > _MAX_KV_COUNT:
        raise GgufError(f"{r.path}: corrupt GGUF header ({kv_count} metadata keys)")

    values: dict[str, object] = {}
    array_lengths: dict[str, int] = {}
    tokens: frozenset[str] = frozenset()
    for _ in range(kv_count):
        key = r.string("a metadata key", _MAX_KEY_LEN)
        vtype = r.u32()
        value, kept = _read_value(r, vtype, key, max_array, array_lengths)
        if key == TOKENS_KEY and isinstance(value, list):
            tokens = frozenset(str(t) for t in value)
        if kept:
            values[key] = value

    arch_value = values.get("general.architecture")
    if not isinstance(arch_value, str) or not arch_value:
        raise GgufError(f"{r.path}: GGUF file has no general.architecture; not a usable model")
    name = values.get("general.name")
    ctx = values.get(f"{arch_value}.context_length")
    return GgufMetadata(
        path=r.path,
        version=version,
        tensor_count=tensor_count,
        architecture=arch_value,
        name=name if isinstance(name, str) else None,
        context_length=int(ctx) if isinstance(ctx, int) and not isinstance(ctx, bool) else None,
        values=values,
        array_lengths=array_lengths,
        tokens=tokens,
    )
