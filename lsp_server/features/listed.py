"""Answers asked for as a list (features/rename.py, features/annotate.py): a JSON object with
the keys the server listed, in order, each value a string a pattern holds (the job's grammar),
instead of the code. What the two share: the schema, the job, and reading the answer."""

from __future__ import annotations

import json
from typing import Any

from lsp_server.features.edits import EditRejected
from lsp_server.model.protocol import GenerateJob
from lsp_server.prompts.actions import ChatPrompt


def schema(keys: tuple[str, ...], pattern: str) -> dict[str, Any]:
    value = {"type": "string", "pattern": pattern}
    return {
        "type": "object",
        "properties": {key: value for key in keys},
        "required": list(keys),
        "additionalProperties": False,
    }


def job(
    chat: ChatPrompt, deadline_s: float, keys: tuple[str, ...], pattern: str, per_key: int
) -> GenerateJob:
    """The chat's job held to the list's schema, with room for the list only."""
    limit = min(chat.max_tokens, 32 + per_key * len(keys))
    return ChatPrompt(chat.text, chat.stop, limit).job(
        deadline_s, json_schema=schema(keys, pattern)
    )


def values(answer: str, what: str) -> dict[str, Any]:
    """The answer's object; EditRejected when it is not one."""
    try:
        chosen = json.loads(answer)
    except ValueError:
        chosen = None
    if not isinstance(chosen, dict):
        raise EditRejected(f"the answer is not a JSON object of {what}")
    return chosen
