"""The secret rules, kept as data (`rules/gitleaks.toml`, gitleaks' own rule set, and
`rules/enclave.toml`, ours), compiled with RE2 (patterns.py: linear time, gitleaks' Go syntax
as is) and applied the way gitleaks applies them: keywords as a prefilter, the secret taken
from the rule's capture group, an entropy floor, then the global and the rule's allowlists.
Texts are scanned as UTF-8 bytes: offsets are byte offsets."""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsp_server.privacy.patterns import KeywordSet, Pattern, Span, alternation

RULES_DIR = Path(__file__).parent / "rules"
RULE_FILES = ("gitleaks.toml", "enclave.toml")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character, as gitleaks computes it."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def _above(secret: bytes, floor: float) -> bool:
    """entropy(secret) > floor, with the cheap bound first: entropy <= log2(distinct)."""
    if secret.isascii() and math.log2(max(len(set(secret)), 1)) <= floor:
        return False
    return entropy(secret.decode("utf-8", "replace")) > floor


# The line an allowlist with regexTarget = "line" sees is cut to this much around the match,
# so that many matches on one huge line do not each read the whole line.
LINE_CONTEXT = 4096


@dataclass(frozen=True)
class Allowlist:
    """What a rule (or every rule) must not report: a secret, match or line matching one of
    its regexes (joined into one pattern), or a secret containing a stop word."""

    regex: Pattern | None  # the alternation of the allowlist's regexes
    target: str  # secret | match | line
    stopwords: Pattern | None  # one alternation of the stop words, lowercase
    # gitleaks' condition = "AND" with paths: it needs the file's path to hold, which a prompt
    # does not have, so such an allowlist never applies (we redact rather than guess).
    needs_path: bool

    def allows(self, data: bytes, secret: Span, match: Span) -> bool:
        if self.needs_path:
            return False
        if self.regex is not None:
            span = {"match": match, "line": match}.get(self.target, secret)
            if self.target == "line":
                span = _line_of(data, *span)
            if self.regex.search(data[span[0] : span[1]]) is not None:
                return True
        return (
            self.stopwords is not None
            and self.stopwords.search(data[secret[0] : secret[1]].lower()) is not None
        )


@dataclass(frozen=True)
class Rule:
    id: str
    regex: Pattern
    entropy: float
    keywords: tuple[str, ...]
    secret_group: int
    allowlists: tuple[Allowlist, ...]
    source: str  # the rule file
    # gitleaks' `path`: the rule is for files whose path matches (a Terraform password, a
    # Kubernetes secret in YAML). Applied when the path is unknown: redact rather than guess.
    path: Pattern | None = None

    def applies_to(self, path: str | None) -> bool:
        return self.path is None or path is None or self.path.search(path.encode()) is not None


@dataclass(frozen=True)
class Finding:
    rule: str
    start: int  # byte offsets of the secret in the scanned text
    end: int


def _allowlist(raw: dict[str, Any]) -> Allowlist:
    stop = [str(w).lower() for w in raw.get("stopwords", ())]
    regexes = [str(r) for r in raw.get("regexes", ())]
    return Allowlist(
        # (?:...) keeps each regex's inline flags to itself
        regex=Pattern("|".join(f"(?:{r})" for r in regexes)) if regexes else None,
        target=str(raw.get("regexTarget", "secret")),
        stopwords=alternation(stop) if stop else None,
        needs_path=raw.get("condition") == "AND" and bool(raw.get("paths")),
    )


def load_rules(files: Sequence[str] = RULE_FILES) -> tuple[tuple[Rule, ...], Allowlist]:
    """The rules with a regex from the rule files, and the global allowlist (gitleaks').
    Path-only rules (a file name, no content) are left to the ignore rules. A top-level
    `[[allowlists]]` with `targetRules` (gitleaks' format) adds to those rules' allowlists:
    that is how ours cut false positives of gitleaks' rules without editing its file."""
    raws: list[tuple[str, dict[str, Any]]] = []
    extra: dict[str, list[Allowlist]] = {}
    global_lists: list[Allowlist] = []
    for name in files:
        with (RULES_DIR / name).open("rb") as f:
            data = tomllib.load(f)
        if "allowlist" in data:
            global_lists.append(_allowlist(data["allowlist"]))
        for raw in data.get("allowlists", ()):
            for rule_id in raw["targetRules"]:
                extra.setdefault(str(rule_id), []).append(_allowlist(raw))
        raws += [(name, raw) for raw in data.get("rules", ()) if "regex" in raw]
    if len(global_lists) != 1:
        raise ValueError("expected exactly one global allowlist (gitleaks')")
    rules = tuple(
        Rule(
            id=str(raw["id"]),
            regex=Pattern(str(raw["regex"])),
            entropy=float(raw.get("entropy", 0.0)),
            keywords=tuple(str(k).lower() for k in raw.get("keywords", ())),
            secret_group=int(raw.get("secretGroup", 0)),
            allowlists=tuple(_allowlist(a) for a in raw.get("allowlists", ()))
            + tuple(extra.pop(str(raw["id"]), ())),
            source=name,
            path=Pattern(str(raw["path"])) if "path" in raw else None,
        )
        for name, raw in raws
    )
    if extra:
        raise ValueError(f"allowlists for unknown rules: {sorted(extra)}")
    return rules, global_lists[0]


