"""Secrets that a cut hides from the rules: a piece of a file (a context chunk, the window
around the cursor) can hold only part of a private key block or of a token, which no rule
matches. These spans are found from what is left:

- a private key block, whole or missing its END (cut after the BEGIN line) or its BEGIN
  (cut before it): the markers and the base64 body lines next to them;
- base64 body lines touching a cut edge (a piece from the middle of a key);
- a token cut at an edge: at the end, a fragment that starts like a known token, is random
  looking, or is an unterminated quoted string; at the start, a random-looking fragment or
  the tail of a quoted string;
- on a first line cut before its secret-like name (`assword = "..."`, `s://user:pw@host`):
  what the rules find when the name is given back, and random-looking tokens.

Offsets are byte offsets in UTF-8 text, as in scanner.py. Every pattern is RE2 (linear)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from lsp_server.privacy.patterns import Pattern, Span
from lsp_server.privacy.scanner import entropy

_BEGIN = Pattern(r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")
_END = Pattern(r"(?i)-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")
# A line of a key body as it appears in files and string literals: base64 (or an armor
# header such as `Proc-Type: 4,ENCRYPTED`), with quotes, escaped line breaks and
# concatenation around it.
_LINE = (
    r"""[ \t]*(?:[rbu]?["'`])?[ \t]*"""
    r"""(?:[A-Za-z0-9+/]*={0,3}[A-Za-z0-9+/]*(?:\\[nr])*|[A-Za-z][A-Za-z-]{1,30}: [^\n]{0,200}?)"""
    r"""(?:\\[nr])*[ \t]*["'`]?[ \t]*[,+;)]*[ \t]*\\?\r?"""
)
_BODY_LINE = Pattern(_LINE)
# Body lines one after the other, from a line's start (one RE2 pass, however many lines).
_BODY_LINES = Pattern(f"(?:{_LINE}(?:\\n|\\z))*")
# A line of base64 only (no armor header: mail and HTTP headers look the same), for the body
# of a key cut out of its markers at a piece's edge.
_EDGE = (
    r"""[ \t]*(?:[rbu]?["'`])?[ \t]*[A-Za-z0-9+/]{8,}={0,3}(?:\\[nr])*"""
    r"""[ \t]*["'`]?[ \t]*[,+;)]*[ \t]*\\?\r?"""
)
_EDGE_LINE = Pattern(_EDGE)
_EDGE_LINES = Pattern(f"(?:{_EDGE}(?:\\n|\\z))*")
# Going backwards line by line, a body run is followed this far (a 4096-bit RSA key has 50).
MAX_LINES_BACK = 256
# What surrounds a key body on the line of its marker in a one-line key (escaped line
# breaks, quotes, concatenation): the body runs over these characters.
_INLINE_RUN = Pattern(r"""[A-Za-z0-9+/=\\ \t"'`,;()]*""")
_INLINE_TAIL = Pattern(r"""[A-Za-z0-9+/=\\ \t"'`,;()]*\z""")
_B64 = Pattern(r"[A-Za-z0-9+/]{4,}")
_B64_RUN = Pattern(r"[A-Za-z0-9+/]{8,}")
_TOKEN_CHARS = Pattern(r"[A-Za-z0-9_.~+/=-]+")
_QUOTES = b"\"'`"
# What comes before a string literal's opening quote: an operator, a bracket, a separator.
_OPENERS = frozenset(bytes([c]) for c in b"=:(,[{<>+|&!?")

# A fragment this long that mixes digits and letters (or cases) may be the piece of a token.
MIN_FRAGMENT = 8
# On a cut first line, a random-looking token is redacted: 16 characters or more with digits
# and letters, or 10 or more with digits and both cases.
_RANDOM_TOKEN = Pattern(r"[A-Za-z0-9+/=_.~-]{10,}")
RANDOM_TOKEN_ENTROPY = 3.0
# Names given back to a first line that starts with the end of a secret-like name
# (`assword = "..."`, `ASSWORD=...`, `sword>...</password>`) or of a URL scheme (`s://u:pw@`,
# `//u:pw@`), so the rules keyed on names and URLs see its value; endings given to a cut last
# line.
_NAMES = (b"password", b"<password", b"xx:")
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "key",
    "credentials",
    "authorization",
)
_LEADING_WORD = Pattern(r"[_.-]*([A-Za-z]*)")
_SCHEME_CUT = Pattern(r"(?:[A-Za-z0-9+.-]*:)?//")
# A first line that starts with an assignment's operator lost the name before it (at the end
# of the previous piece): its value is taken, whatever the name was. A first line that is
# only a string literal may have lost it too: its content is taken if it looks random.
_OPERATOR_FIRST = Pattern(
    r"""[ \t]*(?:=>|:=|=|:)[ \t]*[rbuf]?"""
    r"""(?:"([^"\n]{3,})"|'([^'\n]{3,})'|`([^`\n]{3,})`|([^\s"'`,;)\]}]{3,}))"""
)
_STRING_LINE = Pattern(
    r"""[ \t]*[rbuf]?(?:"([^"\s]{8,})"|'([^'\s]{8,})'|`([^`\s]{8,})`)"""
    r"""[ \t]*[,;)\]}]*[ \t]*\r?(?:\n|\z)"""
)
# Words in a token (`Win32MimeTypesTestCase`, `IEEE_754_DOUBLE_LE`): an identifier, not a key.
# Capitals count as a word only between separators (random text has capital runs too); and
# words have vowels (random letters: 1 in 5).
_WORD = Pattern(r"[A-Z][a-z]{2,}|[a-z]{3,}|(?:\A|[_./-])[A-Z]{2,}(?:[_./-]|\z)")
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = Pattern(r"[0-9a-fA-F]+")
WORDY = 0.75
VOWELS = 0.25
WORD_WINDOW = 256
# Only this much of a cut first or last line is looked at again: a name cut at the edge is
# near it, and a line of a megabyte must not be scanned five times.
LINE_WINDOW = 4096
_ENDINGS = (b"x",)
# A secret-like XML element left open on the last line: `<password>abc` or `<password>abc</pa`.
_OPEN_ELEMENT = Pattern(
    r"(?i)<[\w.:-]{0,40}(?:passw(?:or)?d|secret|token|api[_.-]?key|apikey|credentials?)"
    r"[\w.:-]{0,40}>[ \t]*([^<>\s]{1,512})[ \t]*(?:<[/\w.:-]*)?\z"
)
# The tail of a string literal at the start of a piece: `er2pass",` then the line's end.
_STRING_TAIL = Pattern(r"""[^\s"'`]+(?:"|'|`)[ \t]*[,;)\]}]*[ \t]*\r?(?:\n|\z)""")
# A base64 run at an edge must be this long and this random to be taken for a key body.
MIN_BODY_CHARS = 20
BODY_ENTROPY = 4.0


