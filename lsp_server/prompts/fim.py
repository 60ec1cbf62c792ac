"""Fill-in-the-middle prompts: pick a model family's format and fit the code around the cursor
into a token budget.

The formats are data (fim_templates.json); this module only interprets them.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lsp_server.model.protocol import CompletionJob

logger = logging.getLogger(__name__)

TEMPLATES_RESOURCE = "fim_templates.json"
FALLBACK_NAME = "prefix-only"

# One pass over the template, so braces inside inserted code are never re-interpreted.
_PLACEHOLDER = re.compile(r"\{(prefix|suffix|path|content|repo)\}")


def _render(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class MultiFileFormat:
    """How a family writes several files into one prompt (repository-level context)."""

    repo_name_token: str
    file_sep_token: str
    repo_header: str  # uses {repo}
    file: str  # uses {path} and {content}

    def render_repo_header(self, repo: str) -> str:
        return _render(self.repo_header, {"repo": repo})

    def render_file(self, path: str, content: str) -> str:
        return _render(self.file, {"path": path, "content": content})


@dataclass(frozen=True)
class FimTemplate:
    """One model family's prompt format, as read from fim_templates.json."""

    name: str
    architectures: tuple[str, ...]  # empty: any architecture
    token_sets: tuple[tuple[str, ...], ...]  # one set fully present is enough; empty: no rule
    fim: str  # uses {prefix} and optionally {suffix}
    file_header: str  # uses {path}; put before the FIM part when the path is known
    stop: tuple[str, ...]
    multi_file: MultiFileFormat | None = None

    @property
    def supports_suffix(self) -> bool:
        return "{suffix}" in self.fim

    @property
    def is_fallback(self) -> bool:
        return not self.token_sets

    def matches(self, architecture: str, has_token: Callable[[str], bool]) -> bool:
        if self.architectures and architecture.lower() not in self.architectures:
            return False
        return any(all(has_token(t) for t in token_set) for token_set in self.token_sets)

    def render(self, prefix: str, suffix: str, path: str = "") -> str:
        head = _render(self.file_header, {"path": path}) if path and self.file_header else ""
        return head + _render(self.fim, {"prefix": prefix, "suffix": suffix})


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{TEMPLATES_RESOURCE}: {what} must be a list of strings")
    return tuple(value)


def _parse_family(raw: Any) -> FimTemplate:
    if not isinstance(raw, dict):
        raise ValueError(f"{TEMPLATES_RESOURCE}: each family must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{TEMPLATES_RESOURCE}: a family has no name")
    match = raw.get("match") or {}
    if not isinstance(match, dict):
        raise ValueError(f"{TEMPLATES_RESOURCE}: {name}: match must be an object")
    archs = _str_list(match.get("architectures", []), f"{name}.match.architectures")
    sets_raw = match.get("token_sets", [])
    if not isinstance(sets_raw, list):
        raise ValueError(f"{TEMPLATES_RESOURCE}: {name}.match.token_sets must be a list")
    token_sets = tuple(_str_list(s, f"{name}.match.token_sets[]") for s in sets_raw)
    fim = raw.get("fim")
    if not isinstance(fim, str) or "{prefix}" not in fim:
        raise ValueError(f"{TEMPLATES_RESOURCE}: {name}.fim must contain {{prefix}}")
    file_header = raw.get("file_header", "")
    if not isinstance(file_header, str):
        raise ValueError(f"{TEMPLATES_RESOURCE}: {name}.file_header must be a string")
    multi: MultiFileFormat | None = None
    mf = raw.get("multi_file")
    if mf is not None:
        if not isinstance(mf, dict) or not all(
            isinstance(mf.get(k), str)
            for k in ("repo_name_token", "file_sep_token", "repo_header", "file")
        ):
            raise ValueError(f"{TEMPLATES_RESOURCE}: {name}.multi_file is incomplete")
        multi = MultiFileFormat(
            repo_name_token=mf["repo_name_token"],
            file_sep_token=mf["file_sep_token"],
            repo_header=mf["repo_header"],
            file=mf["file"],
        )
    return FimTemplate(
        name=name,
        architectures=tuple(a.lower() for a in archs),
        token_sets=token_sets,
        fim=fim,
        file_header=file_header,
        stop=_str_list(raw.get("stop", []), f"{name}.stop"),
        multi_file=multi,
    )


