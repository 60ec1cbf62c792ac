"""The lsp-mode configuration (editor-clients/emacs/enclave-lsp-mode.el) in a real Emacs with
lsp-mode, beside another language server, against the real server.

Each test runs `emacs --batch -q` with an Elisp script from editor-clients/emacs/tests/
(lsp-*.el): the configuration is loaded, a Python file opened, `M-x lsp` starts the stand-in
for the language's own server (editor-clients/emacs/tests/other_server.py, a main client as
pyright's is) and Enclave as an add-on; the script works like a user (keys pressed through the
command loop, menus answered) and writes what it saw; the assertions are here. Emacs and
lsp-mode come from the system packages (`make editors`); without them the tests skip, except
under CI where they fail."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lsp_server.handlers.commands import ACCEPTED, COMMANDS
from lsp_server.model import provision
from lsp_server.prompts.actions import spec
from tests.editors.test_emacs import (
    DOCSTRING,
    DOCSTRING_ENDING,
    DOCUMENTED_AREA,
    EMACS,
    FINDING,
    IN_CI,
    ROOT,
    SCRIPTS,
    SHAPES,
    HostileRepo,
    check_docstring_refactor,
    emacs_has,
    fake_env,
    generations,
    gone,
    run_script,
)
from tests.helpers import EDITOR_SAMPLE, real_env

CONFIG = ROOT / "editor-clients" / "emacs" / "enclave-lsp-mode.el"
EGLOT_CONFIG = CONFIG.with_name("enclave-eglot.el")
OTHER_SERVER = SCRIPTS / "other_server.py"
OTHER_HOVER = "other server: hover on sign"
OTHER_ACTION = "Other: sort imports"
OTHER_DIAGNOSTIC = "other server: check this line"


@functools.cache
def _has_lsp_mode() -> bool:
    return emacs_has("lsp-mode")


needs_lsp_mode = pytest.mark.skipif(
    not IN_CI and not _has_lsp_mode(),
    reason="no emacs with lsp-mode: `make editors` installs emacs-nox and elpa-lsp-mode",
)

BLOCK = "if x > 0:\n        return 1\n    return -1"


def run(
    script: str,
    workdir: Path,
    file: Path,
    env: dict[str, str],
    timeout: float = 120,
    overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run an lsp-mode script; the other server's log is read into "other_log"."""
    if EMACS is not None and not _has_lsp_mode():  # only under CI: needs_lsp_mode skips else
        pytest.fail("lsp-mode is not installed and CI is set: run `make editors`", pytrace=False)
    log = workdir / "other.log"
    env = {
        **env,
        "OTHER_SERVER_CMD": json.dumps([sys.executable, str(OTHER_SERVER)]),
        "OTHER_SERVER_LOG": str(log),
    }
    r = run_script(script, workdir, file, env, timeout, config=CONFIG, overrides=overrides)
    lines = log.read_text().splitlines() if log.exists() else []
    r["other_log"] = [json.loads(line) for line in lines]
    return r


def enclave_got(r: dict[str, Any]) -> set[str]:
    """The methods lsp-mode sent Enclave."""
    return {method for server, method, _ in r["sent"] if server == "enclave"}


def never_reached_the_other_server(r: dict[str, Any]) -> None:
    """Enclave's own requests and commands went to Enclave alone."""
    for entry in r["other_log"]:
        assert entry["method"] != "textDocument/inlineCompletion", entry
        assert not entry["method"].startswith("enclave/"), entry
        assert not str(entry.get("command", "")).startswith("enclave."), entry


# -- ghost text, with the server's scripted fake engine (seconds) -----------------------------


@pytest.fixture(scope="module")
def ghost_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("emacs-lsp-ghost")
    file = workdir / "sign.py"
    file.write_text("def sign(x):\n")
    env = {**fake_env(BLOCK + "\n"), "ENCLAVE_DEBUG_PROMPTS": "1"}  # getStatus shows prompts
    return run("lsp-ghost.el", workdir, file, env)


@needs_lsp_mode
def test_both_servers_run_and_the_other_still_answers(ghost_run: dict[str, Any]) -> None:
    r = ghost_run
    assert r["major_mode"] == "python-mode"
    assert r["servers"] == ["enclave", "other"]
    assert r["status"]["state"] == "ready"
    assert "LSP :: Enclave: ready" in r["emacs_messages"]
    # The other server answers hover and completion...
    assert r["hover"].strip() == OTHER_HOVER
    assert r["completed_line"] == "    other_completion"
    # ...and lsp-mode's completion does not wait for the model: Enclave is not asked (its
    # suggestion is the ghost text), nor for hover, which it does not offer.
    assert r["enclave_completion_provider"] is False
    assert "textDocument/completion" not in enclave_got(r)
    assert "textDocument/hover" not in enclave_got(r)
    others = {e["method"] for e in r["other_log"]}
    assert {"textDocument/hover", "textDocument/completion", "textDocument/didChange"} <= others
    never_reached_the_other_server(r)