def _line_start(data: bytes, pos: int) -> int:
    return data.rfind(b"\n", 0, pos) + 1


def _line_end(data: bytes, pos: int) -> int:
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end


def _is_body(line: bytes, one: Pattern = _BODY_LINE) -> bool:
    return one.fullmatch(line)


def _lines_from(data: bytes, start: int, run: Pattern = _BODY_LINES) -> int:
    """The end of the run of body lines that starts at `start` (a line's start)."""
    if start > len(data):
        return len(data)
    m = run.match(data, start)
    end = start if m is None else m[0][1]
    return end - 1 if end > start and data[end - 1] == 0x0A else end


def _lines_before(data: bytes, start: int, floor: int = 0, one: Pattern = _BODY_LINE) -> int:
    """The start of the run of body lines that ends just before `start` (a line's start)."""
    for _ in range(MAX_LINES_BACK):
        if start <= floor:
            break
        prev = _line_start(data, start - 1)
        if not _is_body(data[prev : start - 1], one):
            break
        start = prev
    return start


def _body_after(data: bytes, pos: int) -> int:
    """The end of the key body that starts at `pos` (just after a BEGIN marker): the rest of
    the marker's line while it looks like body, then whole body lines."""
    m = _INLINE_RUN.match(data, pos)
    end = pos if m is None else m[0][1]
    if end < len(data) and data[end] != 0x0A:
        return end  # something else follows on the marker's line: the body ends there
    return _lines_from(data, end + 1) if end < len(data) else end


