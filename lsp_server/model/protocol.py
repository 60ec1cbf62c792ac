"""Jobs, results, and the messages between the language server and its model worker process.

A leaf module: it imports nothing of the project. Every message is one JSON line, written by
`encode` and read by `decode_command` (the worker) or `decode_event` (the server), so the two
sides cannot drift apart. Decoding is strict: an unknown field, a missing required field, a
value of the wrong type or a number that is not finite is a `ProtocolError` naming the field
(never its value: it may be document text). A field left out takes its dataclass default, the
one place for defaults.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

# Benchmarks compare against raw llama-cpp-python on the very same prompts.
DEBUG_PROMPTS = os.environ.get("ENCLAVE_DEBUG_PROMPTS") == "1"


@dataclass(frozen=True)
class CompletionJob:
    """A fill-in-the-middle request. The worker builds the prompt itself because only it has
    the model's tokenizer, so the budget is counted in the model's own tokens."""

    prefix: str
    suffix: str
    path: str = ""
    extra_context: str = ""
    budget: int = 1024
    max_tokens: int = 48
    stop: tuple[str, ...] = ()
    deadline_s: float = 30.0
    # Text the user typed since `prefix` ended, fed after the FIM middle marker: the prompt
    # before it stays identical while typing, so its evaluated tokens are reused.
    middle: str = ""
    # Blanks typed after `middle` that the prompt leaves out; the server strips them from the
    # start of the answer (token healing for whitespace). Not used by the worker.
    heal: str = ""
    reuse_cache: bool = True  # False: evaluate the whole prompt afresh (the stateless arm)
    kind: str = "user"  # user | prefetch | warmup
    # Other files of the repository (path, content), least relevant first, within
    # context_budget tokens of `budget` (lsp_server/context/gather.py).
    context_files: tuple[tuple[str, str], ...] = ()
    context_budget: int = 0
    repo: str = ""
    comment_prefix: str = "#"
    # The document (URI) the prompt is for: the worker keeps the model's state per document,
    # so coming back to a file does not evaluate its prompt again.
    document: str = ""
    # Where a block answer ends (model/block_end.py, the rule the server cuts it by): the
    # worker stops generating there. "" = no rule.
    block_end: str = ""
    block_open: tuple[str, ...] = ()
    block_close: tuple[str, ...] = ()
    # Other answers wanted besides the greedy one (an invoked request: items to cycle).
    alternatives: int = 0


@dataclass(frozen=True)
class GenerateJob:
    """A plain prompt (e.g. a chat-formatted instruction) for explain, refactor and review.
    With `json_schema`, decoding is constrained to JSON matching it (llama.cpp grammar)."""

    prompt: str
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    deadline_s: float = 120.0
    json_schema: dict[str, Any] | None = None
    reuse_cache: bool = True
    kind: str = "action"
    # Check prompt-lookup drafts while generating (model/lookup.py): for answers that copy
    # much of the prompt (refactors); not with a json_schema.
    lookup: bool = False
    # A JSON list answer ends before an item equal to an earlier one (model/json_items.py).
    stop_repeats: bool = False


@dataclass(frozen=True)
class ScoreJob:
    """How likely the model finds each token of `text` after `context` (no generation): for
    review's slip pass (features/slips.py). The worker keeps the end of `context` that fits."""

    context: str
    text: str
    deadline_s: float = 60.0
    alternatives: int = 3  # the model's most likely tokens recorded at each position
    kind: str = "action"
    reuse_cache: bool = True
    max_tokens: int = 0  # nothing is generated (the worker's stats report every job's)


Job = CompletionJob | GenerateJob | ScoreJob


def first_stop(text: str, stop: Sequence[str]) -> int | None:
    """Where the first of the stop strings starts in `text` (every backend stops the same)."""
    hits = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(hits) if hits else None


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0
    restored_tokens: int = 0  # of reused_tokens: from a document's saved state
    evaluated_tokens: int = 0
    generated_tokens: int = 0
    stop_reason: str = ""  # stop | eos | length | block_end | cancelled | deadline
    alternative_tokens: int = 0  # generated for the alternatives, beside generated_tokens
    drafted_tokens: int = 0  # prompt-lookup tokens guessed (action jobs), and kept
    accepted_tokens: int = 0
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    queued_ms: float = 0.0
    build_ms: float = 0.0  # laying out the prompt in the worker, before prompt_ms
    kind: str = ""
    job_id: int = 0
    max_tokens: int = 0


@dataclass(frozen=True)
class TokenScore:
    """One token of a ScoreJob's text: its UTF-8 bytes' span in the text, its log-probability
    there, and the tokens the model found most likely at that place (text, log-probability)."""

    start: int
    end: int
    logprob: float
    likely: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class GenerationResult:
    text: str
    stats: GenerationStats = field(default_factory=GenerationStats)
    prompt: str = ""  # only when ENCLAVE_DEBUG_PROMPTS=1 (benchmarks); never logged
    alternatives: tuple[str, ...] = ()  # other answers, best first (CompletionJob.alternatives)
    scores: tuple[TokenScore, ...] = ()  # a ScoreJob's answer


@dataclass(frozen=True)
class ModelInfo:
    path: str
    architecture: str
    template: str
    context_length: int
    load_ms: float
    # llama.cpp's backends in this build (CPU, CUDA, Metal, Vulkan...) and the layers offloaded.
    backends: tuple[str, ...] = ()
    gpu_layers: int = 0


# -- server -> worker ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    """Load this model (the first command; again to load another)."""

    path: str
    n_ctx: int
    threads: int
    max_memory_mb: int = 0
    state_cache_mb: int = 0
    gpu_layers: int = -1  # -1: all when the build can offload, else none
    state_folder: str = ""  # where saved states go as files; "": in memory


