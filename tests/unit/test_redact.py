"""Attacks on redaction: every secret kind, split by the cursor at every point, cut by a chunk
boundary at every point, hidden in noise, and adversarial text for the rules' patterns.

The property throughout: no substring of 8 characters or more of a secret reaches any text
handed to a model."""

from __future__ import annotations

import dataclasses
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.model.protocol import CompletionJob, GenerateJob, ScoreJob
from lsp_server.privacy.redact import (
    PLACEHOLDER,
    contains_placeholder,
    pending_chars,
    redact,
    redact_fields,
    redact_job,
)
from tests.helpers import DATA

WINDOW = 8  # a secret's substring this long must not get through


@cache
def kinds() -> list[dict[str, Any]]:
    with (DATA / "secrets" / "kinds.toml").open("rb") as f:
        kind: list[dict[str, Any]] = tomllib.load(f)["kind"]
    return kind


def kind(kind_id: str) -> dict[str, Any]:
    return next(k for k in kinds() if k["id"] == kind_id)


def leaks(secrets: list[str], texts: list[str]) -> list[str]:
    """The substrings of `secrets`, WINDOW long, found in any of `texts`."""
    return [
        s[i : i + WINDOW]
        for s in secrets
        for i in range(len(s) - WINDOW + 1)
        if any(s[i : i + WINDOW] in t for t in texts)
    ]


NOISE = [
    "import os",
    "from pathlib import Path",
    "",
    "def handler(event, context):",
    "    value = compute(event['body'])",
    "    return {'statusCode': 200, 'body': value}",
    "class Config:",
    "    debug = False",
    "    retries = 3",
    "    password_min_length = 12",
    "    token = request.headers.get('X-Token')",
    "# TODO: move the key to the vault",
    "const url = `${base}/api/v1/users`;",
    "for (let i = 0; i < items.length; i++) {",
    "}",
    "func (s *Server) Serve(ctx context.Context) error {",
    "SELECT id, name FROM users WHERE id = $1;",
    "    key = sorted(keys)[0]",
]
noise = st.lists(st.sampled_from(NOISE), max_size=6).map("\n".join)
kind_ids = st.sampled_from([k["id"] for k in kinds()])
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_at_least_61_kinds_and_each_is_redacted() -> None:
    assert len(kinds()) >= 61
    missed = {
        k["id"]: redact(k["text"]) for k in kinds() if leaks(k["secrets"], [redact(k["text"])])
    }
    assert not missed


@pytest.mark.parametrize(
    "line",
    [
        'PASSWORD_FIELD = "password_hash"',
        'api_key = os.getenv("API_KEY")',
        "headers = {'Authorization': f'Bearer {token}'}",
        "TOKEN_URL=https://auth.example.com/oauth/token",
        "password: ${DB_PASSWORD}",
        "db_password: str",
        'const passwordPrompt = "Enter your password:";',
        'auth_type = "oauth2"',
        'sort_key = "created_at_desc"',
        "redis://localhost:6379/0",
        'user = "admin"',
        "region = 'eu-west-1'",
        "sha = hashlib.sha256(data).hexdigest()",
        '"integrity": "sha512-Swi4N7Edy1Eqq82GxgEECXSSLyn6GOb5htRFPzBDdUkECGXtlf12ynO5oJSpWK"',
    ],
)
def test_ordinary_code_is_left_alone(line: str) -> None:
    # (More in test_privacy.py.) In a file of known type: rules meant for other files (a
    # Terraform password) stay out.
    assert redact(line, path="app.py") == line


def test_this_repository_source_has_nothing_to_redact() -> None:
    """Real code, read whole: the server's own source (the rule files and privacy code, which
    talk about secrets on purpose, aside)."""
    root = Path(__file__).resolve().parents[2] / "lsp_server"
    changed = [
        str(p)
        for p in sorted(root.rglob("*.py"))
        if "privacy" not in p.parts and redact(p.read_text()) != p.read_text()
    ]
    assert not changed


# -- one text: the cursor and the typed middle --------------------------------------------


