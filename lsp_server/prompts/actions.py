"""Chat prompts for the code actions (explain, refactor, fix, review): the one place that builds
them from the data in actions.json, and reads code back out of the model's answer.

The document's text is data: it only ever goes into the delimited block of the prompt.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import textwrap
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lsp_server.model.protocol import GenerateJob, GenerationResult, ScoreJob

logger = logging.getLogger(__name__)

ACTIONS_RESOURCE = "actions.json"

_PLACEHOLDER = re.compile(
    r"\{(system|user|language|path|code|context|target|instruction|diagnostic|error|locals)\}"
)
# Markers the document must not be able to fake inside the data block.
_DATA_MARKERS = ("<<<DOCUMENT", "DOCUMENT>>>", "<<<TARGET", "TARGET>>>")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill placeholders in one pass, so braces in inserted code are never re-interpreted."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    kind: str  # explain | refactor | quickfix | review
    max_tokens: int
    task: str
    unchanged: str = ""  # what to ask for on the retry after an answer that changed nothing
    names_answer: str = ""  # the answer asked for when the server lists the names to choose


@dataclass(frozen=True)
class ChatFormat:
    name: str
    prompt: str  # uses {system} and {user}
    stop: tuple[str, ...]


@dataclass(frozen=True)
class ActionPrompts:
    system: str
    data_block: str
    refactor_answer: str
    retry: str
    actions: Mapping[str, ActionSpec]
    formats: Mapping[str, ChatFormat]
    aliases: Mapping[str, str]
    default_format: str

    def chat_format(self, family: str) -> ChatFormat:
        name = family if family in self.formats else self.aliases.get(family, self.default_format)
        return self.formats[name]


def parse_actions(raw: Mapping[str, Any]) -> ActionPrompts:
    chat = raw["chat"]
    formats = {
        name: ChatFormat(name, str(f["prompt"]), tuple(str(s) for s in f.get("stop", ())))
        for name, f in chat["formats"].items()
    }
    default = str(chat["default"])
    if default not in formats:
        raise ValueError(f"default chat format {default!r} is not defined")
    actions = {
        name: ActionSpec(
            name,
            str(a["title"]),
            str(a["kind"]),
            int(a["max_tokens"]),
            str(a["task"]),
            str(a.get("unchanged", "")),
            str(a.get("names_answer", "")),
        )
        for name, a in raw["actions"].items()
    }
    return ActionPrompts(
        system=str(raw["system"]),
        data_block=str(raw["data_block"]),
        refactor_answer=str(raw["refactor_answer"]),
        retry=str(raw["retry"]),
        actions=actions,
        formats=formats,
        aliases={str(k): str(v) for k, v in chat.get("aliases", {}).items()},
        default_format=default,
    )


@functools.cache
def load_actions() -> ActionPrompts:
    text = resources.files(__package__).joinpath(ACTIONS_RESOURCE).read_text(encoding="utf-8")
    return parse_actions(json.loads(text))


def spec(name: str) -> ActionSpec:
    return load_actions().actions[name]


@dataclass(frozen=True)
class ChatPrompt:
    text: str
    stop: tuple[str, ...]
    max_tokens: int

    def job(
        self,
        deadline_s: float,
        json_schema: dict[str, Any] | None = None,
        lookup: bool = False,
        stop_repeats: bool = False,
    ) -> GenerateJob:
        return GenerateJob(
            prompt=self.text,
            max_tokens=self.max_tokens,
            stop=self.stop,
            deadline_s=deadline_s,
            json_schema=json_schema,
            lookup=lookup,
            stop_repeats=stop_repeats,
        )


# What the features call to run a prompt (the session's scheduler, in the handlers).
Generate = Callable[[GenerateJob | ScoreJob], Awaitable[GenerationResult]]


def _neutralise(code: str) -> str:
    """Keep the document from closing the data block early."""
    for marker in _DATA_MARKERS:
        code = code.replace(marker, marker.replace("<<<", "< < <").replace(">>>", "> > >"))
    return code


def build_prompt(
    action: str,
    family: str,
    *,
    language: str,
    path: str,
    context: str,
    target: str,
    instruction: str = "",
    diagnostic: str = "",
    retry_error: str = "",
    unchanged: bool = False,
    names: tuple[str, ...] = (),
) -> ChatPrompt:
    """The full chat prompt for one action. `context` is the surrounding code the model may
    read, `target` the code the action is about; both are treated as data. A retry after an
    answer that changed nothing (`unchanged`) says what to change. `names`: the target's
    names the answer gives new names to (features/rename.py), instead of the code."""
    prompts = load_actions()
    act = prompts.actions[action]
    values = {
        "language": language or "text",
        "path": path,
        "context": _neutralise(context),
        "target": _neutralise(target),
        # The user's own words (rewrite) and a linter's message are data too: one line each.
        "instruction": " ".join(instruction.split())[:500],
        "diagnostic": " ".join(diagnostic.split())[:500],
        "error": " ".join(retry_error.split())[:300],
        "locals": ", ".join(names),
    }
    if unchanged and act.unchanged:
        values["error"] += ". " + render(act.unchanged, values)
    parts = [render(prompts.data_block, values), "Task: " + render(act.task, values)]
    if names and act.names_answer:
        parts.append(render(act.names_answer, values))
    elif act.kind in ("refactor", "quickfix"):
        parts.append(render(prompts.refactor_answer, values))
    if retry_error:
        parts.append(render(prompts.retry, values))
    user = "\n\n".join(parts)
    fmt = prompts.chat_format(family)
    text = render(fmt.prompt, {"system": prompts.system, "user": user})
    return ChatPrompt(text, fmt.stop, act.max_tokens)


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n`]*$", re.MULTILINE)


def _fenced_blocks(answer: str) -> list[str]:
    blocks: list[str] = []
    opened: re.Match[str] | None = None
    for m in _FENCE.finditer(answer):
        if opened is None:
            opened = m
        elif m.group(1)[0] == opened.group(1)[0] and len(m.group(1)) >= len(opened.group(1)):
            blocks.append(answer[opened.end() + 1 : m.start()])
            opened = None
    if opened is not None:  # an unclosed fence (the answer ran out of tokens): take the rest
        blocks.append(answer[opened.end() + 1 :])
    return blocks


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def extract_code(answer: str, target: str) -> str:
    """The replacement code in a model's answer, re-indented to the target's indentation.

    Takes the longest fenced block (the answer may also hold prose or a second, illustrative
    block); with no fence, the whole answer minus stray fence lines. Returns "" when nothing
    is left."""
    blocks = _fenced_blocks(answer)
    code = max(blocks, key=len) if blocks else _FENCE.sub("", answer)
    code = code.replace("\r\n", "\n").strip("\n")
    if not code.strip():
        return ""
    code = "\n".join(line.rstrip() for line in code.split("\n"))
    first = next((line for line in target.split("\n") if line.strip()), "")
    base = indentation(first)
    body = textwrap.dedent(code)
    lines = [base + line if line.strip() else "" for line in body.split("\n")]
    return "\n".join(lines)
