"""gitleaks' own examples against its rules as we run them (RE2, keywords, entropy,
allowlists): each true positive found by its rule and removed by the whole redactor, each
false positive left alone by its rule. The examples come from gitleaks' rule files
(tests/data/secrets/gitleaks_examples.json, MIT, see its header), extracted at the commit the
rules come from."""

from __future__ import annotations

import hashlib
import json
import tomllib
from functools import cache
from typing import Any

import pytest

from lsp_server.privacy.patterns import Pattern
from lsp_server.privacy.redact import SCANNER, redact
from lsp_server.privacy.scanner import RULES_DIR, Rule
from tests.helpers import DATA

EXAMPLES = DATA / "secrets" / "gitleaks_examples.json"
COMMIT = "b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b"


@cache
def examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLES.read_text())
    return data


def gitleaks_rules() -> list[str]:
    with (RULES_DIR / "gitleaks.toml").open("rb") as f:
        return [r["id"] for r in tomllib.load(f)["rules"] if "regex" in r]


RULES = {r.id: r for r in SCANNER.rules}


def found_by(rule: Rule, text: str, path: str | None) -> list[bytes]:
    """The secrets `rule` reports in `text`, keyword prefilter included (as gitleaks runs a
    single rule in its own tests)."""
    data = text.encode()
    if rule not in SCANNER.active(data):
        return []
    return [data[f.start : f.end] for f in SCANNER.scan(data, path, [rule])]


def test_the_rules_are_gitleaks_published_file_and_the_examples_match_it() -> None:
    readme = (RULES_DIR / "README.md").read_text()
    digest = hashlib.sha256((RULES_DIR / "gitleaks.toml").read_bytes()).hexdigest()
    assert digest in readme and COMMIT in readme
    assert "MIT License" in (RULES_DIR / "LICENSE.gitleaks").read_text()
    assert examples()["commit"] == COMMIT and "MIT" in examples()["license"]
    ids = gitleaks_rules()
    assert len(ids) >= 220 and all(i in RULES for i in ids)
    with_examples = [i for i in ids if examples()["rules"].get(i, {}).get("tps")]
    assert len(with_examples) >= 215  # all but the few whose examples are built by Go code


def test_every_rule_is_an_re2_pattern() -> None:
    """Linear time holds by construction: every rule, allowlist and path is RE2."""
    for rule in SCANNER.rules:
        assert isinstance(rule.regex, Pattern)
        assert rule.path is None or isinstance(rule.path, Pattern)
        for allow in rule.allowlists:
            assert allow.regex is None or isinstance(allow.regex, Pattern)


@pytest.mark.parametrize("rule_id", gitleaks_rules())
def test_gitleaks_examples(rule_id: str) -> None:
    rule = RULES[rule_id]
    cases = examples()["rules"].get(rule_id, {"tps": [], "fps": []})
    for case in cases["tps"]:
        text, path = case["text"], case.get("path")
        secrets = found_by(rule, text, path)
        assert secrets, f"{rule_id} missed a true positive: {text[:200]!r}"
        out = redact(text, path=path)
        for secret in secrets:
            assert secret.decode() not in out, f"{rule_id}: {secret!r} survived in {out!r}"
    for case in cases["fps"]:
        assert not found_by(rule, case["text"], case.get("path")), (
            f"{rule_id} flagged a false positive: {case['text'][:200]!r}"
        )


def test_path_rules_apply_to_their_files_and_to_unknown_ones() -> None:
    tf = RULES["hashicorp-tf-password"]
    line = 'administrator_login_password = "thisIsDog11"'
    assert found_by(tf, line, "main.tf") and found_by(tf, line, None)
    assert not found_by(tf, line, "main.py")
