"""Extract the true and false positive examples (`tps`, `fps`) of gitleaks' rule files
(cmd/generate/config/rules/*.go, MIT licence, Copyright (c) 2019 Zachary Rice) into
gitleaks_examples.json, for tests/unit/test_redact_gitleaks.py.

The examples are Go expressions: string literals, concatenation, []string{...} and
map[string]string{...} literals, append(...), and a few helpers of gitleaks'
(utils.GenerateSampleSecrets, secrets.NewSecret(regex), fmt.Sprintf, ...), evaluated here by a
small interpreter; random secrets come from a seeded generator, so the file is reproducible.
Statements it cannot evaluate (loops, helper functions of one rule file) are skipped and
counted.

    python tests/data/secrets/extract_gitleaks_examples.py /path/to/gitleaks.git [COMMIT]

reads the rule files with `git show` from a bare or normal git directory.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

try:
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

OUT = Path(__file__).with_name("gitleaks_examples.json")
RULES = "cmd/generate/config/rules"

# utils.GenerateSampleSecrets' templates, in the order of gitleaks' source.
SAMPLES = [
    '{i}Token="{s}"',
    '{i}Token = "{s}"',
    "{i}Token={s}",
    "{i}Token = {s}",
    '{\n    "{i}_token": "{s}"\n}',
    '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
    "<{i}Token>\n    {s}\n</{i}Token>",
    "{i}_token: {s}",
    "{i}_token: '{s}'",
    '{i}_token: "{s}"',
    'string {i}Token = "{s}";',
    'var {i}Token string = "{s}"',
    '{i}Token := "{s}"',
    "{i}Token := `{s}`",
    'String {i}Token = "{s}";',
    'var {i}Token = "{s}"',
    '${i}Token .= "{s}"',
    "{i}Token = '{s}'",
    '{i}Token = "{s}"',
    'System.setProperty("{I}_TOKEN", "{s}")',
    '  "{i}Token" => "{s}"',
    '{i}_TOKEN = "{s}"',
    '{i}_TOKEN := "{s}"',
    '{i}_TOKEN ::= "{s}"',
    '{i}_TOKEN :::= "{s}"',
    '{i}_TOKEN ?= "{s}"',
]

TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>//[^\n]*|/\*.*?\*/)|(?P<raw>`[^`]*`)|(?P<str>"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<rune>'(?:[^'\\\n]|\\.)*')|(?P<num>\d+)|(?P<ident>[A-Za-z_]\w*)"""
    r"""|(?P<op>\.\.\.|:=|\[\]|[{}()\[\],+.:=;*&!<>|-])""",
    re.S,
)


