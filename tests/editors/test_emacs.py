"""The Emacs configuration (editor-clients/emacs/enclave-eglot.el) in a real Emacs with Eglot
against the real server.

Each test runs `emacs --batch -q` (site files load, so the packaged Eglot is found; no init
file) with an Elisp script from editor-clients/emacs/tests/ that loads the configuration, opens
a Python file, starts Eglot with `M-x eglot` and works like a user (code actions chosen from
the menu, M-x enclave-review, completion-at-point), writes its observations to a JSON file and
exits non-zero on an error; the assertions are here. Emacs and Eglot come from the system
packages (`make editors`); without them the tests skip, except under CI where they fail."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from lsp_server.features import refactor as refactor_feature
from lsp_server.model import provision
from lsp_server.prompts.actions import spec
from tests.helpers import EDITOR_SAMPLE, FAKE_MODEL, enclave_command, real_env

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "editor-clients" / "emacs" / "enclave-eglot.el"
SCRIPTS = ROOT / "editor-clients" / "emacs" / "tests"

EMACS = shutil.which("emacs")
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
# Skipped without Emacs on a developer machine; under CI a missing Emacs fails (run_script).
needs_emacs = pytest.mark.skipif(
    EMACS is None and not IN_CI,
    reason="no emacs: `make editors` installs emacs-nox and elpa-eglot",
)


def emacs_has(feature: str) -> bool:
    if EMACS is None:
        return False
    probe = f"(progn (package-activate-all) (require '{feature}))"
    return (
        subprocess.run([EMACS, "--batch", "-q", "--eval", probe], capture_output=True).returncode
        == 0
    )


# Company from the system packages (`make editors`): skipped without it, failed under CI.
needs_company = pytest.mark.skipif(
    not IN_CI and not emacs_has("company"),
    reason="no Company: `make editors` installs elpa-company",
)

REFACTOR_TITLES = [spec(name).title for name in refactor_feature.REFACTORS]
DOCSTRING = spec("docstring").title

SAMPLE = EDITOR_SAMPLE

SHAPES = "def area(width, height):\n    return width * height\n"
DOCUMENTED_AREA = (
    'def area(width, height):\n    """Return the area of a width x height rectangle."""\n'
    "    return width * height\n"
)
FINDING = {
    "category": "bug-risk",
    "severity": "error",
    "message": "division by zero",
    "snippet": "return total / 0",
    "fix": "return total / len(values)",
}


# "Add docstring" begins the answer up to the opening quotes (features/docstring.py).
DOCSTRING_ENDING = '""" -> Return the area of a width x height rectangle."""'


def fake_env(answer: str, *endings: str) -> dict[str, str]:
    env = real_env()
    script = {"text": answer, "token_s": 0.0005, "endings": list(endings)}
    env["ENCLAVE_FAKE_MODEL"] = json.dumps(script)
    env["ENCLAVE_TEST_SETTINGS"] = json.dumps({"model": {"path": FAKE_MODEL}})
    return env


def run_script(
    script: str,
    workdir: Path,
    file: Path,
    env: dict[str, str],
    timeout: float,
    config: Path = CONFIG,
    overrides: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run editor-clients/emacs/tests/SCRIPT in a batch Emacs with CONFIG, on FILE, in the
    environment ENV with the test's variables (OVERRIDES replace them); return its
    observations, and its messages under "emacs_messages"."""
    if EMACS is None:
        pytest.fail("emacs is not installed and CI is set: run `make editors`", pytrace=False)
    out = workdir / "results.json"
    (workdir / "home").mkdir(exist_ok=True)
    env = {
        **env,
        "ENCLAVE_TEST_CMD": json.dumps(enclave_command()),
        "ENCLAVE_TEST_FILE": str(file),
        "ENCLAVE_TEST_OUT": str(out),
        "ENCLAVE_TEST_REFACTOR_TITLE": DOCSTRING,
        "ENCLAVE_TEST_EVENTS": str(workdir / "events.log"),
        "HOME": str(workdir / "home"),  # Emacs' own files stay out of the real home...
        "XDG_CACHE_HOME": platformdirs.user_cache_dir(),  # ...the models are in the real cache
        "ENCLAVE_EMACS_CONFIG": str(config),
        **(overrides or {}),
    }
    cmd = [EMACS, "--batch", "-q", "-l", str(SCRIPTS / script)]
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raw: str | bytes = exc.stderr or b""
        said = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        raise AssertionError(f"emacs timed out after {timeout} s:\n{said[-3000:]}") from exc
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    events = workdir / "events.log"
    assert proc.returncode == 0, (
        f"emacs exited {proc.returncode}: {results.get('error')}\n"
        f"steps: {results.get('steps')}\nstderr: {proc.stderr[-3000:]}\n"
        f"the client's log: {events.read_text()[-4000:] if events.exists() else '(none)'}"
    )
    results["emacs_messages"] = proc.stderr  # a batch Emacs prints its messages on stderr
    return results


def gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


# -- protocol, with the server's scripted fake engine (seconds) -------------------------------


@pytest.fixture(scope="module")
def review_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("emacs-protocol")
    file = workdir / "sample.py"
    file.write_text(SAMPLE)
    env = fake_env(json.dumps({"findings": [FINDING]}))
    # The fake answer, a review, is no code for "Simplify" (a docstring would take any text).
    chosen = {"ENCLAVE_TEST_REFACTOR_TITLE": spec("simplify").title}
    return run_script("protocol.el", workdir, file, env, timeout=120, overrides=chosen)


@needs_emacs
def test_eglot_connects_and_sees_the_capabilities(review_run: dict[str, Any]) -> None:
    r = review_run
    assert r["major_mode"] == "python-mode"
    assert r["server_name"] == "enclave"
    caps = r["capabilities"]
    assert set(caps["executeCommandProvider"]["commands"]) == {
        "enclave.lsp.accepted",
        "enclave.lsp.explain",
        "enclave.lsp.refactor",
        "enclave.lsp.review",
        "enclave.lsp.rewrite",
    }
    assert caps["codeActionProvider"]["resolveProvider"] is True
    assert "refactor.rewrite" in caps["codeActionProvider"]["codeActionKinds"]
    assert "completionProvider" in caps
    # The enclave/status notification reached the configuration's handler.
    assert r["status"]["state"] == "ready"
    assert "[eglot] Enclave: ready" in r["emacs_messages"]
    assert "eglot-flymake-backend" in r["flymake_backends"]
    # The initializationOptions (the config's completion deadline and the model path from
    # enclave-settings) were accepted: the server reports a bad or unknown setting by name.
    assert "Enclave setting" not in r["emacs_messages"], r["emacs_messages"]


@needs_emacs
def test_code_actions_at_a_function_include_the_refactors(review_run: dict[str, Any]) -> None:
    actions = review_run["actions_at_function"]
    titles = [a["title"] for a in actions]
    # `average` has a loop, locals and no docstring: every refactor is listed there.
    assert set(REFACTOR_TITLES) <= set(titles), titles
    refactors = [a for a in actions if a["title"] in REFACTOR_TITLES]
    # Eglot 1.9 does not announce codeAction/resolve support, so the model-backed actions come
    # as the enclave.lsp.refactor command (the server makes and applies the edit when chosen).
    assert all(
        a["kind"] == "refactor.rewrite" and a["command"] == "enclave.lsp.refactor" and not a["edit"]
        for a in refactors
    )
    assert spec("explain").title in titles
    # Chosen there, it ran; the fake answer here is a review, not code: refused, nothing changed.
    assert review_run["eglot_refactor_changed_buffer"] is False


@needs_emacs
def test_review_fills_flymake_and_its_quick_fix_applies(review_run: dict[str, Any]) -> None:
    r = review_run
    assert r["review_result"]["findings"] == 1
    line = SAMPLE.split("\n").index("    " + FINDING["snippet"]) + 1
    assert r["review_diagnostics"] == [
        # The model's "error", uncorroborated by the slip pass, is published as information.
        [line, f"enclave [{FINDING['category']}]: {FINDING['message']}", "eglot-note"]
    ]
    # Eglot sent the Flymake diagnostic with the code action request; the server answered the
    # finding's fix, which M-x eglot-code-actions applied; the finding then left Flymake.
    fixes = [a for a in r["actions_at_finding"] if a["kind"] == "quickfix"]
    assert len(fixes) == 1 and fixes[0]["edit"], r["actions_at_finding"]
    assert r["line_after_fix"] == "    " + FINDING["fix"]
    assert r["document"]["server_sha256"] == r["document"]["buffer_sha256"]


