"""Runs an original and a refactored Python function on the same generated inputs and compares
what they do. Started by bench/actions_pure.compare as a subprocess, with the test suite's
egress guard on PYTHONPATH (no network), in an empty temporary folder; reads its job as JSON on
stdin, prints one JSON line: {"verdict": same | differs | lost | no_inputs | error, ...}.

Behaviour = the return value (equal and of the same type), or the exception's type, and the
arguments afterwards (a function may change a list it was given). While either function runs,
an audit hook refuses writes, process creation and other side effects; each call has 1 s.

Inputs: hypothesis strategies from the parameters' annotations (builtin types only; the bench
chose such functions); a parameter without one (or typed Any/object) gets the type, among a
few, with which the original raises least on probe values (a coordinate search, seeded)."""

from __future__ import annotations

import collections
import copy
import importlib
import json
import os
import random
import resource
import signal
import sys
import textwrap
import types
import typing
from collections.abc import Callable
from typing import Any

PROBE_POOLS: dict[str, list[Any]] = {
    "str": [
        "",
        "a",
        "abc",
        "Hello World",
        "x=y=z",
        "--opt",
        "a,b;c",
        " pad ",
        "Äöü",
        "0",
        "-1",
        "a\nb",
        "\x1b[31mred\x1b[0m",
        "foo_bar",
        "Foo.Bar",
        "-",
    ],
    "int": [0, 1, -1, 2, 3, 10, -7, 255, 1000],
    "bool": [True, False],
    "None": [None],
    "float": [0.0, 1.5, -2.25, 1e10],
    "list[str]": [[], ["a"], ["a", "b"], ["--x", "y"], ["", " "]],
    "list[int]": [[], [1], [3, 1, 2], [-1, 0]],
    "dict[str,str]": [{}, {"a": "b"}, {"x": "1", "y": "2"}],
    "tuple[str,...]": [(), ("a",), ("a", "b")],
    "type": [
        typing.List[int],  # noqa: UP006 - the typing aliases are inputs too
        typing.Sequence[str],
        collections.deque,
        int,
        str,
        list,
        dict,
        tuple,
        bool,
        type(None),
        list[int],
        dict[str, int],
        int | None,
        tuple[int, ...],
        typing.Any,
    ],
}
CALL_SECONDS = 1.0
PROBES = 24
ROUNDS = 2
JOINT_TRIES = 60
KEEP = 0.75  # a kind that runs at least this share as well as the best one is kept too
MIN_OK_SHARE = 0.2  # inputs the original must run without raising, else "no_inputs"
BLOCKED_EVENTS = (
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chmod",
    "os.chown",
    "os.truncate",
    "os.symlink",
    "os.link",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.kill",
    "os.putenv",
    "os.unsetenv",
    "shutil.",
    "subprocess.",
    "socket.",
    "ctypes.",
    "webbrowser.",
    "urllib.",
    "http.",
)


class CallTimeout(BaseException):
    pass


armed = False
blocked: list[str] = []


def _refuse(what: str) -> None:
    if what not in blocked:
        blocked.append(what)
    raise PermissionError(f"bench sandbox: {what} refused")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not armed:
        return
    if event == "open" and args[0] == os.environ.get("ENCLAVE_EGRESS_LOG"):
        return  # the egress guard recording an attempt
    if event == "open":
        mode, flags = (args[1] if len(args) > 1 else "r") or "r", args[2] if len(args) > 2 else 0
        writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
        if any(c in str(mode) for c in "wax+") or (isinstance(flags, int) and flags & writes):
            _refuse(f"open({args[0]!r}, {mode!r})")
    elif event.startswith(BLOCKED_EVENTS):
        _refuse(event)


def _alarm(signum: int, frame: Any) -> None:
    raise CallTimeout


def call(fn: Callable[..., Any], args: list[Any]) -> tuple[str, Any]:
    """("ok", result) / ("raise", exception type name) / ("timeout", None)."""
    global armed
    signal.setitimer(signal.ITIMER_REAL, CALL_SECONDS)
    armed = True
    try:
        return "ok", fn(*args)
    except CallTimeout:
        return "timeout", None
    except BaseException as exc:  # the function's own behaviour, whatever it raises
        return "raise", type(exc).__name__
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def same_value(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    try:
        if bool(a == b):
            return True
    except Exception:
        pass
    return repr(a) == repr(b)  # NaN, objects without __eq__ that print the same


def define(module: types.ModuleType, source: str, name: str) -> Callable[..., Any] | None:
    """The function `name` defined by `source` in a copy of the module's namespace. The
    source runs with the audit hook armed: a statement beside the definitions runs here."""
    global armed
    namespace = dict(vars(module))
    namespace.pop(name, None)
    code = compile(textwrap.dedent(source), f"<{name}>", "exec")
    armed = True
    try:
        exec(code, namespace)
    finally:
        armed = False
    fn = namespace.get(name)
    return fn if callable(fn) else None


def pool_for(hint: Any) -> str:
    """The probe pool that best stands for an annotation."""
    origin = typing.get_origin(hint) or hint
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return pool_for(args[0]) if args else "None"
    table = {
        str: "str",
        int: "int",
        bool: "bool",
        float: "float",
        type(None): "None",
        list: "list[str]",
        dict: "dict[str,str]",
        tuple: "tuple[str,...]",
        type: "type",
    }
    if origin in table:
        return table[origin]
    name = getattr(origin, "__name__", "")
    if name in ("Sequence", "Iterable", "MutableSequence", "Collection"):
        return "list[str]"
    if name in ("Mapping", "MutableMapping"):
        return "dict[str,str]"
    return ""


def strategy_for(kind: str) -> Any:
    from hypothesis import strategies as st

    edge = st.sampled_from(PROBE_POOLS[kind])
    more = {
        "str": st.text(max_size=24),
        "int": st.integers(-1000, 1000),
        "float": st.floats(-1e6, 1e6, allow_nan=False),
        "list[str]": st.lists(st.text(max_size=8), max_size=5),
        "list[int]": st.lists(st.integers(-50, 50), max_size=6),
        "dict[str,str]": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=4),
        "tuple[str,...]": st.lists(st.text(max_size=6), max_size=4).map(tuple),
    }.get(kind)
    return edge if more is None else st.one_of(edge, more)