def _merged(lists: Sequence[Allowlist]) -> tuple[Allowlist, ...]:
    """Allowlists joined where they can be (they are alternatives): one regex per target and
    one for all stop words; an allowlist that needs a file path never applies, so it goes."""
    usable = [a for a in lists if not a.needs_path]
    out = []
    for target in ("secret", "match", "line"):
        regexes = [a.regex.pattern for a in usable if a.target == target and a.regex]
        if regexes:
            joined = Pattern("|".join(f"(?:{r})" for r in regexes))
            out.append(Allowlist(joined, target, None, needs_path=False))
    stop = [a.stopwords.pattern for a in usable if a.stopwords is not None]
    if stop:
        out.append(Allowlist(None, "secret", Pattern("|".join(stop)), needs_path=False))
    return tuple(out)


def _line_of(data: bytes, start: int, end: int) -> Span:
    """The line(s) holding data[start:end], at most LINE_CONTEXT bytes either side."""
    lo = max(0, start - LINE_CONTEXT)
    hi = min(len(data), end + LINE_CONTEXT)
    head = data.rfind(b"\n", lo, start) + 1 or lo
    tail = data.find(b"\n", end, hi)
    return head, hi if tail < 0 else tail


class Scanner:
    """All rules, with a keyword prefilter: one RE2 set finds which keywords occur in a text,
    and only the rules with one of them (or with none at all) run."""

    def __init__(self, rules: Sequence[Rule], global_allow: Allowlist) -> None:
        self.rules = tuple(rules)
        self.global_allow = global_allow
        self.keywords = sorted({k for r in self.rules for k in r.keywords})
        index = {k: i for i, k in enumerate(self.keywords)}
        self._rule_keys = [frozenset(index[k] for k in r.keywords) for r in self.rules]
        self._keyword_set = KeywordSet(self.keywords)
        # Each rule's allowlists and the global one, merged: one search per target.
        self._allow = {r.id: _merged([global_allow, *r.allowlists]) for r in self.rules}

    def active(self, data: bytes) -> list[Rule]:
        """The rules whose keywords occur in `data` (gitleaks' prefilter)."""
        found = self._keyword_set.found(data)
        return [
            r
            for r, keys in zip(self.rules, self._rule_keys, strict=True)
            if not keys or keys & found
        ]

    def scan(
        self, data: bytes, path: str | None = None, rules: Sequence[Rule] | None = None
    ) -> list[Finding]:
        """The secrets in `data`, a file's text or a piece of it; `path`: the file's, if known."""
        out: list[Finding] = []
        for rule in self.active(data) if rules is None else rules:
            if rule.applies_to(path):
                out.extend(self.scan_rule(rule, data))
        return out

    def scan_rule(self, rule: Rule, data: bytes) -> Iterable[Finding]:
        for m in rule.regex.finditer(data):
            start, end = m[0]
            while start < end and data[start] == 0x0A:  # gitleaks trims line breaks
                start += 1
            while end > start and data[end - 1] == 0x0A:
                end -= 1
            s, e = self._secret_span(rule, m, start, end)
            if rule.entropy and not _above(data[s:e], rule.entropy):
                continue
            if any(a.allows(data, (s, e), (start, end)) for a in self._allow[rule.id]):
                continue
            yield Finding(rule.id, s, e)

    @staticmethod
    def _secret_span(rule: Rule, m: list[Span], start: int, end: int) -> Span:
        """The secret: the rule's secretGroup, else its first non-empty group, else the
        whole match."""
        groups = m[rule.secret_group : rule.secret_group + 1] if rule.secret_group else m[1:]
        for s, e in groups:
            if s >= 0 and e > s:
                return max(s, start), min(e, end)
        return start, end


_default: Scanner | None = None


def default_scanner() -> Scanner:
    """The scanner of the packaged rules, built once (about 0.2 s) on first use."""
    global _default
    if _default is None:
        _default = Scanner(*load_rules())
    return _default