@needs_lsp_mode
def test_the_lsp_deferred_hook_starts_both_servers(tmp_path: Path) -> None:
    """The README's `(add-hook 'python-mode-hook #'lsp-deferred)` instead of M-x lsp: both
    servers start once the buffer shows and Emacs is idle, and the ghost text works."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n")
    env = {**fake_env(BLOCK + "\n"), "ENCLAVE_TEST_CONNECT": "hook"}
    r = run("lsp-ghost.el", tmp_path, file, env)
    assert r["connected_by"] == "hook"
    assert r["servers"] == ["enclave", "other"]
    assert r["status"]["state"] == "ready"
    assert r["ghost_mode"] is True
    never_reached_the_other_server(r)


@needs_lsp_mode
def test_with_statistics_off_accepting_sends_nothing(tmp_path: Path) -> None:
    """`stats.enabled: false`: the items carry no command, so the same accepts (M-f, C-e,
    TAB) insert the same text and send the server nothing."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n")
    env = fake_env(BLOCK + "\n")
    settings = {**json.loads(env["ENCLAVE_TEST_SETTINGS"]), "stats": {"enabled": False}}
    env["ENCLAVE_TEST_SETTINGS"] = json.dumps(settings)
    env["ENCLAVE_TEST_STATS"] = "off"
    r = run("lsp-ghost.el", tmp_path, file, env)
    assert r["accepts"] == [], r["accepts"]
    commands = [c for server, m, c in r["sent"] if m == "workspace/executeCommand"]
    assert "enclave.lsp.accepted" not in commands, commands
    assert r["whole_shown"]["ghost"] == BLOCK
    assert (r["after_whole"]["line"], r["after_whole"]["ghost"]) == ("    return -1", None)


@needs_lsp_mode
def test_ghost_text_is_shown_typed_through_and_accepted_in_parts(
    ghost_run: dict[str, Any],
) -> None:
    r = ghost_run
    assert r["ghost_mode"] is True
    # Before: TAB and C-g are Emacs's own; with a suggestion shown they are Enclave's.
    assert r["before"] == {
        "line": "def sign(x):",
        "ghost": None,
        "tab": "indent-for-tab-command",
        "c_g": "keyboard-quit",
    }
    # RET indented the new line; the pause asked Enclave; its block is shown after point.
    assert r["shown"]["line"] == "    "
    assert r["shown"]["ghost"] == BLOCK
    assert (r["shown"]["tab"], r["shown"]["c_g"]) == ("enclave-lsp-accept", "enclave-lsp-dismiss")
    # Typing what it shows keeps the rest shown, before and after the next answer.
    rest = BLOCK[len("if") :]
    assert (r["typed_through"]["line"], r["typed_through"]["ghost"]) == ("    if", rest)
    assert (r["answer_after_typing"]["line"], r["answer_after_typing"]["ghost"]) == ("    if", rest)
    # M-f: the next word; C-e: the next line (twice); TAB: the rest.
    assert (r["after_word"]["line"], r["after_word"]["ghost"]) == ("    if x", rest[len(" x") :])
    assert r["after_line"]["line"] == "    if x > 0:"
    assert r["after_line"]["ghost"] == "\n        return 1\n    return -1"
    assert r["after_second_line"]["line"] == "        return 1"
    assert r["after_second_line"]["ghost"] == "\n    return -1"
    assert r["after_accept"] == {
        "line": "    return -1",
        "ghost": None,
        "tab": "indent-for-tab-command",
        "c_g": "keyboard-quit",
    }
    assert r["buffer_after_accept"] == "def sign(x):\n    " + BLOCK + "\n"
    assert r["point_after_accept"] == [4, len("    return -1")]
    ast.parse(r["buffer_after_accept"])
    document = r["document_after_accept"]
    assert document["server_sha256"] == document["buffer_sha256"]
    assert "textDocument/inlineCompletion" in enclave_got(r)


