"""Characters an edit may not add: the ones that draw nothing or reorder what is drawn.

The set is generated from Unicode properties (`unicode_data.py`, by tools/gen_invisible.py):
format characters (Cf), line and paragraph separators, bidi embeddings, overrides and
isolates, Default_Ignorable_Code_Point, control characters other than tab / newline / form feed
/ carriage return, and U+2800 BRAILLE PATTERN BLANK. Should Python's Unicode be newer than the
generated data, the format / separator / bidi categories are also read live from `unicodedata`.

Some of them are ordinary in real text, and are let through only where they do that job:
- U+200D ZERO WIDTH JOINER between two emoji (family, profession, flag sequences);
- U+200C / U+200D between two non-ASCII letters or marks (Persian, Indic conjuncts);
- U+FE0E / U+FE0F right after a character that has an emoji form;
- tag characters only inside a recommended (RGI) subdivision flag, such as Scotland's.
Anything else, such as a variation selector after a letter (a known way to hide bytes) or tags
spelling text (a known way to hide instructions), counts.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from functools import cache

from lsp_server.features import unicode_data

ZWNJ, ZWJ = "\u200c", "\u200d"
EMOJI_SELECTORS = frozenset("\ufe0e\ufe0f")
_TAGS = range(0xE0020, 0xE0080)
_LIVE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})
_LIVE_BIDI = frozenset({"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"})


def _char_class(pairs: tuple[tuple[int, int], ...]) -> re.Pattern[str]:
    parts = (re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in pairs)
    return re.compile("[" + "".join(parts) + "]")


_INVISIBLE = _char_class(unicode_data.INVISIBLE)
_TAG_SEQUENCES = re.compile("|".join(map(re.escape, unicode_data.RGI_TAG_SEQUENCES)))
# Python's Unicode is newer than the generated data: new format characters are found live.
_LIVE = unicodedata.unidata_version != unicode_data.CATEGORY_UNICODE_VERSION


def _in(pairs: tuple[tuple[int, int], ...], ch: str) -> bool:
    cp = ord(ch)
    i = bisect.bisect_right(pairs, (cp, 0x10FFFF)) - 1
    return i >= 0 and pairs[i][0] <= cp <= pairs[i][1]


def is_invisible(ch: str) -> bool:
    """Whether `ch` is in the set (whatever its context)."""
    if _INVISIBLE.match(ch):
        return True
    return _LIVE and (
        unicodedata.category(ch) in _LIVE_CATEGORIES or unicodedata.bidirectional(ch) in _LIVE_BIDI
    )


def _pictographic(ch: str) -> bool:
    return _in(unicode_data.EXTENDED_PICTOGRAPHIC, ch)


def _script_letter(ch: str) -> bool:
    return not ch.isascii() and unicodedata.category(ch)[0] in "LM"


def _emoji_before(text: str, i: int) -> bool:
    """An emoji ends just before `i`, counting its selector and skin-tone modifier."""
    j = i - 1
    while j >= 0 and (text[j] in EMOJI_SELECTORS or _in(unicode_data.EMOJI_MODIFIER, text[j])):
        j -= 1
    return j >= 0 and _pictographic(text[j])


def _ordinary(text: str, i: int, flags: set[int]) -> bool:
    """The invisible character at `i` does an ordinary job in its context (see the module)."""
    ch = text[i]
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if ch == ZWJ and after and _pictographic(after) and _emoji_before(text, i):
        return True
    if ch in (ZWNJ, ZWJ) and before and after:
        return _script_letter(before) and _script_letter(after)
    if ch in EMOJI_SELECTORS and before:
        return before not in EMOJI_SELECTORS and _in(unicode_data.EMOJI, before)
    return i in flags


def _live_extra(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if not ch.isascii() and is_invisible(ch)]


@cache
def _name(ch: str) -> str:
    kind = "control" if unicodedata.category(ch) == "Cc" else "unassigned"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, kind)}"


def hidden_characters(text: str) -> Counter[str]:
    """The invisible characters of `text` that are not doing an ordinary job, counted."""
    found: Counter[str] = Counter()
    if text.isascii() and not _INVISIBLE.search(text):
        return found
    flags: set[int] = set()
    if any(ord(c) in _TAGS for c in text):
        for m in _TAG_SEQUENCES.finditer(text):
            flags.update(range(m.start(), m.end()))
    positions = {m.start() for m in _INVISIBLE.finditer(text)}
    if _LIVE:
        positions.update(_live_extra(text))
    for i in sorted(positions):
        if not _ordinary(text, i, flags):
            found[text[i]] += 1
    return found


def added_hidden(removed: str, added: str) -> list[str]:
    """Names of the invisible characters `added` has more of than `removed` (first few)."""
    before, after = hidden_characters(removed), hidden_characters(added)
    return [_name(ch) for ch in sorted(after) if after[ch] > before[ch]]