@functools.cache
def _load() -> tuple[FimTemplate, ...]:
    text = resources.files("lsp_server.prompts").joinpath(TEMPLATES_RESOURCE).read_text("utf-8")
    data = json.loads(text)
    families = data.get("families") if isinstance(data, dict) else None
    if not isinstance(families, list):
        raise ValueError(f"{TEMPLATES_RESOURCE}: missing 'families' list")
    templates = tuple(_parse_family(f) for f in families)
    if not any(t.name == FALLBACK_NAME and t.is_fallback for t in templates):
        raise ValueError(f"{TEMPLATES_RESOURCE}: the '{FALLBACK_NAME}' fallback is missing")
    return templates


def load_templates() -> list[FimTemplate]:
    """All families in match order (parsed once, then cached)."""
    return list(_load())


def get_template(name: str) -> FimTemplate:
    for t in _load():
        if t.name == name:
            return t
    raise KeyError(f"no FIM template named {name!r}")


def detect_template(architecture: str, has_token: Callable[[str], bool]) -> FimTemplate:
    """The first family whose rule matches the model, else the prefix-only fallback."""
    for t in _load():
        if not t.is_fallback and t.matches(architecture, has_token):
            logger.debug("FIM template %s for architecture %s", t.name, architecture)
            return t
    logger.info("no FIM tokens found for architecture %s; using prefix-only prompts", architecture)
    return get_template(FALLBACK_NAME)


@dataclass(frozen=True)
class PromptParts:
    """The text around the cursor. extra_context is stable context (imports, the chain of
    enclosing definitions) that goes first so a prompt cache can reuse it."""

    prefix: str
    suffix: str
    path: str = ""
    extra_context: str = ""
    # Other files of the repository (path, content), least relevant first: written before the
    # current file in the template's multi-file format, else as comment lines (comment_prefix).
    context_files: tuple[tuple[str, str], ...] = ()
    repo: str = ""
    comment_prefix: str = "#"


def _with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def render_context_file(template: FimTemplate, parts: PromptParts, path: str, content: str) -> str:
    """One context file as the prompt writes it (without the repository header)."""
    if template.multi_file is not None:
        return template.multi_file.render_file(path, _with_newline(content))
    c = parts.comment_prefix
    lines = _with_newline(content).split("\n")[:-1]
    return f"{c} {path}\n" + "".join(f"{c} {line}".rstrip() + "\n" for line in lines)


@dataclass(frozen=True)
class BuiltPrompt:
    text: str
    prefix_used: str  # the end of parts.prefix that made it in
    suffix_used: str  # the start of parts.suffix that made it in
    tokens_estimate: int
    stop: tuple[str, ...]
    context_used: str = ""  # the end of parts.extra_context that made it in
    files_used: tuple[str, ...] = ()  # paths of the context files that made it in