def _body_before(data: bytes, pos: int, floor: int) -> int:
    """The start of the key body that ends at `pos` (just before an END marker), not before
    `floor` (the end of the previous marker)."""
    newline = data.rfind(b"\n", floor, pos)
    start = newline + 1 if newline >= 0 else floor
    m = _INLINE_TAIL.search(data[start:pos])
    if m is None or m[0][0] > 0 or (newline < 0 and floor > 0):
        return start + (pos - start if m is None else m[0][0])
    return _lines_before(data, start, floor)


def open_key_blocks(data: bytes) -> list[Span]:
    """Private key blocks, whole or with a marker cut off: each BEGIN marker with the body
    that follows it, each END marker with the body before it (a whole block is both, merged).
    Only body-like lines are taken: key markers held as constants in parsing code leave the
    code between them alone."""
    if b"-----" not in data:
        return []
    marks = sorted(
        [(*m[0], True) for m in _BEGIN.finditer(data)]
        + [(*m[0], False) for m in _END.finditer(data)]
    )
    spans: list[Span] = []
    for i, (start, end, begin) in enumerate(marks):
        span = (
            (start, _body_after(data, end))
            if begin
            else (_body_before(data, start, marks[i - 1][1] if i else 0), end)
        )
        body = data[end : span[1]] if begin else data[span[0] : start]
        if _B64_RUN.search(body) is not None:  # a marker alone (in parsing code) is no key
            spans.append(span)
    return spans


_DIGIT, _UPPER, _LOWER = Pattern("[0-9]"), Pattern("[A-Z]"), Pattern("[a-z]")


def _classes(text: bytes) -> tuple[bool, bool, bool]:
    """Whether `text` has digits, upper case and lower case ASCII letters."""
    found = [p.search(text) is not None for p in (_DIGIT, _UPPER, _LOWER)]
    return found[0], found[1], found[2]


def _random_body(run: bytes) -> bool:
    """Random enough to be a key's body (judged on its first 64 KB)."""
    run = run[: 64 * 1024]
    chars = b"".join(run[m[0][0] : m[0][1]] for m in _B64.finditer(run))
    return (
        len(chars) >= MIN_BODY_CHARS
        and all(_classes(chars))
        and entropy(chars.decode("ascii")) >= BODY_ENTROPY
    )


def _edge_body(data: bytes, at_start: bool) -> Span | None:
    """A run of base64 body lines touching the start (or end) of a cut piece; the line at the
    cut may be partial (`-Lines: 4` of a PuTTY key), so the run may begin after it."""
    if at_start:
        first = _line_end(data, 0)
        start = 0 if _is_body(data[:first], _EDGE_LINE) else first + 1
        span = (start, _lines_from(data, start, _EDGE_LINES))
    else:
        last = _line_start(data, len(data))
        end = len(data) if _is_body(data[last:], _EDGE_LINE) else max(last - 1, 0)
        span = (_lines_before(data, last, 0, _EDGE_LINE), end)
    return span if span[1] > span[0] and _random_body(data[span[0] : span[1]]) else None


def piece_like(fragment: bytes) -> bool:
    """Could this fragment be a piece of a token? Long enough, and digits with letters, or
    both cases (random text almost always has one or the other; words rarely do), or the end
    of base64 (`+` or `/`, and padding)."""
    if len(fragment) < MIN_FRAGMENT:
        return False
    digit, upper, lower = _classes(fragment)
    b64_tail = fragment.endswith(b"=") and (b"+" in fragment or b"/" in fragment)
    return b64_tail or ((upper or lower) and (digit or (upper and lower)))