@needs_lsp_mode
def test_cycling_through_the_servers_alternatives(tmp_path: Path) -> None:
    """M-n after an automatic suggestion asks again (invoked) and shows an alternative; then
    M-n / M-p go round the items of that answer without asking; TAB inserts the one shown and
    counts it accepted; with nothing shown, M-x enclave-lsp-previous asks and shows the last."""
    file = tmp_path / "add.py"
    file.write_text("def add(a, b):\n")
    script = {"text": "return a + b\n", "alternatives": ["return b + a\n", "return sum((a, b))\n"]}
    env = {**fake_env(""), "ENCLAVE_FAKE_MODEL": json.dumps({**script, "token_s": 0.0005})}
    r = run("lsp-cycle.el", tmp_path, file, env)
    assert r["before"]["ghost"] is None and r["before"]["m_n"] != "enclave-lsp-next"
    shown = r["shown"]
    assert (shown["line"], shown["ghost"], shown["m_n"]) == (
        "    ",
        "return a + b",
        "enclave-lsp-next",
    )
    asked = shown["requests"]
    assert (r["next"]["ghost"], r["next"]["requests"]) == ("return b + a", asked + 1)
    assert (r["next_again"]["ghost"], r["next_again"]["requests"]) == (
        "return sum((a, b))",
        asked + 1,
    )
    assert (r["wrapped"]["ghost"], r["wrapped"]["requests"]) == ("return a + b", asked + 1)
    assert (r["previous"]["ghost"], r["previous"]["requests"]) == ("return sum((a, b))", asked + 1)
    assert (r["accepted"]["line"], r["accepted"]["ghost"]) == ("    return sum((a, b))", None)
    assert r["buffer"] == "def add(a, b):\n    return sum((a, b))\n"
    assert r["accepted_stats"]["python"]["accepted"] == 1
    assert r["accepted_stats"]["python"]["charsAccepted"] == len("return sum((a, b))")
    last = r["asked_previous"]
    assert (last["line"], last["ghost"]) == ("    ", "return sum((a, b))")
    assert last["requests"] > asked + 1


def python_stats(stats: dict[str, Any]) -> tuple[int, int]:
    """(accepted, charsAccepted) of this session's python figures."""
    return stats["python"]["accepted"], stats["python"]["charsAccepted"]


@needs_lsp_mode
def test_accepting_reports_the_characters_taken_once(ghost_run: dict[str, Any]) -> None:
    """M-f, C-e, C-e then TAB on one suggestion: each accept sends the item's own command
    with the running total (acceptedChars), the last one none (all of it); the server's
    figures grow with each and count the suggestion accepted once. A second suggestion
    taken whole with TAB counts once, with all its characters."""
    r = ghost_run
    rest = BLOCK[len("if") :]  # the suggestion shown after typing "if"
    word, line, second = len(" x"), len(" > 0:"), len("\n        return 1")
    totals = [word, word + line, word + line + second]
    sent = [a["arguments"] for a in r["accepts"]]
    assert len(sent) == 5, sent  # one per accept, none else
    assert all(len(args) == 1 for args in sent), sent
    args = [a[0] for a in sent]
    uri = args[0]["uri"]
    assert uri.startswith("file://") and uri.endswith("/sign.py"), uri
    assert len({a["id"] for a in args[:4]}) == 1 and args[4]["id"] != args[0]["id"]
    assert [a.get("acceptedChars") for a in args] == [*totals, None, None]
    assert all(set(a) <= {"id", "uri", "acceptedChars"} and a["uri"] == uri for a in args)
    # The server's answers: the characters it now counts for the item.
    answers = [a["answer"]["acceptedChars"] for a in r["accepts"]]
    assert answers == [*totals, len(rest), len(BLOCK)]
    # Its figures after each step: one accepted suggestion, its characters growing.
    steps = ["stats_after_word", "stats_after_line", "stats_after_second_line"]
    assert [python_stats(r[k]) for k in steps] == [(1, n) for n in totals]
    assert python_stats(r["stats_after_accept"]) == (1, len(rest))
    assert python_stats(r["stats_at_end"]) == (2, len(rest) + len(BLOCK))
    assert r["stats_at_end"]["python"]["shown"] >= 2
    assert r["whole_shown"]["ghost"] == BLOCK
    assert (r["after_whole"]["line"], r["after_whole"]["ghost"]) == ("    return -1", None)


@needs_lsp_mode
def test_enclave_lsp_stats_shows_the_figures(ghost_run: dict[str, Any]) -> None:
    r = ghost_run
    figures = r["stats_at_end"]["python"]
    accepted = len(BLOCK[len("if") :]) + len(BLOCK)
    text = r["stats_buffer"]
    session = text.split("This session:\n")[1].split("All time")[0]
    assert session.startswith("  python\n"), text
    assert f"suggestions shown {figures['shown']}, accepted 2 (" in session, text
    chars = f"characters suggested {figures['charsSuggested']}, accepted {accepted}"
    assert chars in session, text
    assert "Statistics are off" not in text