@PROPERTY
@given(
    k=kind_ids,
    before=noise,
    after=noise,
    cuts=st.lists(st.floats(0, 1), min_size=2, max_size=2).map(sorted),
)
def test_a_secret_split_by_the_cursor_never_reaches_a_field(
    k: str, before: str, after: str, cuts: list[float]
) -> None:
    text = f"{before}\n{kind(k)['text']}\n{after}"
    i, j = (round(c * len(text)) for c in cuts)
    job = CompletionJob(prefix=text[:i], middle=text[i:j], suffix=text[j:], path="app.py")
    out = redact_job(job)
    assert isinstance(out, CompletionJob)
    assert not leaks(kind(k)["secrets"], [out.prefix, out.middle, out.suffix])
    # The fields are the redaction of the whole text, cut where the job was cut.
    assert out.prefix + out.middle + out.suffix == redact(text, cut=True, path="app.py")


@pytest.mark.parametrize("k", ["github-pat", "rsa-private-key", "python-password", "jwt"])
def test_every_split_point_of_a_secret(k: str) -> None:
    text = kind(k)["text"]
    for i in range(len(text) + 1):
        for j in (i, min(i + 1, len(text)), min(i + 7, len(text))):
            fields = redact_fields((text[:i], text[i:j], text[j:]))
            assert not leaks(kind(k)["secrets"], list(fields)), (i, j)


def test_cursor_inside_a_secret_one_placeholder_ends_at_the_cursor() -> None:
    """The documented choice: the placeholder goes where the secret starts; the rest of the
    secret, typed or after the cursor, is gone; the text after the secret stays."""
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f'x = 1\ntoken = "{secret}"\ny = 2\n'
    at = text.index(secret)
    job = CompletionJob(
        prefix=text[: at + 10], middle=text[at + 10 : at + 14], suffix=text[at + 14 :]
    )
    out = redact_job(job)
    assert isinstance(out, CompletionJob)
    assert out.prefix == f'x = 1\ntoken = "{PLACEHOLDER}'
    assert out.middle == ""
    assert out.suffix == '"\ny = 2\n'


def test_every_field_of_a_job_is_redacted() -> None:
    aws = "AKIA" + "Q3DFWPMBVNX7ZTKA"
    pem = kind("rsa-private-key")["text"]
    job = CompletionJob(
        prefix=f'key = "{aws}"\n',
        middle="ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        suffix="\n",
        extra_context=f"AWS = '{aws}'",
        context_files=(("keys.py", pem), ("b.py", pem[40:400])),
    )
    out = redact_job(job)
    assert isinstance(out, CompletionJob)
    texts = [out.prefix, out.middle, out.suffix, out.extra_context] + [
        t for _, t in out.context_files
    ]
    assert not leaks([aws, job.middle, *kind("rsa-private-key")["secrets"]], texts)
    assert [p for p, _ in out.context_files] == ["keys.py", "b.py"]
    prompt = redact_job(GenerateJob(prompt=f"Explain:\n```\n{pem}\n```"))
    assert isinstance(prompt, GenerateJob) and not leaks(
        kind("rsa-private-key")["secrets"], [prompt.prompt]
    )
    # Review's scoring job: the context and the scored code, and a secret cut between them.
    scored = redact_job(ScoreJob(context=f"{pem}\nx = '{aws[:8]}", text=f"{aws[8:]}'\n"))
    assert isinstance(scored, ScoreJob)
    assert not leaks([aws, *kind("rsa-private-key")["secrets"]], [scored.context + scored.text])
    assert not leaks([aws[8:]], [scored.text])


# -- pieces cut from files ------------------------------------------------------------------


CHUNK_KINDS = [
    "rsa-private-key",
    "pgp-private-key",
    "gcp-service-account",
    "openssh-private-key",
    "github-pat",
    "slack-bot-token",
    "postgres-url-password",
    "python-password",
    "yaml-password",
    "env-password",
    "xml-password",
    "azure-storage-connection-string",
    "putty-private-key",
]
PRE = "import os\n\ndef handler(event):\n    value = compute(event)\n    return value\n\n"
POST = "\n\nclass Config:\n    debug = False\n    retries = 3\n"