def _lead_fragment(data: bytes) -> Span | None:
    """A token, or the tail of a string literal, cut at the start."""
    m = _TOKEN_CHARS.match(data)
    if m is not None and piece_like(fragment := data[: m[0][1]]):
        whole_line = data[m[0][1] : m[0][1] + 1] in (b"", b"\n", b"\r")
        if not wordy(fragment) or (whole_line and _classes(fragment)[0]):
            return m[0]  # (a line that is one token with digits: an unquoted value's tail)
    m = _STRING_TAIL.match(data)
    if m is not None and m[0][1] >= 4:
        return m[0]
    return None


def _trail_fragment(data: bytes, prefixes: Sequence[bytes]) -> Span | None:
    """A token, the start of a known token, or an unterminated string literal cut at the
    end."""
    m = _TOKEN_CHARS.match(data[::-1])  # the run of token characters ending the text
    if m is None:
        return None
    start = len(data) - m[0][1]
    fragment = data[start:]
    if piece_like(fragment) and not wordy(fragment):
        return (start, len(data))
    at = _known_start(fragment[-LINE_WINDOW:], prefixes, cut_short=True)
    return None if at is None else (len(data) - len(fragment[-LINE_WINDOW:]) + at, len(data))


def _known_start(fragment: bytes, prefixes: Sequence[bytes], cut_short: bool) -> int | None:
    """Where a known token starts in `fragment` (at its start or after `NAME=`, `:`, a quote
    or a slash); `cut_short`: the fragment may also end inside the token's prefix."""
    lowered = fragment.lower()
    for at in [0] + [i + 1 for i, c in enumerate(lowered) if c in b"=:/'\""]:
        tail = lowered[at:]
        if len(tail) >= 4 and any(
            tail.startswith(p) or (cut_short and p.startswith(tail)) for p in prefixes
        ):
            return at
    return None


def typed_token(data: bytes, pos: int, prefixes: Sequence[bytes]) -> Span | None:
    """A known token being typed at `pos` (the cursor): the run of token characters that
    ends there, from a known prefix on, once four characters follow the prefix and look
    random (`sk_live_4eC3`, not `ext_modules`). No rule matches it before it is whole."""
    lo = max(0, pos - LINE_WINDOW)
    m = _TOKEN_CHARS.match(data[lo:pos][::-1])
    if m is None:
        return None
    fragment = data[pos - m[0][1] : pos]
    at = _known_start(fragment, prefixes, cut_short=False)
    if at is None:
        return None
    token = fragment[at:]
    head = next(len(p) for p in prefixes if token.lower().startswith(p))
    rest = token[head:]
    digit, upper, lower = _classes(rest)
    capitals = token[:head].isupper() and rest.isupper()  # AKIA + [A-Z2-7]
    if len(rest) < 4 or not (digit or (upper and lower) or capitals):
        return None
    return (pos - len(token), pos)


def _open_string(data: bytes) -> Span | None:
    """The content of a string literal left open on the last line (`key = "4480060:AA`)."""
    line_start = max(_line_start(data, len(data)), len(data) - LINE_WINDOW)
    line = data[line_start:]
    opened = max(
        (line.rfind(bytes([q])) for q in _QUOTES if line.count(bytes([q])) % 2), default=-1
    )
    if opened < 0 or len(line) - opened - 1 < 3:
        return None
    before = line[:opened].rstrip(b" \t")
    if before[-1:] in (b"r", b"b", b"u", b"f") and not before[-2:-1].isalnum():
        before = before[:-1].rstrip(b" \t")  # a string prefix: r"..., b'...
    if before and before[-1:] not in _OPENERS and not before.endswith(b"return"):
        return None  # an apostrophe in prose (`don't`), not a string
    return (line_start + opened + 1, len(data))


def _shifted(found: Iterable[Span], offset: int, limit: int) -> list[Span]:
    """Spans found in a text with `offset` bytes added in front, in the original text."""
    return [
        (max(s - offset, 0), min(e - offset, limit))
        for s, e in found
        if e > offset and s < offset + limit
    ]


