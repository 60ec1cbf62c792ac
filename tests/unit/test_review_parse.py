"""The review's answer: a bare JSON list of findings (what the review asks the model for), or an
object holding one under "findings"; anything malformed is dropped, never guessed."""

from __future__ import annotations

import json

from lsp_server.features.review import FINDINGS_SCHEMA, parse_findings

GOOD = {
    "category": "security",
    "severity": "error",
    "message": "eval runs user input",
    "snippet": "eval(expr)",
    "fix": "",
}


def test_a_bare_list_and_an_object_give_the_same_findings() -> None:
    assert parse_findings(json.dumps([GOOD])) == [GOOD]
    assert parse_findings(json.dumps({"findings": [GOOD]})) == [GOOD]


def test_malformed_answers_and_items_are_dropped() -> None:
    bad_items = [
        {**GOOD, "category": "style"},
        {**GOOD, "severity": "fatal"},
        {**GOOD, "message": " "},
        {**GOOD, "snippet": 3},
        "eval",
    ]
    assert parse_findings(json.dumps([*bad_items, GOOD])) == [GOOD]
    for text in ("", "[", "null", "42", '"x"', '{"findings": {}}'):
        assert parse_findings(text) == []


def test_the_list_the_model_is_held_to_is_the_findings_array() -> None:
    schema = FINDINGS_SCHEMA["properties"]["findings"]
    assert schema["type"] == "array" and schema["items"]["required"][-1] == "fix"
