"""Which Python functions can be run to check that a refactor kept their behaviour, and the run.

`purity` is a static, conservative filter on the module's AST: a module-level function with a
few plain parameters (annotations, when present, of builtin types), no I/O, no globals written,
that reads only its own names, safe builtins, safe standard modules and module-level constants,
and calls only functions of its package that pass the same filter. `compare` runs the original
and the refactored function on generated inputs in a subprocess (bench/actions_exec.py) with no
network (the test suite's egress guard), no writes, no processes, a memory limit and a timeout.
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.actions_tasks import words

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "actions_exec.py"
GUARD_DIR = HERE.parent / "tests" / "egress_guard"


SAFE_BUILTINS = words(
    "abs all any ascii bin bool bytes callable chr dict divmod enumerate filter float format",
    "frozenset getattr hasattr hex int isinstance issubclass iter len list map max min next",
    "oct ord pow range repr reversed round set slice sorted str sum tuple type zip object",
    "NotImplemented Ellipsis None True False __debug__",
) | {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
SAFE_MODULES = words(
    "re string math typing typing_extensions itertools functools operator",
    "collections collections.abc unicodedata keyword textwrap difflib enum numbers",
    "decimal fractions json base64 binascii html fnmatch shlex gettext",
)
# Methods that read: calls allowed on module-level constants (a compiled regex, a table).
READ_METHODS = words(
    "match fullmatch search sub subn findall finditer split get keys values items",
    "copy format join startswith endswith count index lower upper strip lstrip",
    "rstrip replace partition rpartition splitlines encode decode casefold",
    "isidentifier isdigit isalpha isalnum isspace",
)
SIMPLE_TYPES = words(
    "str int float bool bytes None list dict tuple set frozenset object",
    "Optional Union List Dict Tuple Set FrozenSet Sequence Iterable Mapping Any",
    "MutableMapping MutableSequence Collection t te typing type Type",
)
MAX_PARAMS = 4


@dataclass
class Purity:
    ok: bool
    reason: str = ""
    params: list[str] = field(default_factory=list)


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    imports: dict[str, str]  # local name -> module
    from_imports: dict[str, tuple[str, str, int]]  # local name -> (module, name, level)
    functions: dict[str, ast.FunctionDef]
    classes: set[str]
    constants: set[str]


def _module(path: Path, source: str | None = None) -> _Module | None:
    try:
        tree = ast.parse(path.read_text("utf-8") if source is None else source)
    except (OSError, SyntaxError, ValueError):
        return None
    mod = _Module(path, tree, {}, {}, {}, set(), set())
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                mod.imports[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                mod.from_imports[a.asname or a.name] = (node.module or "", a.name, node.level)
        elif isinstance(node, ast.FunctionDef):
            mod.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            mod.classes.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            mod.constants |= {t.id for t in targets if isinstance(t, ast.Name)}
    return mod


def _annotation_ok(node: ast.expr | None) -> bool:
    if node is None:
        return True
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in SIMPLE_TYPES:
            return False
        if isinstance(sub, ast.Attribute) and sub.attr not in SIMPLE_TYPES:
            return False
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            try:
                inner = ast.parse(sub.value, mode="eval").body
            except SyntaxError:
                return False
            if not _annotation_ok(inner):
                return False
    return True


def _bound_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    names |= {a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None}
    for sub in ast.walk(fn):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.FunctionDef | ast.ClassDef | ast.ExceptHandler) and sub is not fn:
            names.add(sub.name or "")
    return names


def _annotations(fn: ast.FunctionDef) -> list[ast.expr]:
    args = fn.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    found = [a.annotation for a in every if a is not None and a.annotation is not None]
    found += [n.annotation for n in ast.walk(fn) if isinstance(n, ast.AnnAssign)]
    return found + ([fn.returns] if fn.returns is not None else [])


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


class _Checker:
    def __init__(self, package_root: Path, check_annotations: bool = True) -> None:
        self.root = package_root
        # The inputs come from the original's annotations; a refactor may annotate freely.
        self.check_annotations = check_annotations
        self.modules: dict[Path, _Module | None] = {}
        self.verdicts: dict[tuple[Path, str], str] = {}

    def module(self, path: Path) -> _Module | None:
        if path not in self.modules:
            self.modules[path] = _module(path)
        return self.modules[path]

    def resolve_from(self, mod: _Module, module: str, level: int) -> Path | None:
        if level == 0:
            return None
        base = mod.path.parent
        for _ in range(level - 1):
            base = base.parent
        target = base.joinpath(*module.split(".")) if module else base
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if candidate.is_file() and self.root in candidate.parents:
                return candidate
        return None

    def why_impure(self, mod: _Module, fn: ast.FunctionDef, top: bool = True) -> str:
        """ "" when the function is pure by this filter, else the reason."""
        key = (mod.path, fn.name)
        if key in self.verdicts:
            return self.verdicts[key]
        self.verdicts[key] = ""  # recursion: assume pure while checking
        reason = self._check(mod, fn, top)
        self.verdicts[key] = reason
        return reason

    def _check(self, mod: _Module, fn: ast.FunctionDef, top: bool) -> str:
        if fn.decorator_list:
            return "decorated"
        args = fn.args
        positional = [*args.posonlyargs, *args.args]
        if top and not 1 <= len(positional) <= MAX_PARAMS:
            return f"{len(positional)} positional parameters"
        if len(args.kw_defaults) != len(args.kwonlyargs) or None in args.kw_defaults:
            return "a keyword-only parameter without a default"
        if positional and positional[0].arg in ("self", "cls"):
            return "a method"
        if self.check_annotations and not all(_annotation_ok(a.annotation) for a in positional):
            return "a parameter type that is not a builtin type"
        local = _bound_names(fn)
        # Annotations are read, never run, by the comparison: the names in them do not count.
        in_annotations = {id(n) for a in _annotations(fn) for n in ast.walk(a)}
        for sub in ast.walk(fn):
            if id(sub) in in_annotations:
                continue
            if isinstance(sub, ast.Global | ast.Nonlocal):
                return "global/nonlocal"
            if isinstance(sub, ast.Yield | ast.YieldFrom | ast.Await | ast.AsyncFunctionDef):
                return "a generator or coroutine"
            if isinstance(sub, ast.Attribute | ast.Subscript) and isinstance(
                sub.ctx, ast.Store | ast.Del
            ):
                root = _root_name(sub)
                if root is None or root not in local:
                    return "writes to something it did not create"
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id not in local:
                problem = self._free_name(mod, fn, sub.id)
                if problem:
                    return problem
            if isinstance(sub, ast.Call):
                problem = self._call(mod, sub, local)
                if problem:
                    return problem
        return ""

    def _free_name(self, mod: _Module, fn: ast.FunctionDef, name: str) -> str:
        if name in mod.functions:
            inner = self.why_impure(mod, mod.functions[name], top=False)
            return f"calls {name}, which {inner}" if inner else ""
        if name in mod.imports:
            return "" if mod.imports[name] in SAFE_MODULES else f"uses module {mod.imports[name]}"
        if name in mod.from_imports:
            module, orig, level = mod.from_imports[name]
            if level == 0:
                return "" if module in SAFE_MODULES else f"uses {module}.{orig}"
            path = self.resolve_from(mod, module, level)
            other = self.module(path) if path is not None else None
            if other is None:
                return f"uses {name} (not found)"
            if orig in other.functions:
                inner = self.why_impure(other, other.functions[orig], top=False)
                return f"calls {name}, which {inner}" if inner else ""
            return "" if orig in other.constants or orig in other.classes else f"uses {name}"
        if name in mod.classes or name in mod.constants:
            return ""
        if name in SAFE_BUILTINS:
            return ""
        return f"uses {name}"

    def _call(self, mod: _Module, call: ast.Call, local: set[str]) -> str:
        func = call.func
        if isinstance(func, ast.Name) and func.id not in local:
            if func.id in mod.classes:
                return f"constructs {func.id}"
            if func.id in dir(builtins) and func.id not in SAFE_BUILTINS:
                return f"calls {func.id}()"
        if isinstance(func, ast.Attribute):
            root = _root_name(func)
            module_level = root is not None and root not in local
            if module_level and root in mod.constants and func.attr not in READ_METHODS:
                return f"calls {root}.{func.attr}() on a module-level value"
        return ""


def purity(package_root: Path, path: Path, name: str) -> Purity:
    """Whether module-level function `name` of `path` (in the package at `package_root`) can
    be run on generated inputs, with the reason when not."""
    return _verdict(_Checker(package_root), path, name)


def _verdict(checker: _Checker, path: Path, name: str) -> Purity:
    mod = checker.module(path)
    if mod is None:
        return Purity(False, "the module does not parse")
    fn = mod.functions.get(name)
    if fn is None:
        return Purity(False, "not a module-level function")
    reason = checker.why_impure(mod, fn)
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    return Purity(not reason, reason, params)


def refactored_purity(package_root: Path, path: Path, name: str, new_code: str) -> Purity:
    """The same filter on a refactored function, read in its module (the model may have added
    a call or an import that the original did not have): the new code is appended to the
    module's source, so its definitions win, as they would in the edited module."""
    try:
        new_tree = ast.parse(textwrap.dedent(new_code))
    except SyntaxError as exc:
        return Purity(False, f"does not parse: {exc.msg}")
    if any(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.walk(new_tree)):
        return Purity(False, "imports something")
    for node in new_tree.body:  # definitions only, and strings (a docstring, `...`)
        constant = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if not isinstance(node, ast.FunctionDef) and not constant:
            return Purity(False, "runs statements beside its definitions")
    checker = _Checker(package_root, check_annotations=False)
    source = path.read_text("utf-8") + "\n\n" + textwrap.dedent(new_code) + "\n"
    checker.modules[path] = _module(path, source)
    return _verdict(checker, path, name)