def wordy(token: bytes) -> bool:
    """Mostly words (an identifier or a message key), not random: most of its letters are
    in runs like `Mime`, `types`, `IEEE`, with vowels. A long hex string is never wordy.
    Judged on the first WORD_WINDOW bytes (a token of a megabyte is judged by its start)."""
    token = token[:WORD_WINDOW]
    if len(token) >= 16 and _HEX.fullmatch(token):
        return False
    letters = len(token) - len(token.translate(None, _LETTERS))
    if not letters:
        return False
    words = sum(
        len(w) - len(w.translate(None, _LETTERS))
        for m in _WORD.finditer(token)
        if (w := token[m[0][0] : m[0][1]])
    )
    vowels = len(token) - len(token.translate(None, b"AEIOUaeiou"))
    return words >= WORDY * letters and vowels >= VOWELS * letters


def _name_cut(line: bytes) -> bool:
    """Does the line start inside a secret-like name or a URL's scheme?"""
    if _SCHEME_CUT.match(line) is not None:
        return True
    m = _LEADING_WORD.match(line)
    word = line[m[1][0] : m[1][1]].decode().lower() if m is not None else ""
    return bool(word) and any(w.endswith(word) and w != word for w in _SECRET_WORDS)


def _first_line(data: bytes, scan: Callable[[bytes], Iterable[Span]]) -> list[Span]:
    """The first line of a piece may have lost the start of the name or scheme that makes its
    value a secret (`p|assword = "..."`, `postgre|s://app:pw@db`): scan it with the name given
    back. A value right after the cut (`= "..."`) is taken, and random-looking tokens (a
    value whose name is on the line before)."""
    line = data[: min(_line_end(data, 0), LINE_WINDOW)]
    spans: list[Span] = []
    value = _OPERATOR_FIRST.match(line)
    if value is not None:
        spans += [g for g in value[1:] if g[0] >= 0][:1]
    string = _STRING_LINE.match(data)
    if string is not None:
        content = next(g for g in string[1:] if g[0] >= 0)
        text = data[content[0] : content[1]]
        if piece_like(text) and not wordy(text):
            spans.append(content)
    if _name_cut(line):
        for name in _NAMES:
            spans += _shifted(scan(name + line), len(name), len(line))
    for m in _RANDOM_TOKEN.finditer(line):
        token = line[m[0][0] : m[0][1]]
        digit, upper, lower = _classes(token)
        mixed = (digit and (upper or lower)) or (upper and lower)
        if mixed and not wordy(token) and entropy(token.decode()) >= RANDOM_TOKEN_ENTROPY:
            spans.append(m[0])
    return spans


def _last_line(data: bytes, scan: Callable[[bytes], Iterable[Span]]) -> list[Span]:
    """The last line of a piece may have lost what closes its secret (`scheme://user:pw@`
    without the host, `<password>abc` without `</password>`)."""
    start = max(_line_start(data, len(data)), len(data) - LINE_WINDOW)
    line = data[start:]
    spans: list[Span] = []
    for end in _ENDINGS:
        spans += [(s + start, e + start) for s, e in _shifted(scan(line + end), 0, len(line))]
    m = _OPEN_ELEMENT.search(line)
    if m is not None:
        spans.append((start + m[1][0], start + m[1][1]))
    return spans


def edge_spans(
    data: bytes,
    cut_start: bool,
    cut_end: bool,
    prefixes: Sequence[bytes] = (),
    scan: Callable[[bytes], Iterable[Span]] | None = None,
) -> list[Span]:
    """Spans to redact because the text was cut from a larger one at its start or end.
    `prefixes`: how known tokens begin (lowercase), for a token cut short at the end;
    `scan`: the rules, for a first line cut before its name."""
    spans: list[Span] = []
    if cut_start and data:
        spans += [s for s in (_edge_body(data, True), _lead_fragment(data)) if s is not None]
        if scan is not None:
            spans += _first_line(data, scan)
    if cut_end and data:
        ends = (_edge_body(data, False), _trail_fragment(data, prefixes), _open_string(data))
        spans += [s for s in ends if s is not None]
        if scan is not None:
            spans += _last_line(data, scan)
    return spans


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    out: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