@pytest.mark.parametrize("k", CHUNK_KINDS)
def test_every_chunk_boundary_through_a_secret(k: str) -> None:
    """Two adjacent pieces of a file, cut at every character: neither lets the secret by."""
    text = PRE + kind(k)["text"] + POST
    for at in range(len(text) + 1):
        pieces = [redact(text[:at], cut=True), redact(text[at:], cut=True)]
        assert not leaks(kind(k)["secrets"], pieces), (at, text[max(0, at - 20) : at + 20])


@PROPERTY
@given(
    k=kind_ids,
    before=noise,
    after=noise,
    at=st.floats(0, 1),
)
def test_any_kind_cut_anywhere_into_two_pieces(k: str, before: str, after: str, at: float) -> None:
    text = f"{before}\n{kind(k)['text']}\n{after}"
    cut = round(at * len(text))
    pieces = [redact(text[:cut], cut=True), redact(text[cut:], cut=True)]
    assert not leaks(kind(k)["secrets"], pieces)


@pytest.mark.parametrize("k", ["rsa-private-key", "pgp-private-key", "openssh-private-key"])
def test_key_blocks_in_line_chunks(k: str) -> None:
    """Chunks of whole lines, as the repository context cuts files: a chunk with only the
    body and END line, or the BEGIN line and part of the body, or body lines alone."""
    lines = (PRE + kind(k)["text"] + POST).split("\n")
    for size in (2, 3, 5, 8):
        for start in range(len(lines)):
            piece = "\n".join(lines[start : start + size])
            assert not leaks(kind(k)["secrets"], [redact(piece, cut=True)]), (size, start)


def test_one_line_key_cut_before_its_begin_marker() -> None:
    text = kind("gcp-service-account")["text"]
    at = text.index("-----BEGIN") + 3
    assert not leaks(kind("gcp-service-account")["secrets"], [redact(text[at:], cut=True)])


def test_token_cut_short_at_the_end_of_a_piece() -> None:
    for text in ("token = ghp_a1B2c", "x = 'xoxb-12345", "k = AKIAQ3DF", 'password = "hun'):
        out = redact(text, cut=True)
        assert out.endswith(PLACEHOLDER), (text, out)


# -- adversarial input: runs of what the patterns match, near misses ------------------------