def tokens(src: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if m is None:
            out.append(("op", src[pos]))
            pos += 1
            continue
        pos = m.end()
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append((kind, m.group()))
    return out


def go_string(tok: tuple[str, str]) -> str:
    kind, text = tok
    if kind == "raw":
        return text[1:-1].replace("\r", "")
    return json.loads(text.replace("\\'", "'")) if "\\x" not in text else eval(text)  # noqa: S307


class Unsupported(Exception):
    pass


class Generator:
    """Random strings matching a regex (the subset gitleaks' examples use), seeded."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def __call__(self, regex: str) -> str:
        regex = regex.replace("(?i)", "")
        return self._gen(sre_parse.parse(regex))

    def _gen(self, seq: Any) -> str:
        return "".join(self._one(op, av) for op, av in seq)

    def _one(self, op: Any, av: Any) -> str:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "IN":
            return self._in(av)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            hi = lo + 8 if hi > lo + 8 else hi
            return "".join(self._gen(sub) for _ in range(self.rng.randint(lo, hi)))
        if name == "SUBPATTERN":
            return self._gen(av[-1])
        if name == "BRANCH":
            return self._gen(self.rng.choice(av[1]))
        if name == "ANY":
            return self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        if name == "AT":
            return ""
        raise Unsupported(name)

    def _in(self, items: Any) -> str:
        chars: list[str] = []
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                chars.append(chr(av))
            elif name == "RANGE":
                chars += [chr(c) for c in range(av[0], av[1] + 1)]
            elif name == "CATEGORY":
                cat = str(av)
                if "DIGIT" in cat:
                    chars += list("0123456789")
                elif "WORD" in cat:
                    chars += list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
                elif "SPACE" in cat:
                    chars.append(" ")
            elif name == "NEGATE":
                raise Unsupported("negated class")
        return self.rng.choice(chars)


class Evaluator:
    def __init__(self, toks: list[tuple[str, str]], gen: Generator, env: dict[str, Any]) -> None:
        self.t = toks
        self.gen = gen
        self.env = env

    def peek(self, i: int) -> str:
        return self.t[i][1] if i < len(self.t) else ""

    def expr(self, i: int) -> tuple[Any, int]:
        value, i = self.primary(i)
        while self.peek(i) == "+":
            right, i = self.primary(i + 1)
            value = value + right
        return value, i

    def args(self, i: int, close: str) -> tuple[list[Any], int]:
        out: list[Any] = []
        while self.peek(i) != close:
            if self.peek(i) == "":
                raise Unsupported("eof")
            value, i = self.expr(i)
            if self.peek(i) == ":":  # a map literal's key: value
                v2, i = self.expr(i + 1)
                value = (value, v2)
            if self.peek(i) == "...":
                out.extend(value)
                i += 1
            else:
                out.append(value)
            if self.peek(i) == ",":
                i += 1
        return out, i + 1

    def primary(self, i: int) -> tuple[Any, int]:
        kind, text = self.t[i]
        if kind in ("raw", "str"):
            return go_string(self.t[i]), i + 1
        if kind == "num":
            return int(text), i + 1
        if text == "(":
            value, i = self.expr(i + 1)
            return value, i + 1
        if text == "[]" and self.peek(i + 1) == "string" and self.peek(i + 2) == "{":
            items, i = self.args(i + 3, "}")
            return list(items), i
        if text == "map" and self.peek(i + 1) == "[":
            j = i
            while self.peek(j) != "{":
                j += 1
            items, i = self.args(j + 1, "}")
            return dict(items), i
        if kind == "ident":
            name, j = text, i + 1
            while self.peek(j) == "." and j + 1 < len(self.t) and self.t[j + 1][0] == "ident":
                name += "." + self.t[j + 1][1]
                j += 2
            if self.peek(j) == "(":
                args, j = self.args(j + 1, ")")
                return self.call(name, args), j
            if name in self.env:
                return self.env[name], j
            raise Unsupported(f"name {name}")
        raise Unsupported(f"token {text!r}")

    def call(self, name: str, args: list[Any]) -> Any:
        sizes = {
            "utils.Numeric": "[0-9]{%s}",
            "utils.Hex": "[a-f0-9]{%s}",
            "utils.AlphaNumeric": "[a-z0-9]{%s}",
            "utils.AlphaNumericExtendedShort": "[a-z0-9_-]{%s}",
            "utils.AlphaNumericExtended": "[a-z0-9=_\\-]{%s}",
            "utils.AlphaNumericExtendedLong": "[a-z0-9\\/=_\\+\\-]{%s}",
        }
        if name in sizes:
            return sizes[name] % args[0]
        if name == "utils.Hex8_4_4_4_12":
            return "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        if name == "secrets.NewSecret":
            return self.gen(args[0])
        if name == "utils.GenerateSampleSecret":
            return f'{args[0]}_api_token = "{args[1]}"'
        if name == "utils.GenerateSampleSecrets":
            i, s = args
            return [t.replace("{i}", i).replace("{I}", i.upper()).replace("{s}", s) for t in SAMPLES]
        if name == "fmt.Sprintf":
            fmt, *rest = args
            return re.sub(r"%[sdv]", "{}", fmt.replace("{", "{{").replace("}", "}}")).format(*rest)
        if name == "strings.Repeat":
            return args[0] * args[1]
        if name == "strings.ToUpper":
            return args[0].upper()
        if name == "append":
            return list(args[0]) + list(args[1:])
        raise Unsupported(f"call {name}")


def rule_functions(src: str) -> list[tuple[str, str]]:
    """(function name, body) of each `func X() *config.Rule {`."""
    out = []
    for m in re.finditer(r"^func (\w+)\(\) \*config\.Rule \{\n(.*?)^\}", src, re.S | re.M):
        out.append((m.group(1), m.group(2)))
    return out


def extract_function(body: str, seed: str) -> tuple[str | None, dict[str, Any], int]:
    rule_id = re.search(r'RuleID:\s*"([^"]+)"', body)
    toks = tokens(body)
    env: dict[str, Any] = {}
    ev = Evaluator(toks, Generator(seed), env)
    skipped = 0
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        if kind == "ident" and ev.peek(i + 1) in (":=", "=") and text not in ("r",):
            try:
                value, j = ev.expr(i + 2)
                env[text] = value
                i = j
                continue
            except (Unsupported, IndexError, KeyError, ValueError, TypeError):
                skipped += text in ("tps", "fps")
        i += 1
    examples = {k: env[k] for k in ("tps", "fps") if k in env}
    return (rule_id.group(1) if rule_id else None), examples, skipped


def main(git_dir: str, commit: str = "HEAD") -> None:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True, text=True
        ).stdout

    full = git("rev-parse", commit).strip()
    names = [n for n in git("ls-tree", "--name-only", full, RULES + "/").split() if n.endswith(".go")]
    rules: dict[str, Any] = {}
    skipped = 0
    for name in sorted(names):
        src = git("show", f"{full}:{name}")
        for func, body in rule_functions(src):
            rule_id, examples, n = extract_function(body, f"{full}:{func}")
            skipped += n
            if rule_id is None or not examples:
                continue
            entry: dict[str, Any] = {}
            for key, value in examples.items():
                if isinstance(value, dict):  # ValidateWithPaths: path -> content
                    entry[key] = [{"path": p, "text": t} for p, t in value.items() if t]
                else:
                    entry[key] = [{"text": t} for t in value if isinstance(t, str)]
            rules.setdefault(rule_id, {"tps": [], "fps": []})
            for key in ("tps", "fps"):
                rules[rule_id][key] += entry.get(key, [])
    data = {
        "source": "https://github.com/gitleaks/gitleaks, cmd/generate/config/rules/*.go",
        "commit": full,
        "license": "MIT, Copyright (c) 2019 Zachary Rice (lsp_server/privacy/rules/LICENSE.gitleaks)",
        "note": "Generated by extract_gitleaks_examples.py; random secrets from a seeded generator.",
        "skipped_statements": skipped,
        "rules": rules,
    }
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    n_tp = sum(len(r["tps"]) for r in rules.values())
    n_fp = sum(len(r["fps"]) for r in rules.values())
    print(f"{len(rules)} rules, {n_tp} true and {n_fp} false positives, {skipped} skipped")


if __name__ == "__main__":
    main(*sys.argv[1:])
