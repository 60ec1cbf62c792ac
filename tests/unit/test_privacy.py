"""Ignore rules and secret redaction, on realistic inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsp_server.model.protocol import CompletionJob, GenerateJob
from lsp_server.privacy.ignore import IgnoreRules
from lsp_server.privacy.redact import PLACEHOLDER, contains_placeholder, redact, redact_job

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7xV\nabc\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("source", "secret"),
    [
        (f'aws_key = "{AWS}"', AWS),
        (f"token: {GITHUB}", GITHUB),
        (f'KEY = """{PEM}"""', "MIIEowIBAAKCAQEA7xV"),
        ('DATABASE_URL = "postgres://admin:hunter2pass@db.internal:5432/app"', "hunter2pass"),
        ('password = "correct-horse-battery"', "correct-horse-battery"),
        ('"api_key": "Zx81kLq0pQ9vT3mN7bC2"', "Zx81kLq0pQ9vT3mN7bC2"),
        ("export SECRET_TOKEN=9f8e7d6c5b4a3f2e1d0c", "9f8e7d6c5b4a3f2e1d0c"),
        ('signing = "q8Vn2LxT0bR7mW4zK9pY1cJ6"', "q8Vn2LxT0bR7mW4zK9pY1cJ6"),
    ],
)
def test_secrets_are_replaced(source: str, secret: str) -> None:
    out = redact(source)
    assert secret not in out
    assert PLACEHOLDER in out


@pytest.mark.parametrize(
    "source",
    [
        "password = request.form['password']",
        "token = os.environ['TOKEN']",
        "def check_password(password: str) -> bool:",
        'name = "ordinary_configuration_value"',
        "url = 'https://example.invalid/path'",
        "secret = get_secret()",
    ],
)
def test_ordinary_code_is_left_alone(source: str) -> None:
    assert redact(source) == source


def test_redaction_is_deterministic_and_covers_every_job_field() -> None:
    job = CompletionJob(prefix=f'key = "{AWS}"\n', suffix=f"# {GITHUB}\n", middle="x")
    once, twice = redact_job(job), redact_job(job)
    assert once == twice
    assert isinstance(once, CompletionJob)
    assert AWS not in once.prefix and GITHUB not in once.suffix
    generate = redact_job(GenerateJob(prompt=f"review: {AWS}"))
    assert isinstance(generate, GenerateJob) and AWS not in generate.prompt
    assert contains_placeholder(once.prefix)


def test_builtin_ignores(tmp_path: Path) -> None:
    rules = IgnoreRules([tmp_path])
    for name in (
        ".env",
        ".env.local",
        "server.pem",
        "id_rsa",
        "id_ed25519.pub",
        "prod.key",
        ".aws/credentials",
        "credentials.json",
    ):
        assert rules.is_ignored(str(tmp_path / name)), name
    for name in ("main.py", "environment.py", "keys.py", "src/app.ts"):
        assert not rules.is_ignored(str(tmp_path / name)), name


def test_enclaveignore_in_a_root(tmp_path: Path) -> None:
    (tmp_path / ".enclaveignore").write_text("secret/\n*.sql\n!public.sql\n")
    rules = IgnoreRules([tmp_path])
    assert rules.is_ignored((tmp_path / "secret" / "a.py").as_uri())
    assert rules.is_ignored(str(tmp_path / "db" / "dump.sql"))
    assert not rules.is_ignored(str(tmp_path / "public.sql"))
    assert not rules.is_ignored(str(tmp_path / "src" / "a.py"))
    # Outside the root only the built-ins apply.
    assert not rules.is_ignored("/elsewhere/secret/a.py")