@needs_lsp_mode
def test_choosing_enclaves_item_in_the_completion_list_reports_it_once(tmp_path: Path) -> None:
    """With enclave-lsp-completion-list on, lsp-mode runs a chosen item's command itself, and
    sends a command it has no handler for to every server of the buffer (without the
    configuration's handler the other server got Enclave's, with the suggestion's id and
    URI). It reaches Enclave alone, once."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    r = run("lsp-capf.el", tmp_path, file, fake_env(BLOCK + "\n"))
    assert "other_completion" in r["candidates"], r["candidates"]
    assert r["buffer"] == "def sign(x):\n    " + BLOCK + "\n"
    [accept] = r["accepts"]
    [argument] = accept["arguments"]
    assert set(argument) == {"id", "uri"} and argument["uri"].endswith("/sign.py"), argument
    assert accept["answer"] == {"acceptedChars": len(BLOCK)}
    assert python_stats(r["stats"]) == (1, len(BLOCK))
    executed = [(s, c) for s, m, c in r["sent"] if m == "workspace/executeCommand"]
    assert executed == [("enclave", ACCEPTED)], executed
    never_reached_the_other_server(r)


@needs_lsp_mode
def test_c_g_and_moving_away_dismiss_the_suggestion(ghost_run: dict[str, Any]) -> None:
    r = ghost_run
    assert r["asked"]["ghost"] == BLOCK  # M-x enclave-lsp-suggest
    assert r["asked"]["c_g"] == "enclave-lsp-dismiss"
    # With enclave-lsp-ghost-mode off: typing asks nothing; asking still shows one.
    assert r["mode_off_timer"] is False
    assert r["mode_off_asked"]["ghost"] == BLOCK
    for key in ("after_c_g", "after_moving", "mode_off_after_moving"):
        assert r[key]["ghost"] is None, key
        assert (r[key]["tab"], r[key]["c_g"]) == ("indent-for-tab-command", "keyboard-quit"), key


@needs_lsp_mode
def test_a_character_outside_the_bmp_moves_nothing(ghost_run: dict[str, Any]) -> None:
    """lsp-mode 8 counts characters, LSP UTF-16 units: edits after an emoji on its line would
    land one unit early in Enclave's copy, and the cursor with them."""
    r = ghost_run
    line = '    s = "\U0001f600" + ab'
    assert r["wide_line"] == line
    document = r["document_after_wide"]
    assert document["server_sha256"] == document["buffer_sha256"]
    assert not document["desynced"]
    # The prompt of the suggestion asked for at the end of that line: the cursor is there,
    # not one unit before it.
    [prompt] = [p["prompt"] for p in r["status"]["lastPrompts"] if p["kind"] == "user"][-1:]
    prefix, rest = prompt.split("<|fim_prefix|>")[1].split("<|fim_suffix|>")
    assert prefix.endswith("\n" + line), prefix[-80:]
    assert rest.split("<|fim_middle|>")[0] == "", rest


# Insertions mixing what lsp-mode 8 and LSP count differently (characters outside the BMP, a
# lone CR) with ordinary text and line breaks, anywhere in the buffer.
PIECES = [
    "a",
    "bc",
    " ",
    "\n",
    "\t",
    "\U0001f600",
    "\U00010348",
    "é",
    "中",
    "\r",
    "\r\n",
    "x = 1\n",
]
EDITS = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from([0, 0, 1, 2, 7]),
        st.lists(st.sampled_from(PIECES), max_size=4).map("".join),
    ),
    min_size=60,
    max_size=160,
)


@needs_lsp_mode
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=EDITS)
def test_enclave_copy_follows_any_edits(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[float, int, str]]
) -> None:
    """Edits anywhere, with emoji, other astral characters and lone CRs: Enclave's copy is the
    buffer's text at every checkpoint (without the configuration's fix, lsp-mode 8 desyncs
    it within the first twenty edits of such a sequence)."""
    workdir = tmp_path_factory.mktemp("emacs-lsp-sync")
    file = workdir / "edited.py"
    file.write_text("x = 1\n")
    script = workdir / "edits.json"
    script.write_text(json.dumps(edits))
    env = {
        **fake_env("pass\n"),
        "ENCLAVE_TEST_EDITS": str(script),
        "ENCLAVE_TEST_EVERY": "20",
    }
    r = run("lsp-sync.el", workdir, file, env)
    checks = r["checks"]
    assert checks and checks[-1]["edits"] == len(edits)
    assert all(c["same"] is True and not c["desynced"] for c in checks), checks


# What accepting reports, for any suggestion and any keys (no server: the sending stubbed).
GHOST_TEXT = st.lists(
    st.sampled_from(["a", "bc", " ", "\n", "    ", "\U0001f600", "é", "中", "(", "_x1", ":"]),
    min_size=1,
    max_size=12,
).map("".join)
CASES = st.lists(
    st.fixed_dictionaries(
        {
            "text": GHOST_TEXT,
            "keys": st.lists(st.sampled_from(["M-f", "C-e", "TAB", "type"]), max_size=10),
        }
    ),
    min_size=20,
    max_size=20,
)


