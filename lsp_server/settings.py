"""One typed settings model: defaults, validation and a JSON schema from the same table.

Settings arrive as `initializationOptions` and in `workspace/didChangeConfiguration`, either
nested ({"model": {"size": "0.5b"}}) or dotted ({"model.size": "0.5b"}), optionally under an
"enclave" key. A bad value is reported by name and replaced by its default.

User-only settings (where code goes, which model file is parsed, where files are written) are
taken from `initializationOptions` alone, which every Enclave client builds from the user's own
configuration: editors let a repository send the rest (VS Code workspace settings, Emacs
`.dir-locals.el` through `eglot-workspace-configuration`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """How one setting is checked and described."""

    key: str
    type: str  # "boolean" | "integer" | "number" | "string" | "string?" (nullable) | "array"
    # ("array": a list of strings, held as a tuple)
    default: Any
    description: str
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # Taken from initializationOptions only, never from a later change (see the module doc).
    user_only: bool = False


# Where settings came from: "init" (initializationOptions) or "change" (anything later).
Source = Literal["init", "change"]

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "model.size",
        "string",
        "1.5b",
        "Bundled model: 1.5b (default) or 0.5b (faster).",
        enum=("1.5b", "0.5b"),
    ),
    Setting(
        "model.path",
        "string?",
        None,
        "Path to any other GGUF model file; overrides model.size.",
        user_only=True,
    ),
    Setting(
        "model.contextLength",
        "integer",
        4096,
        "Model context window in tokens.",
        minimum=512,
        maximum=32768,
    ),
    Setting(
        "model.threads",
        "integer",
        0,
        "CPU threads for the model; 0 = number of cores.",
        minimum=0,
        maximum=256,
    ),
    Setting(
        "model.gpuLayers",
        "integer",
        -1,
        "Layers of the model to offload to the GPU: -1 = all when this llama-cpp-python build "
        "supports GPU offload (CUDA, Metal, Vulkan...), else none; 0 = CPU only; N = the first "
        "N layers.",
        minimum=-1,
        maximum=1000,
    ),
    Setting(
        "model.maxMemoryMB",
        "integer",
        0,
        "Most memory (address space, MB) the model worker may take; a model that needs more "
        "fails to load with a clear message instead of pushing the machine into swap. 0 = no "
        "limit.",
        minimum=0,
        maximum=1048576,
    ),
    Setting(
        "model.stateCacheMB",
        "integer",
        128,
        "Room (MB) for the model's saved work on the files you moved away from, so coming "
        "back to one answers without reading it again (about 30 MB a file with the default "
        "model). 0 = off.",
        minimum=0,
        maximum=4096,
    ),
    Setting(
        "model.stateCacheOnDisk",
        "boolean",
        True,
        "Keep that saved work in owner-only files in Enclave's cache folder, removed when no "
        "longer needed and when the server stops, instead of in memory: as fast, and the "
        "memory stays free. false = in memory.",
        user_only=True,
    ),
    Setting("completion.enabled", "boolean", True, "Offer inline completions."),
    Setting(
        "completion.contextTokens",
        "integer",
        1024,
        "Budget, in model tokens, for the code around the cursor.",
        minimum=64,
        maximum=16384,
    ),
    Setting(
        "completion.contextFiles",
        "integer",
        384,
        "Budget, in model tokens, for other files of the repository (definitions of symbols "
        "used near the cursor, code like the code above it, recently edited code); 0 = none.",
        minimum=0,
        maximum=8192,
    ),
    Setting(
        "completion.maxTokensLine",
        "integer",
        48,
        "Most tokens generated for a single-line suggestion.",
        minimum=1,
        maximum=512,
    ),
    Setting(
        "completion.alternatives",
        "integer",
        2,
        "Other suggestions offered beside the first when one is asked for explicitly (the "
        "editor's next-suggestion key), continued from the first's least certain tokens; "
        "0 = only the first.",
        minimum=0,
        maximum=4,
    ),
    Setting(
        "completion.maxTokensBlock",
        "integer",
        160,
        "Most tokens generated for a multi-line suggestion.",
        minimum=1,
        maximum=2048,
    ),
    Setting(
        "completion.deadlineMs",
        "integer",
        30000,
        "Longest time one suggestion may take, queueing included; what was generated by "
        "then is returned.",
        minimum=100,
        maximum=600000,
    ),
    Setting(
        "completion.targetLatencyMs",
        "integer",
        4000,
        "Latency to aim for: on a slow machine suggestions get fewer tokens (and single lines) "
        "to fit it.",
        minimum=100,
        maximum=600000,
    ),
    Setting(
        "completion.cache",
        "boolean",
        True,
        "Reuse work between requests: the model's evaluated prompt, suggestions typed through, "
        "prefetched next suggestions. Off = every request starts from scratch.",
    ),
    Setting(
        "completion.prefetch",
        "boolean",
        True,
        "After a suggestion, compute the next one as if it were accepted (idle time only).",
    ),
    Setting(
        "context.enabled",
        "boolean",
        True,
        "Index the workspace (tree-sitter) and add repository context to completions.",
    ),
    Setting(
        "context.maxFiles",
        "integer",
        20000,
        "Most files of the workspace to index.",
        minimum=0,
        maximum=200000,
    ),
    Setting(
        "context.timeBudgetMs",
        "integer",
        250,
        "Most time (ms) for gathering repository context for a new prompt, in a thread beside "
        "the editor's requests; high enough that a busy machine gets the same context as an "
        "idle one (what was found by then is used; the search for similar code has as much "
        "again).",
        minimum=1,
        maximum=2000,
    ),
    Setting(
        "stats.enabled",
        "boolean",
        True,
        "Keep local statistics (suggestions shown and accepted, latency, cache share, per "
        "language; counts only, never code or file names) in a file on this machine; never "
        "sent anywhere. See `enclave stats`.",
    ),
    Setting(
        "log.level",
        "string",
        "info",
        "Log level (logs go to stderr or log.file).",
        enum=("debug", "info", "warning", "error"),
    ),
    Setting(
        "log.file", "string?", None, "Write logs to this file instead of stderr.", user_only=True
    ),
    Setting(
        "backend.kind",
        "string",
        "local",
        "Where completions come from: local (the bundled worker), llama-server (an "
        "organisation's llama.cpp server) or openai (vLLM, Ollama or any OpenAI-compatible "
        "/v1/completions server). See docs/backends.md.",
        enum=("local", "llama-server", "openai"),
        user_only=True,
    ),
    Setting(
        "backend.url",
        "string?",
        None,
        "Base URL of the model server, e.g. http://10.0.0.5:8080. Only this machine and "
        "private networks unless the host is in backend.allowHosts.",
        user_only=True,
    ),
    Setting(
        "backend.model",
        "string?",
        None,
        "Model name for OpenAI-compatible servers; none: the server's first model.",
        user_only=True,  # a gateway's model name can pick its upstream: routing, too
    ),
    Setting(
        "backend.allowHosts",
        "array",
        (),
        "Host names outside this machine and private networks that may receive code.",
        user_only=True,
    ),
    Setting(
        "backend.timeoutMs",
        "integer",
        5000,
        "Longest wait for a model server to connect and start answering.",
        minimum=100,
        maximum=600000,
    ),
    Setting(
        "backend.template",
        "string",
        "qwen2.5-coder",
        "FIM template family of the server's model (a name in fim_templates.json).",
    ),
)

_BY_KEY = {s.key: s for s in SETTINGS}
USER_ONLY = frozenset(s.key for s in SETTINGS if s.user_only)


@dataclass(frozen=True)
class ModelSettings:
    size: str = "1.5b"
    path: str | None = None
    contextLength: int = 4096  # camelCase: the client-facing keys
    threads: int = 0
    gpuLayers: int = -1
    maxMemoryMB: int = 0
    stateCacheMB: int = 128
    stateCacheOnDisk: bool = True


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = True
    contextTokens: int = 1024
    contextFiles: int = 384
    maxTokensLine: int = 48
    maxTokensBlock: int = 160
    alternatives: int = 2
    deadlineMs: int = 30000
    targetLatencyMs: int = 4000
    cache: bool = True
    prefetch: bool = True


@dataclass(frozen=True)
class ContextSettings:
    enabled: bool = True
    maxFiles: int = 20000
    timeBudgetMs: int = 250


@dataclass(frozen=True)
class StatsSettings:
    enabled: bool = True


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"
    file: str | None = None


@dataclass(frozen=True)
class BackendSettings:
    kind: str = "local"
    url: str | None = None
    model: str | None = None
    allowHosts: tuple[str, ...] = ()
    timeoutMs: int = 5000
    template: str = "qwen2.5-coder"


@dataclass(frozen=True)
class Settings:
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    stats: StatsSettings = field(default_factory=StatsSettings)
    log: LogSettings = field(default_factory=LogSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)

    def get(self, key: str) -> Any:
        section, name = key.split(".", 1)
        return getattr(getattr(self, section), name)


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in raw.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and key not in _BY_KEY:
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def _check(setting: Setting, value: Any) -> str | None:
    """Return why `value` is not acceptable for `setting`, or None."""
    t = setting.type
    if t == "string?":
        if value is None or value == "":
            return None
        t = "string"
    if t == "boolean" and not isinstance(value, bool):
        return "expected true or false"
    if t == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return "expected an integer"
    if t == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "expected a number"
    if t == "string" and not isinstance(value, str):
        return "expected a string"
    if t == "array":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            return "expected a list of strings"
        return None
    if setting.enum and value not in setting.enum:
        return "expected one of " + ", ".join(setting.enum)
    if setting.minimum is not None and value < setting.minimum:
        return f"expected at least {setting.minimum:g}"
    if setting.maximum is not None and value > setting.maximum:
        return f"expected at most {setting.maximum:g}"
    return None


def _read(raw: Any) -> tuple[list[tuple[Setting, Any]], list[str]]:
    """(setting, checked value) per known key of `raw`, and one warning per rejected or
    unknown key (a rejected value is replaced by its default)."""
    if raw is None:
        return [], []
    if not isinstance(raw, Mapping):
        return [], ["Enclave settings must be an object; using the previous settings"]
    if isinstance(raw.get("enclave"), Mapping):
        raw = raw["enclave"]
    items: list[tuple[Setting, Any]] = []
    warnings: list[str] = []
    for key, value in _flatten(raw).items():
        setting = _BY_KEY.get(key)
        if setting is None:
            warnings.append(f"Unknown Enclave setting '{key}' ignored")
            continue
        problem = _check(setting, value)
        if problem:
            warnings.append(
                f"Enclave setting '{key}' has an invalid value ({problem}); "
                f"using the default {setting.default!r}"
            )
            value = setting.default
        if setting.type == "string?" and value == "":
            value = None
        if setting.type == "array":
            value = tuple(value)
        items.append((setting, value))
    return items, warnings


def parse_settings(
    raw: Any, base: Settings | None = None, source: Source = "init"
) -> tuple[Settings, list[str]]:
    """Validate `raw` over `base` (defaults if None). Returns the settings and one warning per
    rejected or unknown key; rejected keys keep the base value. From any source but "init",
    user-only settings keep the base value (`refused_changes` names those it tried to change)."""
    base = base or Settings()
    items, warnings = _read(raw)
    values: dict[str, dict[str, Any]] = {}
    for setting, value in items:
        if setting.user_only and source != "init":
            continue
        section, name = setting.key.split(".", 1)
        values.setdefault(section, {})[name] = value
    sections = {
        section: dataclasses.replace(getattr(base, section), **changes)
        for section, changes in values.items()
    }
    return dataclasses.replace(base, **sections), warnings


def refused_changes(raw: Any, base: Settings) -> list[str]:
    """The user-only settings that `raw`, coming from a later change, would set to something
    other than their value in `base` (those `parse_settings` leaves alone)."""
    items, _ = _read(raw)
    return list(
        dict.fromkeys(s.key for s, value in items if s.user_only and value != base.get(s.key))
    )


def refusal_message(key: str) -> str:
    return (
        f"Enclave setting '{key}' is taken from initializationOptions only (the user's own "
        "settings, read when the server starts); a later workspace/didChangeConfiguration "
        "cannot change it, so the current value is kept"
    )


def json_schema() -> dict[str, Any]:
    """JSON schema of the flat, dotted settings (the shape VS Code's configuration uses)."""
    props: dict[str, Any] = {}
    for s in SETTINGS:
        prop: dict[str, Any] = {"description": s.description, "default": s.default}
        prop["type"] = ["string", "null"] if s.type == "string?" else s.type
        if s.type == "array":
            prop["items"] = {"type": "string"}
            prop["default"] = list(s.default)
        if s.enum:
            prop["enum"] = list(s.enum)
        if s.minimum is not None:
            prop["minimum"] = s.minimum
        if s.maximum is not None:
            prop["maximum"] = s.maximum
        if s.user_only:
            # Clients must send it only from the user's own settings (initializationOptions).
            prop["x-userOnly"] = True
        props[f"enclave.{s.key}"] = prop
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Enclave settings",
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }


def _check_defaults_match() -> None:
    # The table and the dataclasses must agree, both ways; fail loudly at import if they drift.
    defaults = Settings()
    for s in SETTINGS:
        if defaults.get(s.key) != s.default:
            raise AssertionError(f"default of {s.key} differs between table and dataclass")
    for section in dataclasses.fields(defaults):
        for f in dataclasses.fields(getattr(defaults, section.name)):
            if f"{section.name}.{f.name}" not in _BY_KEY:
                raise AssertionError(f"{section.name}.{f.name} has no row in SETTINGS")


_check_defaults_match()
