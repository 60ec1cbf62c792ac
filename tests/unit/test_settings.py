from __future__ import annotations

import pytest

from lsp_server.settings import SETTINGS, Settings, json_schema, parse_settings


def test_defaults_without_options() -> None:
    settings, warnings = parse_settings(None)
    assert settings == Settings()
    assert warnings == []
    assert settings.model.size == "1.5b"


def test_nested_dotted_and_namespaced_forms_agree() -> None:
    nested, _ = parse_settings({"model": {"size": "0.5b"}, "completion": {"maxTokensLine": 20}})
    dotted, _ = parse_settings({"model.size": "0.5b", "completion.maxTokensLine": 20})
    spaced, _ = parse_settings(
        {"enclave": {"model": {"size": "0.5b"}, "completion.maxTokensLine": 20}}
    )
    assert nested == dotted == spaced
    assert nested.model.size == "0.5b" and nested.completion.maxTokensLine == 20


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"model": {"size": "7b"}}, "model.size"),
        ({"completion": {"enabled": "yes"}}, "completion.enabled"),
        ({"completion": {"maxTokensLine": 0}}, "completion.maxTokensLine"),
        ({"completion": {"deadlineMs": True}}, "completion.deadlineMs"),
        ({"model": {"path": 3}}, "model.path"),
    ],
)
def test_bad_value_is_named_and_default_kept(raw: dict[str, object], key: str) -> None:
    base, _ = parse_settings({"completion": {"maxTokensLine": 30}})
    settings, warnings = parse_settings(raw, base)
    assert len(warnings) == 1 and key in warnings[0]
    default = next(s.default for s in SETTINGS if s.key == key)
    assert settings.get(key) == default
    # Other settings keep their earlier values.
    if key != "completion.maxTokensLine":
        assert settings.completion.maxTokensLine == 30


def test_unknown_key_and_non_object_warn() -> None:
    settings, warnings = parse_settings({"model": {"colour": "blue"}})
    assert settings == Settings() and "model.colour" in warnings[0]
    settings, warnings = parse_settings(["not", "an", "object"])
    assert settings == Settings() and warnings


def test_empty_path_means_none() -> None:
    settings, warnings = parse_settings({"model": {"path": ""}})
    assert settings.model.path is None and not warnings


def test_schema_lists_every_setting_with_default() -> None:
    schema = json_schema()
    props = schema["properties"]
    assert set(props) == {f"enclave.{s.key}" for s in SETTINGS}
    assert props["enclave.model.size"]["enum"] == ["1.5b", "0.5b"]
    assert props["enclave.model.path"]["type"] == ["string", "null"]
    assert props["enclave.completion.contextTokens"]["minimum"] == 64