@needs_lsp_mode
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases=CASES)
def test_accepted_characters_are_the_suggestions_text_taken_each_total_once(
    tmp_path_factory: pytest.TempPathFactory, cases: list[dict[str, Any]]
) -> None:
    """Any suggestion (wide characters, newlines, no word at all), any keys: each report
    names the characters of the suggestion now before point (counted in code points, as the
    server counts them), every total is larger than the last (never the same twice), all of
    it is reported once and last, and each accept key reports once (typing reports nothing)."""
    # One case that reports for sure, among the generated ones.
    keys = ["type", "M-f", "C-e", "type", "M-f", "TAB"]
    cases = [*cases, {"text": "if x > 0:\n  y\U0001f600 = 1", "keys": keys}]
    workdir = tmp_path_factory.mktemp("emacs-lsp-accounting")
    file = workdir / "x.txt"
    file.write_text("")
    (workdir / "cases.json").write_text(json.dumps(cases))
    env = {**fake_env("pass\n"), "ENCLAVE_TEST_CASES": str(workdir / "cases.json")}
    r = run("lsp-accounting.el", workdir, file, env)
    for case, result in zip(cases, r["results"], strict=True):
        text, sends = case["text"], result["sends"]
        totals = [s["chars"] for s in sends if s["chars"] is not None]
        assert totals == sorted(set(totals)), (case, sends)
        for s in sends:
            if s["chars"] is not None:
                assert 0 < s["chars"] < len(text) and s["inserted"] == text[: s["chars"]], case
        full = [s for s in sends if s["chars"] is None]
        assert len(full) <= 1 and (not full or sends[-1] is full[0]), (case, sends)
        if full:
            assert full[0]["inserted"] == text and result["final"] == text, (case, result)
        # One report per accept key pressed while the suggestion was shown, none else.
        assert len(sends) == result["accept_presses"], (case, result)
    # "i" typed, "f" (M-f), " x > 0:" (C-e), the line break not typed, "\n  y" (M-f), TAB.
    assert [s["chars"] for s in r["results"][-1]["sends"]] == [2, 9, 13, None]


# -- code actions and commands ----------------------------------------------------------------


@pytest.fixture(scope="module")
def actions_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("emacs-lsp-actions")
    file = workdir / "shapes.py"
    file.write_text(SHAPES)
    env = {
        **fake_env(f"```python\n{DOCUMENTED_AREA}```\n", DOCSTRING_ENDING),
        "ENCLAVE_TEST_REWRITE_TITLE": spec("rewrite").title,
        "ENCLAVE_TEST_EXPLAIN_TITLE": spec("explain").title,
        "ENCLAVE_TEST_FIX_TITLE": f"{spec('fix').title}: {OTHER_DIAGNOSTIC}",
    }
    return run("lsp-actions.el", workdir, file, env)


@needs_lsp_mode
def test_enclave_code_actions_beside_the_other_server(actions_run: dict[str, Any]) -> None:
    r = actions_run
    fix = f"{spec('fix').title}: {OTHER_DIAGNOSTIC}"
    # M-x enclave-lsp-code-actions lists Enclave's actions only, with "Fix with Enclave" for
    # the other server's warning (lsp-mode sends every server's diagnostics of the line).
    titles = r["enclave_titles"]
    assert OTHER_ACTION not in titles
    assert spec("explain").title in titles and DOCSTRING in titles and fix in titles
    assert spec("rewrite").title in titles
    # lsp-mode's own menu lists both servers' actions.
    assert set(r["lsp_mode_titles"]) == {*titles, OTHER_ACTION}
    # The refactor, resolved by Enclave and applied, from either menu.
    assert r["original"] == SHAPES
    assert r["after_enclave_code_actions"] == DOCUMENTED_AREA
    document = r["document_after_refactor"]
    assert document["server_sha256"] == document["buffer_sha256"]
    assert r["after_lsp_execute_code_action"] == DOCUMENTED_AREA
    assert "lsp_mode_refactor_error" not in r
    # "Rewrite with instruction...": asked for the instruction, the server's edit applied.
    assert r["after_rewrite"] == DOCUMENTED_AREA
    # Explain from M-x enclave-lsp-explain and from lsp-mode's own menu (lsp-mode hands the
    # command to the configuration, which shows the result).
    for key in ("explanation", "explanation_from_lsp_menu"):
        assert r[key].startswith("## Explanation: `function area` (shapes.py, line 1)"), key
    assert r["buffer_at_end"] == SHAPES
    # "Fix with Enclave" on the other server's warning: resolved by Enclave and applied.
    assert "fix_error" not in r, r["fix_error"]
    assert r["after_fix"] == DOCUMENTED_AREA
    assert r["document_after_fix"]["server_sha256"] == r["document_after_fix"]["buffer_sha256"]