@needs_emacs
def test_refactor_rewrite_and_explain_through_the_config(tmp_path: Path) -> None:
    """A refactor chosen in M-x eglot-code-actions runs (as the enclave.lsp.refactor command), as
    it does from M-x enclave-code-actions; the rewrite action asks the instruction and comes
    back as a server edit; the explanation is shown in a buffer."""
    file = tmp_path / "shapes.py"
    file.write_text(SHAPES)
    answer = f"```python\n{DOCUMENTED_AREA}```\n"
    r = run_script("refactor.el", tmp_path, file, fake_env(answer, DOCSTRING_ENDING), timeout=120)

    assert r["original"] == SHAPES
    assert r["after_eglot_code_actions"] == DOCUMENTED_AREA
    assert r["after_enclave_code_actions"] == DOCUMENTED_AREA
    assert (
        r["document_after_refactor"]["server_sha256"]
        == (r["document_after_refactor"]["buffer_sha256"])
    )
    assert r["after_rewrite"] == DOCUMENTED_AREA
    # Eglot asks before applying an edit the server sends (eglot-confirm-server-initiated-edits).
    assert any("Server wants to edit" in q for q in r["rewrite_questions"]), r
    explanation = r["explanation"]
    assert explanation.startswith("## Explanation: `function area` (shapes.py, line 1)")
    assert DOCUMENTED_AREA.split("\n")[1].strip() in explanation
    # eglot-workspace-configuration reaches the server: completion turned off there.
    assert r["completion_when_off"]["items"] == []
    assert r["status_when_off"]["lastEmptyReason"] == "completions are turned off"


@dataclass(frozen=True)
class HostileRepo:
    """A repository whose .dir-locals.el tries to choose Enclave's server, its environment and
    its settings: enclave-command (a script leaving a marker), exec-path (a folder whose
    `enclave` leaves another), process-environment (PYTHONPATH to a sitecustomize.py that
    leaves one per Python process, with its command line, and a variable of its own) and
    enclave-settings (a model path that is not a model)."""

    project: Path
    file: Path
    markers: Path
    environment: list[str]  # the repository's entries of process-environment
    env: dict[str, str]  # Emacs' environment: the fake model, the venv's bin first on PATH

    @classmethod
    def make(cls, tmp_path: Path) -> HostileRepo:
        venv_bin = Path(enclave_command()[0]).parent
        if not (venv_bin / "enclave").exists():
            pytest.skip("needs the venv's `enclave` script")
        project = tmp_path / "repo"
        (project / "py").mkdir(parents=True)
        markers = project / "markers"
        markers.mkdir()
        file = project / "shapes.py"
        file.write_text(SHAPES)
        for name in ("evil.sh", "enclave"):
            script = project / name
            script.write_text(f"#!/bin/sh\ntouch '{markers / name}'\nexec \"$@\"\n")
            script.chmod(0o755)
        (project / "py" / "sitecustomize.py").write_text(
            "import os, sys\n"
            f"with open(os.path.join({str(markers)!r}, str(os.getpid())), 'w') as f:\n"
            "    f.write(' '.join(sys.argv))\n"
        )
        not_a_model = project / "not-a-model.gguf"
        not_a_model.write_text("not a model\n")
        env = {**fake_env(""), "PATH": f"{venv_bin}{os.pathsep}/usr/bin:/bin"}
        env.pop("PYTHONPATH", None)
        ours = [f"PYTHONPATH={project / 'py'}", "ENCLAVE_FROM_REPO=1", f"PATH={project}"]
        # The rest of the environment after the repository's entries (Emacs needs HOME).
        rest = [f"{k}={v}" for k, v in env.items() if k not in ("PATH", "HOME")]
        rest.append(f"HOME={tmp_path / 'home'}")
        command = [str(project / "evil.sh"), *enclave_command()]
        (project / ".dir-locals.el").write_text(
            f"((nil . ((enclave-command . ({' '.join(json.dumps(a) for a in command)}))\n"
            f'         (exec-path . ("{project}"))\n'
            f"         (process-environment . ({' '.join(json.dumps(e) for e in ours + rest)}))\n"
            f'         (enclave-settings . (:model (:path "{not_a_model}"))))))\n'
        )
        return cls(project, file, markers, ours, env)

    def check_the_buffer_got_them(self, r: dict[str, Any]) -> None:
        """The buffer has the repository's values: the test attacks something."""
        assert r["local_command"] and r["local_command"][0] == str(self.project / "evil.sh"), r
        assert r["local_exec_path"] == [str(self.project)], r
        assert r["local_environment"][:3] == self.environment, r
        assert r["local_settings"] and "not-a-model" in r["local_settings"], r

    def check_enclave_got_none(self, r: dict[str, Any]) -> None:
        """None of the scripts ran, no Enclave process imported the sitecustomize (the
        stand-in for another language server may have), and an Enclave that runs has the
        user's command, environment and (fake) model."""
        ran = {m.name: m.read_text() for m in self.markers.iterdir()}
        assert "evil.sh" not in ran and "enclave" not in ran, ran
        assert not [argv for argv in ran.values() if "other_server" not in argv], ran
        if "server_command" not in r:
            return
        venv_bin = Path(enclave_command()[0]).parent
        assert r["server_command"] == [str(venv_bin / "enclave"), "serve"]
        assert not set(self.environment) & set(r["server_environment"]), r["server_environment"]
        assert r["status"]["state"] == "ready", r["status"]
        assert "not-a-model" not in json.dumps(r["status"])


