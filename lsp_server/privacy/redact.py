"""Secret redaction: before any text leaves the server for a model, secrets in it are replaced
with a placeholder. The rules are gitleaks' and ours (scanner.py, rules/*.toml), run with RE2
in linear time; edges.py adds what a cut hides (half a key block, a token cut short).

Redaction sees what the model sees as one text. A completion job's prefix, typed middle and
suffix are one piece of the document: they are joined, scanned once, and each secret is
removed from every field it touches. When the cursor is inside a secret, the model sees one
placeholder ending at the cursor (in the field where the secret starts) and the text after the
secret; the secret's bytes after the cursor are dropped from the suffix. Every text handed over
(the job's window, each context piece, an action's prompt) is treated as cut from a larger one
at both ends.

A suggestion that contains a placeholder is dropped, so a redacted value is never re-inserted
(the model never saw it) and no placeholder is inserted into the user's code either."""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Sequence

from lsp_server.model.protocol import GenerateJob, Job, ScoreJob
from lsp_server.privacy.edges import edge_spans, merge, open_key_blocks, typed_token
from lsp_server.privacy.patterns import Span
from lsp_server.privacy.recall import Recall
from lsp_server.privacy.scanner import Scanner, default_scanner

PLACEHOLDER = "<redacted-secret>"
_PLACEHOLDER = PLACEHOLDER.encode()

SCANNER: Scanner = default_scanner()  # the rule files are read and compiled at import
RECALL = Recall()  # secrets seen lately: a piece of one stays redacted after an edit


def _token_prefixes(scanner: Scanner) -> tuple[bytes, ...]:
    """How known tokens begin (ghp_, xoxb, AKIA, sk_live, ...): the keywords of the rules that
    are not keyed on a variable name, for a token cut short at the end of a piece."""
    out: set[bytes] = set()
    for rule in scanner.rules:
        if rule.id.startswith(("generic", "enclave-")) or r"[\w.-]{0,50}?" in rule.regex.pattern:
            continue
        for k in rule.keywords:
            if len(k) >= 3 and k != "curl" and (not k.isalpha() or len(k) == 4):
                out.add(k.encode())
    return tuple(sorted(out))


TOKEN_PREFIXES = _token_prefixes(SCANNER)


def _learnt(scanner: Scanner) -> frozenset[str]:
    """The rules that find a secret by its own format, not by the name it is assigned to or
    its entropy: gitleaks' token rules and our URL, header, webhook and key rules."""
    loose = ("generic-api-key", "enclave-quoted-", "enclave-env-value", "enclave-xml-secret")
    return frozenset(r.id for r in scanner.rules if not r.id.startswith(loose))


LEARNT = _learnt(SCANNER)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates survive the round trip


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _snap(data: bytes, spans: list[Span]) -> list[Span]:
    """Spans widened to whole UTF-8 characters (a span never splits one)."""
    out = []
    for start, end in spans:
        while 0 < start < len(data) and 0x80 <= data[start] < 0xC0:
            start -= 1
        while end < len(data) and 0x80 <= data[end] < 0xC0:
            end += 1
        out.append((start, end))
    return merge(out)


def _scan_spans(data: bytes) -> list[Span]:
    return [_unquoted(data, f.start, f.end) for f in SCANNER.scan(data)]


def _unquoted(data: bytes, start: int, end: int) -> Span:
    """A secret's span without the quotes some rules include (the code keeps its shape)."""
    if end - start > 2 and data[start] in b"\"'`" and data[end - 1] == data[start]:
        return start + 1, end - 1
    return start, end


def secret_spans(
    data: bytes, cut_start: bool = True, cut_end: bool = True, path: str | None = None
) -> list[Span]:
    """Byte spans of the secrets in `data` (UTF-8), merged, in order; `path`: the file the
    text comes from, if known (a few rules are for some kinds of file only)."""
    findings = SCANNER.scan(data, path)
    found = [_unquoted(data, f.start, f.end) for f in findings]
    blocks = open_key_blocks(data)
    # Secrets whose pattern an edit can break are remembered: tokens of a known format and
    # key bodies (a value keyed on its name or its entropy is still found after an edit).
    RECALL.learn(
        data, [s for f, s in zip(findings, found, strict=True) if f.rule in LEARNT] + blocks
    )
    found += blocks + RECALL.spans(data)
    found += edge_spans(data, cut_start, cut_end, TOKEN_PREFIXES, _scan_spans)
    return _snap(data, merge(found))


