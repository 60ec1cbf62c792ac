"""A JSON list answer stops before an item that repeats an earlier one (model/json_items.py),
and the review reads the list so cut."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from lsp_server.features.review import parse_findings
from lsp_server.model.json_items import close_list, repeat_end

ITEM = {
    "category": "bug-risk",
    "severity": "error",
    "message": 'a "}" in {text}',
    "snippet": "x[0]",
    "fix": "",
}
OTHER = dict(ITEM, message="another")


def test_the_answer_ends_before_a_repeated_item() -> None:
    one = json.dumps(ITEM)
    answer = f"[{one}, {json.dumps(OTHER)}, {one}"
    cut = repeat_end(answer)
    assert cut is not None
    assert answer[:cut] == f"[{one}, {json.dumps(OTHER)}"
    assert json.loads(close_list(answer[:cut])) == [ITEM, OTHER]
    # the closing token may carry what follows the item
    for tail in ("]", ",", ", {", ',\n  {"'):
        assert repeat_end(f"[{one}, {one}{tail}") == len(one) + 1, tail
    # spacing does not make an item new: the values are compared
    assert repeat_end(f"[{one},{json.dumps(ITEM, indent=1)}") == len(one) + 1


def test_no_cut_while_items_differ_or_an_item_is_open() -> None:
    one = json.dumps(ITEM)
    assert repeat_end(f"[{one}") is None
    assert repeat_end(f"[{one}, {json.dumps(OTHER)}") is None
    assert repeat_end(f"[{one}, {one[:-1]}") is None  # the repeat is not complete yet
    assert repeat_end(f'[{one}, {{"message": "}}"') is None  # a brace inside a string
    assert repeat_end('{"a": {"b": 1}, "c": {"b": 1}}') is None  # not a list


@given(st.lists(st.dictionaries(st.text(max_size=5), st.text(max_size=8), max_size=3), max_size=4))
def test_any_cut_is_a_prefix_that_closes_into_the_distinct_items(
    items: list[dict[str, str]],
) -> None:
    text = json.dumps(items)[:-1]  # as generated, before the closing bracket
    cut = repeat_end(text)
    if cut is None:
        return
    kept = json.loads(close_list(text[:cut]))
    assert kept == items[: len(kept)] and items[len(kept)] in kept


def test_review_reads_a_cut_list() -> None:
    one = json.dumps(ITEM)
    assert parse_findings(f"[{one}") == [ITEM]
    assert parse_findings(f"[{one},") == [ITEM]
    assert parse_findings("[") == []
    assert parse_findings("not json") == []