def one_of(strategies: list[Any]) -> Any:
    from hypothesis import strategies as st

    return strategies[0] if len(strategies) == 1 else st.one_of(*strategies)


def choose_kinds(
    fn: Callable[..., Any], params: list[str], fixed: dict[str, str], rng: random.Random
) -> tuple[dict[str, list[str]], float]:
    """The probe pools each parameter draws from (`fixed` ones: their own). A coordinate
    search finds the kinds with which the original raises least; then every kind that runs
    about as well, the others held there, is kept too: a function that accepts anything
    (`getattr(x, ...)`) is then tried on strings and types and lists alike, not on the first
    kind that happened not to raise. Returns the kinds and the share of probes that ran."""
    kinds = {p: fixed.get(p, "str") for p in params}
    free = [p for p in params if p not in fixed]

    def score(candidate: dict[str, str]) -> float:
        local = random.Random(rng.random())
        ok = 0
        for _ in range(PROBES):
            args = [copy.deepcopy(local.choice(PROBE_POOLS[candidate[p]])) for p in params]
            ok += call(fn, args)[0] == "ok"
        return ok / PROBES

    best = score(kinds)
    for _ in range(ROUNDS):
        for p in free:
            for kind in PROBE_POOLS:
                trial = {**kinds, p: kind}
                s = score(trial)
                if s > best:
                    best, kinds = s, trial
    # Parameters that only work together (`cls(**obj)`) stay stuck one at a time: random
    # joint choices then.
    for _ in range(JOINT_TRIES if best < MIN_OK_SHARE and len(free) > 1 else 0):
        trial = {**kinds, **{p: rng.choice(sorted(PROBE_POOLS)) for p in free}}
        s = score(trial)
        if s > best:
            best, kinds = s, trial
    chosen = {p: [k] for p, k in kinds.items()}
    for p in free:
        chosen[p] += [
            k for k in PROBE_POOLS if k != kinds[p] and score({**kinds, p: k}) >= KEEP * best
        ]
    return chosen, best


def compare(
    f0: Callable[..., Any], f1: Callable[..., Any], strategies: list[Any], seed: int, n: int
) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    tally = {"examples": 0, "original_raised": 0}

    @hseed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )
    @given(st.tuples(*strategies))
    def check(args: tuple[Any, ...]) -> None:
        a0, a1 = copy.deepcopy(list(args)), copy.deepcopy(list(args))
        o0, o1 = call(f0, a0), call(f1, a1)
        tally["examples"] += 1
        tally["original_raised"] += o0[0] != "ok"
        same = o0[0] == o1[0] and (o0[0] != "ok" or same_value(o0[1], o1[1]))
        if o0[0] == "raise":
            same = same and o0[1] == o1[1]
        if not same or not all(same_value(x, y) for x, y in zip(a0, a1, strict=True)):
            shown = (repr(args)[:300], repr(o0)[:200], repr(o1)[:200])
            raise AssertionError("input %s: original %s, refactored %s" % shown)  # noqa: UP031

    try:
        check()
    except AssertionError as exc:
        return {"verdict": "differs", "counterexample": str(exc), **tally}
    return {"verdict": "same", **tally}


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))
    signal.signal(signal.SIGALRM, _alarm)
    spec = json.loads(sys.stdin.read())
    module = importlib.import_module(spec["module"])
    name: str = spec["name"]
    import inspect

    import hypothesis  # noqa: F401 - imported before the audit hook is armed

    sys.addaudithook(_audit)
    f0 = define(module, spec["original"], name)
    if f0 is None:
        raise SystemExit(f"the original does not define {name}")
    try:
        f1 = define(module, spec["refactored"], name)
    except BaseException as exc:  # whatever the refactored source raises while defined
        error = f"{type(exc).__name__}: {exc}"
        print(json.dumps({"verdict": "lost", "error": error, "blocked": blocked}))
        return
    if f1 is None:
        print(json.dumps({"verdict": "lost", "error": f"the refactor defines no {name}"}))
        return
    params = [
        p.name
        for p in inspect.signature(f0).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    try:
        hints = typing.get_type_hints(f0)
    except Exception:
        hints = {}
    fixed = {p: pool_for(hints[p]) for p in params if p in hints and pool_for(hints[p])}
    kinds, ok_share = choose_kinds(f0, params, fixed, random.Random(spec["seed"]))
    report: dict[str, Any] = {"kinds": kinds, "probe_ok_share": round(ok_share, 3)}
    if ok_share < MIN_OK_SHARE:
        print(json.dumps({"verdict": "no_inputs", **report}))
        return
    strategies = [one_of([strategy_for(k) for k in kinds[p]]) for p in params]
    result = compare(f0, f1, strategies, int(spec["seed"]), int(spec["examples"]))
    print(json.dumps({**result, **report, "blocked": blocked}))


if __name__ == "__main__":
    main()
