"""The messages between the server and its model worker: what is encoded decodes to the same
typed message, and anything else is refused with a ProtocolError that names the field (and
the job, when its id can be read) without repeating the value."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.model.protocol import (
    Cancel,
    Command,
    CompletionJob,
    Event,
    GenerateJob,
    GenerationResult,
    GenerationStats,
    JobDone,
    JobFailed,
    LoadFailed,
    LoadSpec,
    ModelInfo,
    ProtocolError,
    Ready,
    RunJob,
    ScoreJob,
    Shutdown,
    decode_command,
    decode_event,
    encode,
)

finite = st.floats(allow_nan=False, allow_infinity=False)
ids = st.integers(min_value=0, max_value=2**53)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Any value of a message field's type."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return st.builds(tp, **{k: _strategy(v) for k, v in typing.get_type_hints(tp).items()})
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(_strategy(args[0]), max_size=4).map(tuple)
        return st.tuples(*(_strategy(a) for a in args))
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in args))
    if origin is dict:
        return st.dictionaries(st.text(), json_values, max_size=4)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(),
        int: st.integers(min_value=-(2**63), max_value=2**63),
        float: finite,
        bool: st.booleans(),
        type(None): st.none(),
    }
    return simple[tp]


jobs = st.one_of(_strategy(CompletionJob), _strategy(GenerateJob), _strategy(ScoreJob))
commands: st.SearchStrategy[Command] = st.one_of(
    _strategy(LoadSpec),
    st.builds(RunJob, ids, jobs),
    _strategy(Cancel),
    st.just(Shutdown()),
)
events: st.SearchStrategy[Event] = st.one_of(
    _strategy(Ready), _strategy(LoadFailed), _strategy(JobDone), _strategy(JobFailed)
)


@settings(max_examples=300)
@given(commands)
def test_every_command_decodes_to_itself(command: Command) -> None:
    line = encode(command)
    assert "\n" not in line  # one message, one line
    assert decode_command(line) == command


@settings(max_examples=300)
@given(events)
def test_every_event_decodes_to_itself(event: Event) -> None:
    line = encode(event)
    assert "\n" not in line
    assert decode_event(line) == event


def _wire(command: Command | Event) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(encode(command))
    return raw


@given(_strategy(CompletionJob), st.data())
def test_a_field_left_out_takes_the_dataclass_default(job: CompletionJob, data: Any) -> None:
    """Defaults live in one place: the dataclass."""
    raw = _wire(RunJob(3, job))
    optional = [
        f.name for f in dataclasses.fields(CompletionJob) if f.name not in ("prefix", "suffix")
    ]
    dropped = data.draw(st.lists(st.sampled_from(optional), unique=True))
    for name in dropped:
        del raw["job"][name]
    decoded = decode_command(json.dumps(raw))
    defaults = CompletionJob(job.prefix, job.suffix)
    expected = dataclasses.replace(job, **{n: getattr(defaults, n) for n in dropped})
    assert decoded == RunJob(3, expected)


def test_a_minimal_job_is_the_dataclass_default() -> None:
    for tag, cls, needed in (
        ("complete", CompletionJob, {"prefix": "a", "suffix": "b"}),
        ("generate", GenerateJob, {"prompt": "p"}),
    ):
        line = json.dumps({"op": tag, "id": 1, "job": needed})
        assert decode_command(line) == RunJob(1, cls(**needed))


# -- attacks: every field, every wrong kind of value ----------------------------------------

SECRET = "do-not-echo-c2VjcmV0"
WRONG = {  # a JSON value of each kind
    "str": SECRET,
    "int": 7,
    "float": 0.5,
    "bool": True,
    "null": None,
    "list": [SECRET],
    "object": {"k": SECRET},
}


def _kinds(tp: Any) -> set[str]:
    """The kinds of JSON value a field's type may be written as."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(a) for a in typing.get_args(tp)))
    if dataclasses.is_dataclass(tp) or origin is dict:
        return {"object"}
    if origin is tuple:
        return {"list"}
    simple = {str: "str", int: "int", bool: "bool", type(None): "null"}
    return {"int", "float"} if tp is float else {simple[tp]}


def _samples() -> list[tuple[str, Command | Event, str, Any]]:
    """(tag, a valid message, one of its fields, a value of a kind that field refuses)."""
    messages: list[Command | Event] = [
        RunJob(5, CompletionJob("p", "s", context_files=(("a.py", "x"),))),
        RunJob(5, GenerateJob("p", json_schema={"type": "object"})),
        LoadSpec("/m.gguf", 4096, 2),
        Cancel(5, True),
        Ready(ModelInfo("m", "qwen2", "qwen2.5-coder", 4096, 1.0)),
        LoadFailed("x"),
        JobDone(5, GenerationResult("t", GenerationStats(prompt_ms=1.0))),
        JobFailed(5, "x"),
    ]
    out = []
    for message in messages:
        target = message.job if isinstance(message, RunJob) else message
        for name, tp in typing.get_type_hints(type(target)).items():
            for kind, value in WRONG.items():
                if kind not in _kinds(tp):
                    out.append((type(target).__name__, message, name, value))
    return out