@needs_emacs
@pytest.mark.parametrize("user_has", ["enclave", "absent"])
def test_dir_locals_cannot_choose_the_server_its_environment_or_settings(
    tmp_path: Path, user_has: str
) -> None:
    """The user accepts every local variable of a HostileRepo and names the server `enclave`.
    With `enclave` on the user's PATH, Eglot starts that one, with the user's environment and
    settings; without, M-x eglot fails rather than start the repository's."""
    repo = HostileRepo.make(tmp_path)
    env = {**repo.env, "ENCLAVE_TEST_EXPECT": user_has}
    if user_has == "absent":
        env["PATH"] = "/usr/bin:/bin"
    cmd = {"ENCLAVE_TEST_CMD": json.dumps(["enclave", "serve"])}
    r = run_script("dirlocals.el", tmp_path, repo.file, env, timeout=120, overrides=cmd)
    repo.check_the_buffer_got_them(r)
    if user_has == "absent":
        assert "server_command" not in r, r
        assert r["connect_error"] == "Enclave: enclave is not on your exec-path", r
    else:
        assert "server_command" in r and "connect_error" not in r, r
    repo.check_enclave_got_none(r)


@needs_emacs
@pytest.mark.parametrize(
    ("stats", "connect"),
    [(True, "command"), (False, "command"), (True, "hook")],
    ids=["stats-on", "stats-off", "eglot-ensure-hook"],
)
def test_completion_at_point_inserts_a_block(tmp_path: Path, stats: bool, connect: str) -> None:
    """The suggestion comes as one completion item whose text edit holds all of it; choosing
    it (the only item) inserts every line, and the server's copy follows. Choosing it also
    runs the item's command, once (Eglot 1.9 does not: the configuration does), and the
    server counts it; with statistics off the item has no command and nothing is sent.
    Connected by M-x eglot, or by the README's `eglot-ensure` hook on opening the file."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    block = "if x > 0:\n        return 1\n    return -1"
    env = fake_env(block + "\n")
    if not stats:
        settings = {**json.loads(env["ENCLAVE_TEST_SETTINGS"]), "stats": {"enabled": False}}
        env["ENCLAVE_TEST_SETTINGS"] = json.dumps(settings)
    env["ENCLAVE_TEST_CONNECT"] = connect
    r = run_script("completion.el", tmp_path, file, env, timeout=120)

    assert r["connected_by"] == connect
    [item] = r["completion_answer"]["items"]
    assert item["textEdit"]["newText"] == block
    assert item["label"] == "if x > 0:"
    assert r["inserted"] == block
    assert r["buffer"] == "def sign(x):\n    " + block + "\n"
    assert r["point"] == [4, len("    return -1")]
    ast.parse(r["buffer"])
    check_acceptance_reported(r, item, len(block) if stats else None)


@needs_emacs
@needs_company
def test_company_menu_inserts_the_block_and_reports_it_once(tmp_path: Path) -> None:
    """Company (company-capf over Eglot's completion), the usual Emacs completion UI: its menu
    holds Enclave's item, RET inserts the whole block through the item's text edit, and the
    acceptance reaches the server once."""
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    block = "if x > 0:\n        return 1\n    return -1"
    env = {**fake_env(block + "\n"), "ENCLAVE_TEST_UI": "company"}
    if IN_CI and not emacs_has("company"):
        pytest.fail("Company is not installed and CI is set: run `make editors`", pytrace=False)
    r = run_script("completion.el", tmp_path, file, env, timeout=120)
    [item] = r["completion_answer"]["items"]
    assert r["company_candidates"] == [item["label"]] == ["if x > 0:"]
    assert r["inserted"] == block
    assert r["buffer"] == "def sign(x):\n    " + block + "\n"
    check_acceptance_reported(r, item, len(block))


@needs_emacs
def test_corfu_popup_inserts_the_block_and_reports_it_once(tmp_path: Path) -> None:
    """Corfu 2.3 (completion-in-region over Eglot's completion-at-point): the only item,
    Enclave's, is inserted at once (Corfu's rule for a single candidate), the whole block
    through the item's text edit, and the acceptance reaches the server once."""
    corfu, compat = os.environ.get("ENCLAVE_CORFU"), os.environ.get("ENCLAVE_EMACS_COMPAT")
    if not (corfu and compat):
        pytest.skip("set ENCLAVE_CORFU and ENCLAVE_EMACS_COMPAT to checkouts of Corfu, Compat")
    file = tmp_path / "sign.py"
    file.write_text("def sign(x):\n    \n")
    block = "if x > 0:\n        return 1\n    return -1"
    env = {**fake_env(block + "\n"), "ENCLAVE_TEST_UI": "corfu"}
    env |= {"ENCLAVE_CORFU": corfu, "ENCLAVE_EMACS_COMPAT": compat}
    r = run_script("completion.el", tmp_path, file, env, timeout=120)
    [item] = r["completion_answer"]["items"]
    assert item["label"] == "if x > 0:" and r["corfu_candidates"] == []  # no popup left
    assert r["inserted"] == block
    assert r["buffer"] == "def sign(x):\n    " + block + "\n"
    check_acceptance_reported(r, item, len(block))


def check_acceptance_reported(r: dict[str, Any], item: dict[str, Any], chars: int | None) -> None:
    """The item's command went to the server once, and the server counted `chars` accepted
    characters (None: statistics off, no command and nothing sent)."""
    executed = r["executed"]
    session = r["stats"]["session"]
    if chars is None:
        assert "command" not in item and executed == [], executed
        assert r["stats"]["enabled"] is False and not session, r["stats"]  # {} read as nil
        assert "Statistics are off" in r["stats_buffer"]
        return
    [sent] = executed  # once: by the configuration, not again by Eglot
    command = item["command"]
    assert command["command"] == "enclave.lsp.accepted", command
    assert sent["params"] == {"command": command["command"], "arguments": command["arguments"]}
    assert sent["answer"] == {"acceptedChars": chars}
    assert (session["python"]["accepted"], session["python"]["charsAccepted"]) == (1, chars)
    session_text = r["stats_buffer"].split("This session:\n")[1].split("All time")[0]
    assert session_text.startswith("  python\n"), r["stats_buffer"]
    assert f"characters suggested {chars}, accepted {chars}" in session_text, r["stats_buffer"]


# -- the real default model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One Emacs session with the server's default settings, so the default model."""
    spec_ = provision.MODELS[provision.DEFAULT_SIZE]
    if not provision.verify(provision.model_path(spec_), spec_, quick=True).ok:
        pytest.fail(f"default model not provisioned: run `enclave model fetch --size {spec_.size}`")
    workdir = tmp_path_factory.mktemp("emacs-model")
    file = workdir / "sample.py"
    file.write_text(SAMPLE)
    env = {**real_env(), "ENCLAVE_DEBUG_PROMPTS": "1"}  # getStatus then shows the model's text
    # Under pytest-timeout (600 s): time out here first, with a clear message.
    return run_script("model.el", workdir, file, env, timeout=560), file


def generations(r: dict[str, Any], kind: str, status: str = "status") -> list[str]:
    """What the model wrote for the last prompts of `kind`, as the getStatus under `status`
    showed it."""
    return [p["text"] for p in r[status]["lastPrompts"] if p["kind"] == kind]


def check_docstring_refactor(
    r: dict[str, Any], before: str, texts: list[str], document: dict[str, Any]
) -> None:
    """The default model's *Add docstring* on `average`, chosen in an Emacs: refused with its
    reason, or applied to `average` alone with the docstring the model wrote (`texts`), and
    the server's copy of the buffer the buffer's text (`document`)."""
    if r["refactor_changed_buffer"] is False:  # the server refused the model's answer...
        said = r.get("refactor_error", "") + r["emacs_messages"]
        # ...and said why: in the resolve error, or (run as a command) in a message.
        assert DOCSTRING in said and ("failed" in said or "not applied" in said), said[-3000:]
        return
    assert r["refactor_changed_buffer"] is True
    new = r["buffer_after_refactor"]
    tree = ast.parse(new)
    average = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "average")
    assert ast.get_docstring(average), new
    # Only `average` changed, and its docstring is what the model wrote (the server begins
    # the answer with the header and the quotes: features/docstring.py).
    assert new.startswith(before[: before.index("def average")])
    doc = (ast.get_docstring(average, clean=False) or "").split("\n")[0].strip()
    assert doc and any(doc in text for text in texts), new
    assert document["server_sha256"] == document["buffer_sha256"]


