"""User-only settings (where code goes, which model file is parsed, where files are written)
come from initializationOptions only: a later change in any shape the parser accepts leaves
them as they are, while every other setting applies as before."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.settings import (
    SETTINGS,
    USER_ONLY,
    Settings,
    json_schema,
    parse_settings,
    refusal_message,
    refused_changes,
)

ROUTES = {
    "backend.kind": "openai",
    "backend.url": "http://10.9.9.9:8080",
    "backend.allowHosts": ["attacker.example"],
    "backend.model": "upstream-of-the-attackers-choice",
    "model.path": "/tmp/other.gguf",
    "log.file": "/tmp/enclave-trap.log",
    "model.stateCacheOnDisk": True,
}
USER = {
    "backend": {"kind": "llama-server", "url": "http://127.0.0.1:8081", "allowHosts": []},
    "model": {"path": "/home/me/model.gguf", "stateCacheOnDisk": False},
    "log": {"file": "/home/me/enclave.log"},
}


def test_user_only_settings_are_marked_in_the_table_and_the_schema() -> None:
    assert set(ROUTES) == USER_ONLY
    props = json_schema()["properties"]
    for s in SETTINGS:
        assert props[f"enclave.{s.key}"].get("x-userOnly", False) is s.user_only, s.key


def test_init_sets_them_and_a_change_cannot() -> None:
    user, warnings = parse_settings(USER, source="init")
    assert not warnings
    assert user.backend.url == "http://127.0.0.1:8081" and user.model.path == "/home/me/model.gguf"
    changed, warnings = parse_settings(ROUTES, user, source="change")
    assert not warnings  # the refusal is said by the caller, once per key
    for key in ROUTES:
        assert changed.get(key) == user.get(key), key
    assert refused_changes(ROUTES, user) == list(ROUTES)
    assert "initializationOptions only" in refusal_message("backend.url")


def test_a_change_still_sets_everything_else() -> None:
    base, _ = parse_settings(USER, source="init")
    raw = {**ROUTES, "completion": {"maxTokensLine": 20}, "model.size": "0.5b"}
    changed, _ = parse_settings(raw, base, source="change")
    assert changed.completion.maxTokensLine == 20 and changed.model.size == "0.5b"


def test_sending_the_same_value_again_is_no_refusal() -> None:
    # Clients send their whole configuration on every change, the user's own values included.
    base, _ = parse_settings(USER, source="init")
    assert refused_changes(USER, base) == []
    assert refused_changes({"enclave": USER}, base) == []
    # Clearing one is a change too.
    assert refused_changes({"backend": {"url": None}}, base) == ["backend.url"]
    assert refused_changes({"model.path": ""}, base) == ["model.path"]


def forms_of(key: str, value: Any) -> list[Any]:
    """Every shape the parser accepts for one key: nested, dotted, mixed, under `enclave`."""
    section, name = key.split(".", 1)
    shapes: list[Any] = [{section: {name: value}}, {key: value}]
    return shapes + [{"enclave": s} for s in shapes]


values = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["local", "openai", "llama-server", "http://127.0.0.1:1", "/tmp/x.gguf"]),
    st.lists(st.text(max_size=10), max_size=3),
    st.integers(),
    st.booleans(),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(sorted(USER_ONLY)),
    value=values,
    shape=st.integers(0, 3),
    noise=st.dictionaries(st.sampled_from(["model.size", "log.level"]), st.text(max_size=6)),
)
def test_no_shape_of_a_change_sets_a_user_only_key(
    key: str, value: Any, shape: int, noise: dict[str, str]
) -> None:
    base, _ = parse_settings(USER, source="init")
    raw = forms_of(key, value)[shape]
    target = raw.get("enclave", raw)
    target.update(noise)
    changed, _ = parse_settings(raw, base, source="change")
    for user_only in USER_ONLY:
        assert changed.get(user_only) == base.get(user_only)
    # From the user's own initializationOptions the same shape does apply (when valid).
    applied, warnings = parse_settings(raw, Settings(), source="init")
    if not any(key in w for w in warnings):
        if isinstance(value, list):
            expected = tuple(value)
        else:  # an empty string is "none"; False is a value
            expected = value if isinstance(value, bool) else (value or None)
        assert applied.get(key) == expected
        assert refused_changes(raw, base) == ([] if expected == base.get(key) else [key])


@given(
    key=st.sampled_from(sorted(USER_ONLY)),
    case=st.sampled_from([str.upper, str.title, str.swapcase]),
)
def test_keys_in_another_case_are_unknown_not_applied(key: str, case: Any) -> None:
    base, _ = parse_settings(USER, source="init")
    for source in ("init", "change"):
        changed, warnings = parse_settings({case(key): ROUTES[key]}, base, source=source)
        assert changed == base and warnings and "Unknown" in warnings[0]
