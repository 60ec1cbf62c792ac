"""Complete an explanation's Parameters list and Returns line from the syntax tree.

The prompt asks the model to name every parameter and what is returned; a 1.5B model leaves
some out (on the actions bench, more than half of its lists missed one). The server knows the
parameters, so each missing one gets its own short generation: the model's answer up to the
end of its list, then `- `name`: `, and the model writes that line. What follows the list in
the answer is kept after the added lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsp_server.model.protocol import GenerateJob
from lsp_server.prompts.actions import ChatPrompt, Generate

MAX_ADDED = 8  # lines added to one answer (a longer signature keeps what the model wrote)
LINE_TOKENS = 64
LINE_DEADLINE_S = 30.0

_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?(?:parameters|params|arguments|args)(?:\*\*|__)?"
    r"[ \t]*:?[ \t]*(?:\*\*|__)?[ \t]*:?[ \t]*$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^[ \t]*([-*+]|\d+[.)])[ \t]+")
_RETURN_WORDS = re.compile(r"\b(returns?|returned|returning|yields?|yielded)\b", re.IGNORECASE)


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_$]){re.escape(name)}(?![A-Za-z0-9_$])")


@dataclass(frozen=True)
class Gap:
    """Where the missing lines go: after `head`, before `tail`; `opening` starts a Parameters
    list when the answer has none."""

    head: str
    tail: str
    opening: str
    marker: str
    missing: tuple[str, ...]
    needs_returns: bool


def _list_end(lines: list[str], heading: int) -> tuple[int, str]:
    """The index after the list under the heading, and its bullet marker."""
    end, marker, i = heading + 1, "", heading + 1
    while i < len(lines):
        line = lines[i]
        bullet = _BULLET.match(line)
        if bullet:
            marker = marker or bullet.group(1)
            end = i + 1
        elif line.strip() and not (marker and line[:1] in " \t"):
            break  # not a bullet, nor a bullet's indented continuation
        elif line.strip():
            end = i + 1
        elif marker and not any(_BULLET.match(x) or x[:1] in " \t" for x in lines[i + 1 : i + 2]):
            break  # a blank line that does not lead to another bullet
        i += 1
    return end, marker or "-"


def find_gap(answer: str, params: list[str], returns: bool) -> Gap | None:
    """What the answer lacks (None: nothing). A parameter counts as explained when its list
    names it, or, with no list, when the answer names it anywhere."""
    lines = answer.split("\n")
    heading = next((i for i, line in enumerate(lines) if _HEADING.match(line)), None)
    if heading is not None:
        end, marker = _list_end(lines, heading)
        section = "\n".join(lines[heading + 1 : end])
        opening = ""
    else:
        # after the first paragraph (the summary the prompt asks for first)
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        end = next((i for i in range(first, len(lines)) if not lines[i].strip()), len(lines))
        section, marker = answer, "-"
        opening = "\n**Parameters**\n"
    missing = tuple(p for p in params if not _word(p).search(section))[:MAX_ADDED]
    needs_returns = returns and not _RETURN_WORDS.search(answer)
    if not missing and not needs_returns:
        return None
    if not missing:
        opening = ""
    head = "\n".join(lines[:end]) + "\n"
    tail = "\n".join(lines[end:])
    return Gap(head, tail, opening, marker, missing, needs_returns)


async def _line(prompt: ChatPrompt, written: str, start: str, generate: Generate) -> str:
    job = GenerateJob(
        prompt=prompt.text + written + start,
        max_tokens=LINE_TOKENS,
        stop=(*prompt.stop, "\n"),
        deadline_s=LINE_DEADLINE_S,
    )
    result = await generate(job)
    return result.text.strip()


async def complete(
    answer: str, prompt: ChatPrompt, params: list[str], returns: bool, generate: Generate
) -> str:
    """The answer with a line for each parameter it does not explain and a Returns line when
    it says nothing of what is returned. A line the model leaves empty is left out."""
    gap = find_gap(answer, params, returns)
    if gap is None:
        return answer
    written, opening = gap.head, gap.opening
    for name in gap.missing:
        start = f"{opening}{gap.marker} `{name}`: "
        text = await _line(prompt, written, start, generate)
        if text:
            written += start + text + "\n"
            opening = ""
    if gap.needs_returns:
        start = "\n**Returns**: "
        text = await _line(prompt, written, start, generate)
        if text:
            written += start + text + "\n"
    return written + gap.tail