@needs_emacs
@pytest.mark.model
@pytest.mark.slow
def test_completion_at_point_inserts_the_model_text(
    model_run: tuple[dict[str, Any], Path],
) -> None:
    r, _ = model_run
    spec_ = provision.MODELS[provision.DEFAULT_SIZE]
    assert r["status"]["modelInfo"]["path"] == str(provision.model_path(spec_))
    # One press, or (on a loaded machine) a second or third after an empty answer.
    assert r["completion_requests"] == 1 + len(r["empty_reasons"]), r["empty_reasons"]
    after = r["status_after_completion"]
    why = {k: after.get(k) for k in ("state", "lastEmptyReason", "recent")}
    why["empty_reasons"] = r["empty_reasons"]
    assert len(r["completion_answer"]["items"]) == 1, why
    [item] = r["completion_answer"]["items"]
    new_text = item["textEdit"]["newText"]
    assert new_text.strip(), item
    # What completion-at-point inserted is the server's suggestion...
    assert r["line_before"] == "    return "
    assert r["inserted"] == new_text
    assert r["buffer_after_completion"] == SAMPLE.replace(
        "    return\n", "    return " + new_text + "\n", 1
    )
    # ...and that is text the model generated for this request.
    assert any(new_text.strip() in text for text in generations(r, "user")), r["status"]
    ast.parse(r["buffer_after_completion"])


@needs_emacs
@pytest.mark.model
@pytest.mark.slow
def test_real_review_reaches_flymake(model_run: tuple[dict[str, Any], Path]) -> None:
    r, _ = model_run
    findings = r["review_result"]["findings"]
    assert isinstance(findings, int) and generations(r, "action"), r["status"]
    assert len(r["review_diagnostics"]) == findings
    assert all(msg.startswith("enclave [") for _, msg, _ in r["review_diagnostics"])


@needs_emacs
@pytest.mark.model
@pytest.mark.slow
def test_real_refactor_through_enclave_code_actions(
    model_run: tuple[dict[str, Any], Path],
) -> None:
    r, _ = model_run
    texts = generations(r, "action")
    check_docstring_refactor(r, r["buffer_after_completion"], texts, r["document"])


@needs_emacs
@pytest.mark.model
@pytest.mark.slow
def test_the_model_worker_ends_with_emacs(model_run: tuple[dict[str, Any], Path]) -> None:
    """Eglot 1.9 kills the server right after `exit`; the model worker must not outlive it."""
    r, _ = model_run
    pid = r["status"]["workerPid"]
    assert isinstance(pid, int) and gone(pid), f"model worker {pid} still running"