@needs_lsp_mode
def test_enclave_commands_reach_enclave_alone(actions_run: dict[str, Any]) -> None:
    r = actions_run
    never_reached_the_other_server(r)
    commands = [c for server, m, c in r["sent"] if m == "workspace/executeCommand"]
    assert commands.count("enclave.lsp.rewrite") == 1 and commands.count("enclave.lsp.explain") == 2
    assert all(s == "enclave" for s, m, _ in r["sent"] if m == "workspace/executeCommand")
    # lsp-mode 8's own M-x lsp-execute-code-action asks every server that resolves code
    # actions to resolve the one chosen and cannot merge two answers; the stand-in answers
    # any action with a command of its own, which broke Enclave's refactor. The configuration
    # has Enclave alone resolve its actions: the other server never saw one.
    foreign = [e for e in r["other_log"] if e["method"] == "codeAction/resolve"]
    assert all(e.get("data", {}).get("source") == "other" for e in foreign), foreign


@needs_lsp_mode
def test_review_findings_beside_the_other_servers_and_their_fix(tmp_path: Path) -> None:
    """M-x enclave-lsp-review: the finding joins the other server's warning in lsp-mode's
    diagnostics (neither replaces the other); its quick fix, chosen in M-x
    enclave-lsp-code-actions on its line, applies and the finding leaves."""
    file = tmp_path / "sample.py"
    file.write_text(EDITOR_SAMPLE)
    fix_title = f"Enclave: apply the suggested fix ({FINDING['category']})"
    env = {
        **fake_env(json.dumps({"findings": [FINDING]})),
        "ENCLAVE_TEST_FIX_TITLE": fix_title,
    }
    r = run("lsp-review.el", tmp_path, file, env)
    assert r["review_result"]["findings"] == 1
    line = EDITOR_SAMPLE.split("\n").index("    " + FINDING["snippet"]) + 1
    finding = ["enclave", line, FINDING["message"]]
    other = ["other", 1, OTHER_DIAGNOSTIC]
    assert sorted(r["diagnostics_after_review"]) == sorted([finding, other]), r
    assert fix_title in r["titles_at_finding"] and OTHER_ACTION not in r["titles_at_finding"]
    assert r["line_after_fix"] == "    " + FINDING["fix"]
    assert r["diagnostics_after_fix"] == [other]
    assert r["document"]["server_sha256"] == r["document"]["buffer_sha256"]
    never_reached_the_other_server(r)
    commands = [(s, c) for s, m, c in r["sent"] if m == "workspace/executeCommand"]
    assert commands == [("enclave", "enclave.lsp.review")], commands


@needs_lsp_mode
def test_beside_ruffs_own_language_server(tmp_path: Path) -> None:
    """A real language server instead of the stand-in: `ruff server`. Both run; ruff's
    diagnostic (an unused import) is in lsp-mode with its fixes in lsp-mode's menu, Enclave
    offers "Fix with Enclave" for it and lists none of ruff's actions; the ghost text works."""
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("no ruff beside the interpreter (the dev extras)")
    file = tmp_path / "sign.py"
    file.write_text("import os\n\n\ndef sign(x):\n    return x\n")
    env = fake_env(BLOCK + "\n")
    ruff_server = {"OTHER_SERVER_CMD": json.dumps([str(ruff), "server"])}
    r = run("lsp-ruff.el", tmp_path, file, env, overrides=ruff_server)
    assert r["servers"] == ["enclave", "other"] and r["servers_at_end"] == r["servers"]
    sources = {(source, line, code) for source, line, code in r["diagnostics"]}
    assert ("Ruff", 1, "F401") in sources, r["diagnostics"]
    assert not [d for d in r["diagnostics"] if d[0] == "enclave"], r["diagnostics"]
    ruffs = [t for t in r["lsp_mode_titles"] if "ruff" in t.lower()]
    assert ruffs, r["lsp_mode_titles"]
    fix = [t for t in r["enclave_titles"] if t.startswith(spec("fix").title)]
    assert len(fix) == 1 and "os" in fix[0], r["enclave_titles"]
    assert not set(ruffs) & set(r["enclave_titles"]), r["enclave_titles"]
    assert r["ghost"] == BLOCK.split("\n")[0] or r["ghost"].startswith(BLOCK.split("\n")[0])
    assert BLOCK in r["buffer"], r["buffer"]
    assert r["document"]["server_sha256"] == r["document"]["buffer_sha256"]