def compare(
    module: str,
    name: str,
    original: str,
    refactored: str,
    *,
    seed: int,
    examples: int = 200,
    timeout_s: float = 90.0,
) -> dict[str, Any]:
    """Run both functions on the same generated inputs in a sandboxed subprocess; the runner's
    verdict (`same`, `differs`, `lost`, `no_inputs`, `error`) plus `egress`/`blocked` records."""
    spec = {
        "module": module,
        "name": name,
        "original": original,
        "refactored": refactored,
        "seed": seed,
        "examples": examples,
    }
    with tempfile.TemporaryDirectory(prefix="enclave-bench-run-") as tmp:
        log = Path(tmp) / "egress.log"
        log.write_text("")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": tmp,
            "PYTHONPATH": str(GUARD_DIR),
            "ENCLAVE_EGRESS_LOG": str(log),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

        try:
            proc = subprocess.run(
                [sys.executable, str(RUNNER)],
                input=json.dumps(spec),
                capture_output=True,
                text=True,
                cwd=tmp,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"verdict": "error", "error": f"timed out after {timeout_s:.0f} s"}
        # One line per attempt, "<pid> <argv> <what>": the distinct whats.
        egress = sorted({line.split("] ", 1)[-1] for line in log.read_text().splitlines() if line})
    try:
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"verdict": "error", "error": (proc.stderr or proc.stdout)[-800:], "egress": egress}
    result["egress"] = egress
    if egress:
        result["verdict"] = "differs" if result.get("verdict") == "same" else result["verdict"]
    return result
