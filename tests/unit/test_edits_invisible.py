"""Item 7 of issue 19: an edit may not add characters that draw nothing or reorder what is
drawn. The set comes from Unicode properties (tools/gen_invisible.py); every code point in it is
tried, in ordinary code and in the contexts where a few of them are ordinary (emoji, scripts)."""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features import unicode_data
from lsp_server.features.edits import EditRejected, check_edits, replacement_edit, resolve_target
from lsp_server.features.invisible import added_hidden, hidden_characters, is_invisible

ROOT = Path(__file__).resolve().parents[2]
UCD = Path("/usr/share/unicode")
SET = [chr(cp) for a, b in unicode_data.INVISIBLE for cp in range(a, b + 1)]
LIVE = [
    chr(cp)
    for cp in range(0x110000)
    if unicodedata.category(chr(cp)) in ("Cf", "Zl", "Zp")
    or unicodedata.bidirectional(chr(cp)) in ("LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI")
    or unicodedata.bidirectional(chr(cp)) in ("FSI", "PDI")
]
SRC = 'def greet(name):\n    return "hello " + name  # greet\n'


def check(new_line: str, src: str = SRC) -> str:
    """Replace line 2 of `src` with `new_line` through the edit checks."""
    snap = Document("file:///tmp/greet.py", "python", 1, src).snapshot()
    target = resolve_target(snap, Range(Position(1, 0), Position(1, 1)))
    return check_edits(snap, target, [replacement_edit(target, new_line)])


def test_generated_file_is_the_generators_output() -> None:
    if not (UCD / "DerivedCoreProperties.txt").exists():
        pytest.skip("no Unicode data files here (apt-get install unicode-data)")
    if unicodedata.unidata_version != unicode_data.CATEGORY_UNICODE_VERSION:
        pytest.skip("this Python's Unicode differs from the one the file was generated with")
    spec = importlib.util.spec_from_file_location("gen_invisible", ROOT / "tools/gen_invisible.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "lsp_server/features/unicode_data.py").read_text("utf-8")
    assert gen.generate(UCD) == committed


def test_the_set_holds_every_property_it_is_made_of() -> None:
    # Live from this Python: Cf, Zl, Zp and the bidi controls; and the examples of the issue.
    assert all(is_invisible(ch) for ch in LIVE)
    named = "\u200e\u200f\u061c\u00ad\u3164\u2062\ufe00\ufe0f\U000e0100\u2028\u2029\u202e"
    named += "\u115f\u1160\uffa0\u034f\u180b\u180e\U000e0001\U000e0041\u2800\x1b\x08\x85"
    assert all(is_invisible(ch) for ch in named)
    assert len(SET) > 4000  # E0000-E0FFF alone is 4096
    assert not any(is_invisible(ch) for ch in "\t\n\r\x0c azAZ09_é中ا")


def test_every_code_point_of_the_set_is_refused_when_added() -> None:
    """The whole set, each between two ASCII letters of a string literal: no context makes it
    ordinary there."""
    missed = [f"U+{ord(ch):04X}" for ch in SET if not added_hidden("", f'"x{ch}y"')]
    assert missed == []


@settings(max_examples=300, deadline=None)
@given(
    ch=st.sampled_from(SET),
    where=st.sampled_from(["string", "comment", "identifier", "indent", "line end"]),
)
def test_any_code_point_of_the_set_is_refused_by_the_edit_check(ch: str, where: str) -> None:
    line = {
        "string": f'    return "hel{ch}lo " + name  # greet',
        "comment": f'    return "hello " + name  # gr{ch}eet',
        "identifier": f'    return "hello " + na{ch}me  # greet',
        "indent": f'  {ch}  return "hello " + name',
        "line end": f'    return "hello " + name{ch}',
    }[where]
    with pytest.raises(EditRejected, match=r"invisible.*U\+"):
        check(line)


@pytest.mark.parametrize(
    "hidden",
    [
        "\U0001f600" + "\ufe0f\ufe01\ufe02",  # bytes hidden in selectors after an emoji
        "\U0001f600\U000e0100\U000e0142",  # supplementary selectors
        "a\ufe0f",  # an emoji selector after a letter
        "\U0001f3f4\U000e0069\U000e0067\U000e006e\U000e007f",  # tags spelling "ign"
        "\U000e0069\U000e0067\U000e006e",  # bare tags (hidden instructions)
        "x\u200dy",
        "x\u200cy",  # joiners between ASCII letters (JS identifiers differ)
        "\u200d\U0001f600",
        "\U0001f600\u200d",  # a joiner with one side only
        "\u0627\u200d",
        "\u200c",
    ],
)
def test_ordinary_characters_out_of_their_context_are_refused(hidden: str) -> None:
    assert added_hidden("", hidden)
    with pytest.raises(EditRejected, match="invisible"):
        check(f'    return "{hidden}" + name')


ORDINARY = [
    "中文注释：计算总和。日本語のコメント　全角スペース。한국어 주석입니다.",  # noqa: RUF001
    "العَرَبِيَّةُ",  # Arabic with harakat
    "שָׁלוֹם בְּרֵאשִׁ֖ית",  # Hebrew with niqqud and a cantillation mark
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with ZWNJ
    "\u0915\u094d\u200d\u0937 नमस्ते",  # Devanagari, ZWJ after a virama
    "สวัสดี Γειά Привет",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
    "\U0001f3f3\ufe0f\u200d\U0001f308 \U0001f469\U0001f3fd\u200d\U0001f4bb",
    "\u2764\ufe0f 1\ufe0f\u20e3 \u263a\ufe0e \U0001f44d\U0001f3ff \U0001f1eb\U0001f1f7",
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",
    "café naïve Ångström",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_of_many_scripts_is_accepted(text: str) -> None:
    assert hidden_characters(text) == {}
    new = check(f'    return "{text}" + name  # {text}')
    assert text in new


def test_a_character_already_there_is_not_new_but_a_second_one_is() -> None:
    src = 'def greet(name):\n    return "a\u202eb" + name\n'
    assert "c\u202ed" in check('    return "c\u202ed" + name', src)
    with pytest.raises(EditRejected, match="RIGHT-TO-LEFT OVERRIDE"):
        check('    return "c\u202ed\u202e" + name', src)
    with pytest.raises(EditRejected, match="LEFT-TO-RIGHT OVERRIDE"):
        check('    return "c\u202dd" + name', src)  # another code point is new


def test_the_message_names_what_was_found_briefly() -> None:
    with pytest.raises(EditRejected) as info:
        check('    return "\u200e\u200f\u061c\u00ad\u3164" + name')
    message = str(info.value)
    assert "U+200E LEFT-TO-RIGHT MARK" in message and "and 2 more" in message
    assert "\u200e" not in message and len(message) < 200
    with pytest.raises(EditRejected, match=r"U\+001B control"):
        check('    return "\x1b[2J" + name')