@dataclass(frozen=True)
class RunJob:
    id: int
    job: Job


@dataclass(frozen=True)
class Cancel:
    """Stop job `id`. Soft: let its prompt evaluation finish (the next job starts the same)."""

    id: int
    soft: bool = False


@dataclass(frozen=True)
class Shutdown:
    pass


Command = LoadSpec | RunJob | Cancel | Shutdown

# -- worker -> server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    info: ModelInfo


@dataclass(frozen=True)
class LoadFailed:
    message: str


@dataclass(frozen=True)
class JobDone:
    id: int
    result: GenerationResult


@dataclass(frozen=True)
class JobFailed:
    """Job `id` could not run (not loaded, invalid, failed): the server answers with this."""

    id: int
    message: str


Event = Ready | LoadFailed | JobDone | JobFailed
T = TypeVar("T")

# -- the wire -----------------------------------------------------------------------------

_JOB_TAGS: dict[str, type[Job]] = {
    "complete": CompletionJob,
    "generate": GenerateJob,
    "score": ScoreJob,
}
_COMMAND_TAGS: dict[str, type[Command]] = {
    "load": LoadSpec,
    "cancel": Cancel,
    "shutdown": Shutdown,
}
_EVENT_TAGS: dict[str, type[Event]] = {
    "ready": Ready,
    "load_failed": LoadFailed,
    "result": JobDone,
    "error": JobFailed,
}
_TAG_OF: dict[type, tuple[str, str]] = {
    **{cls: ("op", tag) for tag, cls in (_JOB_TAGS | _COMMAND_TAGS).items()},
    **{cls: ("event", tag) for tag, cls in _EVENT_TAGS.items()},
}


class ProtocolError(ValueError):
    """A message that does not decode (or encode). `id` is the job's and `op` the command's,
    when they could be read, so the command can still be answered."""

    def __init__(self, message: str, id: int | None = None, op: str | None = None) -> None:
        super().__init__(message)
        self.id = id
        self.op = op


def encode(message: Command | Event) -> str:
    """One JSON line (without its newline): the tag under "op" or "event", then the fields."""
    key, tag = _TAG_OF[type(message.job) if isinstance(message, RunJob) else type(message)]
    try:
        fields = dataclasses.asdict(message)
        return json.dumps({key: tag, **fields}, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise ProtocolError("a number in the message is not finite") from None


def decode_command(line: str) -> Command:
    """A command as the worker reads it. Raises ProtocolError (with the job's id if known)."""
    raw = _load_object(line)
    tag = raw.pop("op", None)
    if isinstance(tag, str) and tag in _JOB_TAGS:
        job_id = _decode(int, raw.pop("id", None), "id")
        if set(raw) != {"job"}:
            raise ProtocolError(f"{tag}: expected the fields id and job", job_id, tag)
        try:
            return RunJob(job_id, _decode_object(_JOB_TAGS[tag], raw["job"], "job"))
        except ProtocolError as exc:
            raise ProtocolError(str(exc), job_id, tag) from None
    if not isinstance(tag, str) or tag not in _COMMAND_TAGS:
        raise ProtocolError("unknown or missing op")
    try:
        return _decode_object(_COMMAND_TAGS[tag], raw, tag)
    except ProtocolError as exc:
        raise ProtocolError(str(exc), op=tag) from None


def decode_event(line: str) -> Event:
    """An event as the server reads it. Raises ProtocolError (with the job's id if known)."""
    raw = _load_object(line)
    tag = raw.pop("event", None)
    if not isinstance(tag, str) or tag not in _EVENT_TAGS:
        raise ProtocolError("unknown or missing event")
    job_id = raw.get("id")
    try:
        return _decode_object(_EVENT_TAGS[tag], raw, tag)
    except ProtocolError as exc:
        known = job_id if type(job_id) is int else None
        raise ProtocolError(str(exc), known) from None


def _load_object(line: str) -> dict[str, Any]:
    try:
        raw = json.loads(line)  # NaN and Infinity parse; the float fields refuse them
    except (ValueError, RecursionError):
        raise ProtocolError("not a JSON line") from None
    if not isinstance(raw, dict):
        raise ProtocolError("not a JSON object")
    return raw


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any, where: str) -> Any:
    """`value` (parsed JSON) as type `tp`, checked; tuples from lists, dataclasses from
    objects. Only the types the messages use are supported."""
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_object(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = (a for a in args if a is not type(None))
        return _decode(inner, value, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list):
            raise ProtocolError(f"{where}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, f"{where}[]") for v in value)
        if len(value) != len(args):
            raise ProtocolError(f"{where}: expected {len(args)} items")
        return tuple(_decode(a, v, f"{where}[]") for a, v in zip(args, value, strict=True))
    if origin is dict:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where}: expected an object")
        return value  # dict[str, Any]: JSON object keys are always strings
    if tp is float:
        if type(value) not in (int, float) or not math.isfinite(value):
            raise ProtocolError(f"{where}: expected a finite number")
        return float(value)
    if tp in (str, int, bool):
        if type(value) is not tp:  # exact: a bool is not an int here
            raise ProtocolError(f"{where}: expected {tp.__name__}")
        return value
    raise TypeError(f"no decoder for {tp!r}")  # a message type this module does not support


def _decode_object(cls: type[T], raw: Any, where: str) -> T:
    """An instance of the dataclass `cls` from a JSON object."""
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where}: expected an object")
    klass: Any = cls  # a dataclass: every message type is one
    fields = {f.name: f for f in dataclasses.fields(klass)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ProtocolError(f"{where}: unknown field {unknown[0][:40]!r}")
    hints = _hints(klass)
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name in raw:
            values[name] = _decode(hints[name], raw[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ProtocolError(f"{where}: missing field {name}")
    return cls(**values)