def _decode(raw: dict[str, Any]) -> Command | Event:
    line = json.dumps(raw)
    return decode_event(line) if "event" in raw else decode_command(line)


@pytest.mark.parametrize(("owner", "message", "name", "value"), _samples())
def test_a_value_of_the_wrong_kind_is_refused_naming_the_field(
    owner: str, message: Command | Event, name: str, value: Any
) -> None:
    raw = _wire(message)
    (raw["job"] if isinstance(message, RunJob) else raw)[name] = value
    with pytest.raises(ProtocolError) as caught:
        _decode(raw)
    assert name in str(caught.value)
    assert SECRET not in str(caught.value)  # it may be document text
    if name != "id" and isinstance(message, RunJob | JobDone | JobFailed):
        assert caught.value.id == 5  # the job can still be answered


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_numbers_that_are_not_finite_are_refused(literal: str) -> None:
    """A NaN or infinite deadline would never expire."""
    line = '{"op": "complete", "id": 9, "job": {"prefix": "", "suffix": "", "deadline_s": %s}}'
    with pytest.raises(ProtocolError) as caught:
        decode_command(line % literal)
    assert caught.value.id == 9 and "deadline_s" in str(caught.value)


def test_a_job_with_a_non_finite_number_is_not_encoded() -> None:
    with pytest.raises(ProtocolError):
        encode(RunJob(1, CompletionJob("", "", deadline_s=float("nan"))))


@pytest.mark.parametrize(
    ("line", "job_id"),
    [
        ("", None),
        ("not json", None),
        ("[1, 2]", None),
        ('"op"', None),
        ("{}", None),
        ('{"op": "explode"}', None),
        ('{"op": 3}', None),
        ('{"op": "complete", "job": {"prefix": "", "suffix": ""}}', None),
        ('{"op": "complete", "id": "7", "job": {"prefix": "", "suffix": ""}}', None),
        ('{"op": "complete", "id": true, "job": {"prefix": "", "suffix": ""}}', None),
        ('{"op": "complete", "id": 7}', 7),
        ('{"op": "complete", "id": 7, "job": []}', 7),
        ('{"op": "complete", "id": 7, "job": {"prefix": ""}}', 7),
        ('{"op": "complete", "id": 7, "job": {"prefix": "", "suffix": "", "evil": 1}}', 7),
        ('{"op": "complete", "id": 7, "job": {"prefix": "", "suffix": ""}, "more": 1}', 7),
        ('{"op": "generate", "id": 7, "job": {"prefix": "", "suffix": ""}}', 7),
        (
            '{"op": "complete", "id": 7, "job": {"prefix": "", "suffix": "", '
            '"context_files": [["a.py"]]}}',
            7,
        ),
        (
            '{"op": "complete", "id": 7, "job": {"prefix": "", "suffix": "", '
            '"context_files": [["a.py", "x", "y"]]}}',
            7,
        ),
        (
            '{"op": "complete", "id": 7, "job": {"prefix": "", "suffix": "", '
            '"context_files": [{"a.py": "x"}]}}',
            7,
        ),
        ('{"op": "load", "path": "/m"}', None),
        ('{"op": "cancel"}', None),
        ('{"op": "shutdown", "now": true}', None),
        ("[" * 100_000, None),  # deeper than the parser's recursion
        ('{"op": "complete", "id": 7, "job": ' + "[" * 100_000 + "]" * 100_000 + "}", None),
    ],
)
def test_malformed_commands_are_refused(line: str, job_id: int | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_command(line)
    assert caught.value.id == job_id
    if job_id is not None:
        assert caught.value.op in ("complete", "generate")
    elif '"op": "load"' in line or '"op": "cancel"' in line:
        assert caught.value.op in ("load", "cancel")  # a load can still be answered


@pytest.mark.parametrize(
    ("line", "job_id"),
    [
        ('{"event": "result", "id": 4}', 4),
        ('{"event": "result", "id": 4, "result": {"text": 1}}', 4),
        ('{"event": "result", "id": 4, "result": {"text": "", "stats": {"job_id": "x"}}}', 4),
        ('{"event": "result", "id": "4", "result": {"text": ""}}', None),
        ('{"event": "error", "id": 4}', 4),
        ('{"event": "ready"}', None),
        ('{"event": "ready", "info": {"path": "m"}}', None),
        ('{"event": "nonsense", "id": 4}', None),
        ('{"op": "complete"}', None),
    ],
)
def test_malformed_events_are_refused(line: str, job_id: int | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_event(line)
    assert caught.value.id == job_id


def test_commands_and_events_do_not_cross() -> None:
    """A command read as an event (or the reverse) is refused, not misread."""
    with pytest.raises(ProtocolError):
        decode_event(encode(RunJob(1, CompletionJob("", ""))))
    with pytest.raises(ProtocolError):
        decode_command(encode(JobFailed(1, "x")))