Key = tuple[tuple[str, ...], bool, str | None]
MemoKey = tuple[tuple[str, ...], bool, str | None, int]


class _Memo:
    """The last redactions, by text: while the user types, the context pieces stay the same
    strings from one request to the next, and a warm-up, the request and its prefetch repeat
    the same job. Shared by the event loop and the redaction thread."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[MemoKey, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: MemoKey) -> tuple[str, ...] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: MemoKey, value: tuple[str, ...]) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __contains__(self, key: MemoKey) -> bool:
        with self._lock:
            return key in self._items


_MEMO = _Memo()


def redact_fields(
    fields: Sequence[str], cut: bool = True, path: str | None = None
) -> tuple[str, ...]:
    """Redact consecutive pieces of one text as that text: a secret that spans pieces is
    removed from each; its placeholder goes where it starts."""
    key = (tuple(fields), cut, path, RECALL.generation)  # a new secret learnt: redo
    out = _MEMO.get(key)
    if out is None:
        out = _redact_fields(*key[:3])
        _MEMO.put(key, out)
    return out


def _redact_fields(fields: tuple[str, ...], cut: bool, path: str | None) -> tuple[str, ...]:
    parts = [_encode(f) for f in fields]
    data = b"".join(parts)
    spans = secret_spans(data, cut, cut, path) if data else []
    # Between fields is where the user types (the cursor): a token typed so far is no whole
    # token yet, but its known prefix gives it away.
    ends = [sum(map(len, parts[: i + 1])) for i in range(len(parts) - 1)]
    typed = [t for end in ends if (t := typed_token(data, end, TOKEN_PREFIXES)) is not None]
    spans = _snap(data, merge(spans + typed)) if typed else spans
    if not spans:
        return fields
    out: list[str] = []
    base = 0
    for part in parts:
        lo, hi = base, base + len(part)
        chunks: list[bytes] = []
        at = lo
        for start, end in spans:
            if end <= lo or start >= hi:
                continue  # (a secret starting where an empty field ends goes to the next)
            chunks.append(data[at : max(start, at)])
            if start >= lo:
                chunks.append(_PLACEHOLDER)
            at = min(end, hi)
        chunks.append(data[at:hi])
        out.append(_decode(b"".join(chunks)))
        base = hi
    return tuple(out)


def redact(text: str, cut: bool = False, path: str | None = None) -> str:
    """`text` with its secrets replaced by the placeholder; `cut`: the text is a piece of a
    larger one (a secret may be cut at its start or end)."""
    if not text:
        return text
    return redact_fields((text,), cut, path)[0]


def _texts(job: Job) -> list[Key]:
    """What redact_job redacts, as memo keys: each text is a piece cut from a file."""
    if isinstance(job, GenerateJob):
        return [((job.prompt,), True, None)]
    if isinstance(job, ScoreJob):
        return [((job.context, job.text), True, None)]
    path = job.path or None
    return [
        ((job.prefix, job.middle, job.suffix), True, path),
        ((job.extra_context,), True, path),
        *(((text,), True, p or None) for p, text in job.context_files),
    ]


def pending_chars(job: Job) -> int:
    """How much of the job's text redact_job would scan (not in the memo): the scheduler runs
    a large redaction in a thread, off the event loop."""
    gen = RECALL.generation
    return sum(sum(map(len, k[0])) for k in _texts(job) if (*k, gen) not in _MEMO)


def redact_job(job: Job) -> Job:
    """The job with every text that reaches the model redacted."""
    texts = [redact_fields(*key) for key in _texts(job)]
    if isinstance(job, GenerateJob):
        return dataclasses.replace(job, prompt=texts[0][0])
    if isinstance(job, ScoreJob):
        context, text = texts[0]
        return dataclasses.replace(job, context=context, text=text)
    (prefix, middle, suffix), (extra,), *files = texts
    return dataclasses.replace(
        job,
        prefix=prefix,
        middle=middle,
        suffix=suffix,
        extra_context=extra,
        context_files=tuple(
            (p, text) for (p, _), (text,) in zip(job.context_files, files, strict=True)
        ),
    )


def contains_placeholder(text: str) -> bool:
    """Whether a model's answer holds a placeholder, whole or cut short (`<redacted-sec`)."""
    lowered = text.lower()
    return "<redacted" in lowered or "redacted-secret" in lowered