RUN = 200_000
ADVERSARIAL = {
    "word run": "a" * RUN,
    "identifier run": "key_token.secret-" * (RUN // 17),
    "base64 run": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY+/" * (RUN // 34),
    "hex run": "0123456789abcdef" * (RUN // 16),
    "near-miss assignments": 'api_key = "A1b2A1b2A1b2"\n' * (RUN // 26),
    "near-miss tokens": "ghp_short xoxb-1 AKIA1 sk_live_x glpat- " * (RUN // 40),
    "begin markers": "-----BEGIN RSA PRIVATE KEY-----\n" * (RUN // 32),
    "end markers": "-----END RSA PRIVATE KEY-----" * (RUN // 29),
    "open quotes": '"' + "aB3" * (RUN // 3),
    "url near misses": "postgres://u:" * (RUN // 13),
    "one long line of words": "word " * (RUN // 5),
    "newlines": "\n" * RUN,
    "dashes": "-" * RUN,
}


@pytest.mark.timeout(120)  # a guard against blow-up, not a timing assertion
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_text_is_handled_and_a_secret_after_it_is_still_found(name: str) -> None:
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = ADVERSARIAL[name] + f'\ntoken = "{secret}"\n'
    for cut in (False, True):
        out = redact(text, cut=cut)
        assert secret not in out and out.endswith(f'token = "{PLACEHOLDER}"\n')


# -- text the redactor must not break ---------------------------------------------------------


def test_unicode_and_lone_surrogates_survive_around_a_secret() -> None:
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    text = f"# h\u00e9llo \U0001f600 \ud800\ntoken = '{secret}'\r\nname = 'z\u00fcrich'\n"
    out = redact(text)
    assert secret not in out
    assert out == text.replace(secret, PLACEHOLDER)
    fields = redact_fields((text[:20], text[20:], ""))
    assert "".join(fields) == out


def test_memo_makes_a_repeated_job_free() -> None:
    job = CompletionJob(prefix="x = 1\n" * 4000, suffix="y = 2\n" * 4000, middle="pri")
    assert pending_chars(job) >= 48_000
    first = redact_job(job)
    assert pending_chars(job) == 0
    assert redact_job(job) == first
    typed = dataclasses.replace(job, middle="prin")
    assert pending_chars(typed) == len(job.prefix) + len("prin") + len(job.suffix)


@pytest.mark.parametrize(
    ("text", "held"),
    [
        (f"x = {PLACEHOLDER}", True),
        ("x = '<redacted-sec", True),
        ("value = REDACTED-SECRET", True),
        ("x = compute()", False),
    ],
)
def test_a_suggestion_with_a_placeholder_is_recognised(text: str, held: bool) -> None:
    assert contains_placeholder(text) is held


# -- secrets remembered across edits ----------------------------------------------------------


def test_a_secret_edited_in_its_middle_stays_redacted() -> None:
    """Text typed inside a token breaks its format (no rule matches the result); both halves
    were seen whole before and stay redacted."""
    secret = "SG." + "4wuHBk3AzFZabl_wKYMfqG.2ns03QVpb9KtJFTM405m6vudCGB1nb564WiiIu6i5jR"
    text = f"sg = SendGridAPIClient('{secret}')\n"
    assert secret not in redact(text)
    edited = text.replace(".2ns03", "Zq9.2ns03")
    assert not leaks([secret[:25], secret[25:]], [redact(edited)])


def test_what_is_remembered_is_the_random_part_only() -> None:
    """A webhook URL's `https://`, a key's markers, words: never remembered, so ordinary text
    that shares them is left alone after such secrets were seen."""
    hook = kind("slack-webhook-url")["text"]
    pem = kind("rsa-private-key")["text"]
    redact(hook)
    redact(pem)
    for line in (
        "url = 'https://hooks.example.com/services/x'",
        'HEADER = "-----BEGIN RSA PRIVATE KEY-----"',
        "webhook = make_webhook(services)",
    ):
        assert redact(line, path="app.py") == line


# -- what the cut edges leave alone -----------------------------------------------------------


@pytest.mark.parametrize(
    "piece",
    [
        "SyntaxError: invalid syntax\n    x = 1\n",
        "assertEqual(a, b)\n",
        "    Win32MimeTypesTestCase.setUp(self)\n",
        "x = 1\n# we don't cache more than 100",
        "x = 1\nreturn value  # it's fine",
        "Content-Type: text/plain; charset=us-ascii\nMIME-Version: 1.0\n\nhello\n",
        "x = 1\n//# sourceMappingURL=prefixItems.js.map",
    ],
)
def test_words_at_a_cut_edge_are_left_alone(piece: str) -> None:
    assert redact(piece, cut=True, path="a.py") == piece


@pytest.mark.parametrize(
    ("k", "prefix"),
    [
        ("github-pat", "ghp_"),
        ("stripe-secret-key", "sk_live_"),
        ("slack-bot-token", "xoxb-"),
        ("aws-access-key-id", "AKIA"),
        ("npm-token", "npm_"),
        ("gitlab-pat", "glpat-"),
        ("huggingface-token", "hf_"),
        ("sendgrid-api-key", "SG."),
        ("anthropic-key", "sk-ant-api03-"),
    ],
)
def test_a_token_typed_at_the_cursor_is_redacted_as_it_grows(k: str, prefix: str) -> None:
    """Keystroke by keystroke the token is the job's middle: no rule matches it before it is
    whole, its known prefix gives it away (its random part never shows 8 characters)."""
    secret = kind(k)["secrets"][0]
    token = secret[secret.index(prefix) :]
    for i in range(len(token) + 1):
        job = CompletionJob(prefix="x = 1\n# deploy with ", middle=token[:i], suffix="\ny = 2\n")
        out = redact_job(job)
        assert isinstance(out, CompletionJob)
        assert not leaks([token[len(prefix) :]], [out.prefix, out.middle, out.suffix]), i


@pytest.mark.parametrize("typed", ["ext_modules", "api-version", "skip_list", "hf_model_name"])
def test_identifiers_typed_at_the_cursor_are_left_alone(typed: str) -> None:
    out = redact_job(CompletionJob(prefix="# see ", middle=typed, suffix="\n"))
    assert isinstance(out, CompletionJob) and out.middle == typed
