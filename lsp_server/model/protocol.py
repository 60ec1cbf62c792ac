"""Messages between the language server and its model worker process (JSON lines).

Kept in one place so the two sides cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CompletionJob:
    """A fill-in-the-middle request. The worker builds the prompt itself because only it has
    the model's tokenizer, so the budget is counted in the model's own tokens."""

    prefix: str
    suffix: str
    path: str = ""
    extra_context: str = ""
    budget: int = 640
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

    def to_message(self, job_id: int) -> dict[str, Any]:
        msg = asdict(self)
        msg.update(op="complete", id=job_id, stop=list(self.stop))
        return msg


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

    def to_message(self, job_id: int) -> dict[str, Any]:
        msg = asdict(self)
        msg.update(op="generate", id=job_id, stop=list(self.stop))
        return msg


Job = CompletionJob | GenerateJob


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
    stop_reason: str = ""  # stop | eos | length | cancelled | deadline
    prompt_ms: float = 0.0
    generate_ms: float = 0.0
    queued_ms: float = 0.0
    build_ms: float = 0.0  # laying out the prompt in the worker, before prompt_ms
    kind: str = ""
    job_id: int = 0
    max_tokens: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> GenerationStats:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


@dataclass(frozen=True)
class GenerationResult:
    text: str
    stats: GenerationStats = field(default_factory=GenerationStats)
    prompt: str = ""  # only when ENCLAVE_DEBUG_PROMPTS=1 (benchmarks); never logged


@dataclass(frozen=True)
class ModelInfo:
    path: str
    architecture: str
    template: str
    context_length: int
    load_ms: float

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelInfo:
        return cls(
            path=str(raw.get("path", "")),
            architecture=str(raw.get("architecture", "")),
            template=str(raw.get("template", "")),
            context_length=int(raw.get("context_length", 0)),
            load_ms=float(raw.get("load_ms", 0.0)),
        )