def _split_keep(text: str) -> list[str]:
    """Split on "\\n" keeping each newline on the line it ends ("a\\nb" -> ["a\\n", "b"])."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    out.append(lines[-1])
    return out


def _cut_left(text: str, count: Callable[[str], int], limit: int) -> str:
    """Longest end of `text` that counts at most `limit` (binary search on the start)."""
    lo, hi = 0, len(text)  # answer in [lo, hi]; text[hi:] == "" always fits
    while lo < hi:
        mid = (lo + hi) // 2
        if count(text[mid:]) <= limit:
            hi = mid
        else:
            lo = mid + 1
    return text[lo:]


def _most(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k in [0, n] with fits(k), for a `fits` true up to some k and false after
    (binary search; fits(0) is not asked)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cut_right(text: str, count: Callable[[str], int], limit: int) -> str:
    """Longest start of `text` that counts at most `limit`."""
    return text[: _most(len(text), lambda k: count(text[:k]) <= limit)]


# Share of the window for the code after the cursor: in prefix-suffix-middle order every
# keystroke outside an anchored run re-evaluates the suffix, so it is kept small
# (docs/speed.md has the measurements).
SUFFIX_SHARE = 0.2
# A budget-cut window starts on a line number that is a multiple of this, keeping the prompt's
# start (and the model's cached work on it) stable while the cursor moves down.
WINDOW_SNAP_LINES = 8
# Tokens of the model's context kept free beyond the window and the answer (template tokens).
CONTEXT_MARGIN = 32


def _head_that_fits(
    template: FimTemplate,
    parts: PromptParts,
    path: str,
    content: str,
    count: Callable[[str], int],
    room: int,
) -> str:
    """The most first lines of `content` whose rendered file counts at most `room` (a binary
    search: a few tokenizations, not one per line)."""
    lines = _split_keep(_with_newline(content))[:-1]

    def fits(k: int) -> bool:
        return count(render_context_file(template, parts, path, "".join(lines[:k]))) <= room

    return "".join(lines[: _most(len(lines), fits)])


def _fit_files(
    template: FimTemplate,
    parts: PromptParts,
    count: Callable[[str], int],
    cap: int,
) -> tuple[list[tuple[str, str]], int]:
    """The context files that fit in `cap` tokens, most relevant (last) first. The first file
    that does not fit whole is cut to its first lines, and no less relevant file comes after
    it: a less relevant file must never take the place of a more relevant one."""
    kept: list[tuple[str, str]] = []
    used = 0
    for path, content in reversed(parts.context_files):
        t = count(render_context_file(template, parts, path, content))
        if used + t <= cap:
            kept.append((path, content))
            used += t
            continue
        head = _head_that_fits(template, parts, path, content, count, cap - used)
        if head:
            kept.append((path, head))
            used += count(render_context_file(template, parts, path, head))
        break
    kept.reverse()
    return kept, used


def build_prompt(
    template: FimTemplate,
    parts: PromptParts,
    count_tokens: Callable[[str], int],
    budget: int,
    suffix_share: float = 0.25,
    *,
    min_prefix_share: float = 0.5,
    snap_lines: int = 0,
    context_budget: int | None = None,
) -> BuiltPrompt:
    """Fit the code around the cursor into `budget` model tokens and render the prompt.

    Context files (other files of the repository, least relevant first) get their own share of
    the budget, `context_budget` tokens (at most half of it); the code gets the rest, whether
    the files fill their share or not, so a prompt with repository context has exactly the
    code window of one without. Most relevant files are kept first (see _fit_files); they are
    written before the current file (multi-file format) or as comment lines before
    extra_context.

    The code's lines are cut whole: the prefix keeps its end, the suffix its start, and the
    cursor line is always kept (cut by characters only if it alone is over budget). The suffix
    gets at most `suffix_share` of the code budget; what it leaves goes to the prefix. The
    prefix first gets up to `min_prefix_share` of the code budget, then extra_context (whole
    lines, dropped from its start) if it fits, then the rest. Each line is counted once on its
    own and the counts are summed: an approximation of tokenizing the joined text (merges
    across line ends are ignored), but it never re-tokenizes the window. The template's own
    text is not charged to the budget.

    With `snap_lines` > 1, a window cut by the budget starts on a line number that is a multiple
    of it, so the prompt's start (and the model's cached work on it) stays the same while the
    cursor moves down a few lines.
    """
    count = count_tokens
    budget = max(0, budget)
    kept_files: list[tuple[str, str]] = []
    files_tokens = 0
    if parts.context_files:
        cap = budget // 2 if context_budget is None else min(budget // 2, max(0, context_budget))
        kept_files, files_tokens = _fit_files(template, parts, count, cap)
        budget -= cap

    # The cursor line's left part is mandatory.
    pre_lines = _split_keep(parts.prefix)
    cursor_piece = pre_lines[-1]
    t = count(cursor_piece)
    if t > budget:
        cursor_piece = _cut_left(cursor_piece, count, budget)
        t = count(cursor_piece)
    kept_prefix = [cursor_piece]  # nearest first
    prefix_tokens = t
    used = t

    # Suffix: nearest lines first, within its share.
    kept_suffix: list[str] = []
    if template.supports_suffix and parts.suffix:
        s_budget = max(0, min(int(budget * suffix_share), budget - used))
        s_used = 0
        for i, piece in enumerate(_split_keep_suffix(parts.suffix)):
            t = count(piece)
            if s_used + t > s_budget:
                if i == 0:
                    # The cursor line's right part stays, trimmed to what is left.
                    piece = _cut_right(piece, count, s_budget - s_used)
                    if piece:
                        kept_suffix.append(piece)
                        s_used += count(piece)
                break
            kept_suffix.append(piece)
            s_used += t
        used += s_used

    # Prefix lines above the cursor, nearest first; each counted at most once.
    idx = len(pre_lines) - 2
    pending: int | None = None

    def grow_prefix(limit_prefix: int) -> None:
        nonlocal idx, pending, used, prefix_tokens
        while idx >= 0:
            if pending is None:
                pending = count(pre_lines[idx])
            if prefix_tokens + pending > limit_prefix or used + pending > budget:
                return
            kept_prefix.append(pre_lines[idx])
            prefix_tokens += pending
            used += pending
            pending = None
            idx -= 1

    grow_prefix(int(budget * min_prefix_share))

    kept_context: list[str] = []
    if parts.extra_context:
        for piece in reversed(_split_keep(parts.extra_context)):
            if not piece:
                continue
            t = count(piece)
            if used + t > budget:
                break
            kept_context.append(piece)
            used += t

    grow_prefix(budget)

    if snap_lines > 1 and idx >= 0:
        start = idx + 1
        drop = -start % snap_lines
        del kept_prefix[max(1, len(kept_prefix) - drop) :]

    prefix_used = "".join(reversed(kept_prefix))
    suffix_used = "".join(kept_suffix)
    context_used = "".join(reversed(kept_context))
    context_block = context_used
    if context_block and not context_block.endswith("\n"):
        context_block += "\n"

    files_block = ""
    if kept_files:
        rendered = "".join(render_context_file(template, parts, p, c) for p, c in kept_files)
        if template.multi_file is not None:
            files_block = template.multi_file.render_repo_header(parts.repo or "repo") + rendered
        else:
            context_block = rendered + context_block

    text = files_block + template.render(context_block + prefix_used, suffix_used, parts.path)
    scaffold = count(template.render("", "", parts.path))
    return BuiltPrompt(
        text=text,
        prefix_used=prefix_used,
        suffix_used=suffix_used,
        tokens_estimate=scaffold + used + files_tokens,
        stop=template.stop,
        context_used=context_used,
        files_used=tuple(p for p, _ in kept_files),
    )


def prompt_for_job(
    template: FimTemplate,
    job: CompletionJob,
    count_tokens: Callable[[str], int],
    context_length: int,
    margin: int = CONTEXT_MARGIN,
) -> BuiltPrompt:
    """The FIM prompt of one completion job, the same for every backend (the local worker and
    the HTTP backends). The budget is clamped so the window, the answer and `margin` fit in
    `context_length`; the returned text ends with `job.middle`."""
    parts = PromptParts(
        prefix=job.prefix,
        suffix=job.suffix,
        path=job.path,
        extra_context=job.extra_context,
        context_files=job.context_files,
        repo=job.repo,
        comment_prefix=job.comment_prefix,
    )
    built = build_prompt(
        template,
        parts,
        count_tokens,
        min(job.budget, context_length - job.max_tokens - margin),
        SUFFIX_SHARE,
        snap_lines=WINDOW_SNAP_LINES,
        context_budget=job.context_budget,
    )
    if not job.middle:
        return built
    return dataclasses.replace(built, text=built.text + job.middle)


def _split_keep_suffix(text: str) -> list[str]:
    """Split the suffix so each newline starts the next piece ("a\\nb" -> ["a", "\\nb"]):
    the first piece is then exactly the rest of the cursor line."""
    lines = text.split("\n")
    return [lines[0], *("\n" + line for line in lines[1:])]