# pyright's language server, from the npm registry at a pinned version (`make editors`).
PYRIGHT = Path(
    os.environ.get("ENCLAVE_PYRIGHT")
    or ROOT / "build" / "pyright" / "node_modules" / ".bin" / "pyright-langserver"
)


@needs_lsp_mode
def test_beside_pyrights_language_server(tmp_path: Path) -> None:
    """The most used Python server, pyright, beside Enclave in lsp-mode: both run; pyright's
    type error is in lsp-mode's diagnostics, Enclave offers "Fix with Enclave" for it and
    none of pyright's own actions; the ghost text works; pyright gets none of Enclave's
    requests (only its own client's)."""
    if not PYRIGHT.exists():
        if IN_CI:
            pytest.fail(f"no pyright at {PYRIGHT} and CI is set: run `make editors`")
        pytest.skip(f"no pyright at {PYRIGHT}: `make editors` installs it")
    file = tmp_path / "sign.py"
    file.write_text("def sign(x: int) -> str:\n    return x\n")
    env = fake_env(BLOCK + "\n")
    overrides = {
        "OTHER_SERVER_CMD": json.dumps([str(PYRIGHT), "--stdio"]),
        "ENCLAVE_TEST_AT": "return x$",
    }
    r = run("lsp-ruff.el", tmp_path, file, env, timeout=180, overrides=overrides)
    assert r["servers"] == ["enclave", "other"] and r["servers_at_end"] == r["servers"]
    # `return x` where a str is promised: pyright's reportReturnType, on line 2.
    assert ["Pyright", 2, "reportReturnType"] in r["diagnostics"], r["diagnostics"]
    assert not [d for d in r["diagnostics"] if d[0] == "enclave"], r["diagnostics"]
    fix = [t for t in r["enclave_titles"] if t.startswith(spec("fix").title)]
    assert len(fix) == 1, r["enclave_titles"]
    assert all("Enclave" in t for t in r["enclave_titles"]), r["enclave_titles"]
    assert r["ghost"] == BLOCK.split("\n")[0] or r["ghost"].startswith(BLOCK.split("\n")[0])
    assert BLOCK in r["buffer"], r["buffer"]
    assert r["document"]["server_sha256"] == r["document"]["buffer_sha256"]
    sent = {(server, method) for server, method, _ in r["sent"]}
    assert ("other", "textDocument/didOpen") in sent, sorted(sent)
    for method in ("workspace/executeCommand", "textDocument/inlineCompletion"):
        assert ("other", method) not in sent, sorted(sent)


# -- user-only settings -----------------------------------------------------------------------


@needs_lsp_mode
@pytest.mark.parametrize("user_has", ["enclave", "absent"])
def test_dir_locals_cannot_choose_the_server_its_environment_or_settings(
    tmp_path: Path, user_has: str
) -> None:
    """The user accepts every local variable of a HostileRepo and names the server `enclave`.
    With `enclave` on the user's PATH, lsp-mode starts that one, with the user's environment
    and settings; without, no Enclave starts, rather than the repository's."""
    repo = HostileRepo.make(tmp_path)
    env = {**repo.env, "ENCLAVE_TEST_EXPECT": user_has}
    if user_has == "absent":
        env["PATH"] = "/usr/bin:/bin"
    cmd = {"ENCLAVE_TEST_CMD": json.dumps(["enclave", "serve"])}
    r = run("lsp-dirlocals.el", tmp_path, repo.file, env, overrides=cmd)
    repo.check_the_buffer_got_them(r)
    if user_has == "absent":
        assert r["servers"] == ["other"] and "server_command" not in r, r
    else:
        assert r["servers"] == ["enclave", "other"] and "server_command" in r, r
    repo.check_enclave_got_none(r)


# -- both configurations, without Emacs --------------------------------------------------------


@pytest.mark.parametrize("config", [EGLOT_CONFIG, CONFIG], ids=["eglot", "lsp-mode"])
def test_the_configs_call_the_servers_commands_by_their_names(config: Path) -> None:
    """Every command name the configuration sends is one the server runs, and it sends the
    explain, review and rewrite commands (the lsp-mode one also handles refactor, and
    routes the accepted command of a completion item to Enclave)."""
    named = set(re.findall(r'"(enclave\.[a-z.]+)"', config.read_text()))
    assert named <= {*COMMANDS, ACCEPTED}, named - {*COMMANDS, ACCEPTED}
    wanted = set(COMMANDS) if config == CONFIG else set(COMMANDS) - {"enclave.lsp.refactor"}
    assert named >= wanted, wanted - named


