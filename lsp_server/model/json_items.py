"""Where a JSON list answer starts repeating itself: a small model asked for a list of
findings writes the same finding again until the list's `maxItems` (on the actions bench, a
tenth of the review's generated text). The worker asks after each token, the way it asks
block_end.py, and stops the answer before the repeat. A leaf module: it imports nothing of
the project."""

from __future__ import annotations

import json
from typing import Any


def _items(answer: str) -> list[tuple[int, int]]:
    """The spans of the complete top-level items of a JSON array (the answer so far)."""
    spans: list[tuple[int, int]] = []
    depth, start, in_string, escaped = 0, -1, False, False
    for i, ch in enumerate(answer):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth == 2:
                start = i
        elif ch in "]}":
            depth -= 1
            if depth == 1 and start >= 0:
                spans.append((start, i + 1))
                start = -1
    return spans


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def repeat_end(answer: str) -> int | None:
    """When the answer's last complete item equals an earlier item: the length of the answer
    up to the end of the item before it (a list to close with `]`), else None. The token that
    closes an item may carry what follows it (`},` `}]` `}, {`): the scan runs whenever a
    closing brace is near the end of a list."""
    if "}" not in answer[-16:] or not answer.lstrip().startswith("["):
        return None
    spans = _items(answer)
    if len(spans) < 2:
        return None
    last = _value(answer[slice(*spans[-1])])
    if any(_value(answer[slice(*span)]) == last for span in spans[:-1]):
        return spans[-2][1]
    return None


def close_list(answer: str) -> str:
    """An answer cut before a repeated item (`[{...}`), closed again."""
    text = answer.rstrip().rstrip(",")
    return text + "]" if text.startswith("[") and not text.endswith("]") else answer