@pytest.mark.parametrize("missing", ["emacs", "lsp-mode"])
def test_under_ci_a_missing_emacs_or_lsp_mode_fails_the_test(tmp_path: Path, missing: str) -> None:
    """With CI set, an lsp-mode test fails (not skips) when Emacs, or only lsp-mode, is
    missing: an `emacs` on PATH that hides lsp-mode, or none at all."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if missing == "lsp-mode":
        if EMACS is None:
            pytest.skip("needs emacs")
        hide = (
            "(setq package-directory-list nil load-path (seq-remove (lambda (d)"
            ' (string-match-p "/lsp-mode" d)) load-path))'
        )
        wrapper = bin_dir / "emacs"
        wrapper.write_text(f"#!/bin/sh\nexec {EMACS} --eval '{hide}' \"$@\"\n")
        wrapper.chmod(0o755)
    env = {**os.environ, "CI": "1", "PATH": str(bin_dir)}  # no other emacs
    test = f"{Path(__file__)}::test_both_servers_run_and_the_other_still_answers"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert "skipped" not in said, said
    expected = "emacs is not installed" if missing == "emacs" else "lsp-mode is not installed"
    assert f"{expected} and CI is set" in said, said


# -- the real default model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One Emacs + lsp-mode session with the server's default settings (the default model)."""
    spec_ = provision.MODELS[provision.DEFAULT_SIZE]
    if not provision.verify(provision.model_path(spec_), spec_, quick=True).ok:
        pytest.fail(f"default model not provisioned: run `enclave model fetch --size {spec_.size}`")
    workdir = tmp_path_factory.mktemp("lsp-model")
    file = workdir / "sample.py"
    file.write_text(EDITOR_SAMPLE)
    env = {**real_env(), "ENCLAVE_DEBUG_PROMPTS": "1"}
    return run("lsp-model.el", workdir, file, env, timeout=560)


@needs_lsp_mode
@pytest.mark.model
@pytest.mark.slow
def test_ghost_text_from_the_real_model(model_run: dict[str, Any]) -> None:
    r = model_run
    spec_ = provision.MODELS[provision.DEFAULT_SIZE]
    assert r["status"]["modelInfo"]["path"] == str(provision.model_path(spec_))
    assert r["line_before"] == "    return "
    assert r["ghost"], {"asks": r["asks"], "empty": r["empty_reasons"]}
    # M-n asked once more (invoked: the alternatives); with two items or more it shows one
    # that differs, and M-p goes back to the first without asking again.
    cycle, back = r["cycle"], r["cycle_back"]
    assert cycle["requests"] == 1 and cycle["ghost"] and cycle["items"], cycle
    if len(set(cycle["items"])) > 1:
        assert cycle["ghost"] != r["ghost"], cycle
        assert (back["ghost"], back["requests"]) == (r["ghost"], 1), (r["ghost"], cycle, back)
    else:
        assert cycle["ghost"] == r["ghost"], (r["ghost"], cycle)
    # TAB inserted what was shown, which the model generated for this request.
    assert r["inserted"] == r["ghost"]
    texts = generations(r, "user")
    assert any(r["ghost"].strip() in t for t in texts), texts
    assert r["buffer"] == EDITOR_SAMPLE.replace(
        "    return\n", "    return " + r["ghost"] + "\n", 1
    )
    ast.parse(r["buffer"])
    assert r["document"]["server_sha256"] == r["document"]["buffer_sha256"]
    # The other server kept running beside it; Emacs' exit ends the model worker too.
    never_reached_the_other_server(r)
    pid = r["status"]["workerPid"]
    assert isinstance(pid, int) and gone(pid), f"model worker {pid} still running"


@needs_lsp_mode
@pytest.mark.model
@pytest.mark.slow
def test_real_review_beside_the_other_server(model_run: dict[str, Any]) -> None:
    """M-x enclave-lsp-review with the default model: as many Enclave diagnostics in
    lsp-mode as the review reported, each Enclave's; the other server got none of it."""
    r = model_run
    findings = r["review_result"]["findings"]
    assert isinstance(findings, int) and generations(r, "action", "status_after_actions")
    assert len(r["review_diagnostics"]) == findings, r["review_diagnostics"]
    never_reached_the_other_server(r)


@needs_lsp_mode
@pytest.mark.model
@pytest.mark.slow
def test_real_refactor_through_enclave_code_actions(model_run: dict[str, Any]) -> None:
    """A refactor chosen in M-x enclave-lsp-code-actions, resolved by the default model:
    applied to `average` alone (a docstring the model wrote), or refused with its reason."""
    r = model_run
    texts = generations(r, "action", "status_after_actions")
    check_docstring_refactor(r, r["refactor_before"], texts, r["document_after_refactor"])
