"""No spelling of a path walks around a rule: hypothesis generates paths in a workspace with
root and nested rules, then other spellings of each (percent-encoding, `.` and `..` segments,
repeated slashes, a host, scheme case, query and fragment, a symlinked folder, a different case
on a case-insensitive root), and the property is ignored(variant) == ignored(canonical)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from lsp_server.privacy.ignore import IgnoreRules, is_builtin

SEGMENTS = (
    "private",
    "app",
    "gen",
    "src",
    "deep",
    "local.py",
    "keep.sql",
    "a.sql",
    "public.sql",
    "build.py",
    "x.py",
    "notes.md",
    ".env",
    "ID_RSA",
    "cert.pem",
    "terraform.tfstate.backup",
)
# Folder -> a symlink naming the same folder.
ALIASES = {"private": "linked_private", "app": "linked_app"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("forms") / "ws"
    root.mkdir()
    (root / ".enclaveignore").write_text("private/\n*.sql\n!public.sql\n/build.py\n")
    for folder in ("app", "private", "src", "gen", "deep"):
        (root / folder).mkdir()
    (root / "app" / ".enclaveignore").write_text("/local.py\ngen/\n!keep.sql\n")
    (root / "src" / ".enclaveignore").write_text("deep/\n")
    for folder, alias in ALIASES.items():
        (root / alias).symlink_to(root / folder)
    yield root


def quote_some(text: str, rnd: random.Random) -> str:
    """Percent-encode a random subset of characters (slashes and dots included), in either hex
    case; `%` itself is always encoded."""
    out = []
    for ch in text:
        if ch == "%" or rnd.random() < 0.3:
            code = "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
            out.append(code.lower() if rnd.random() < 0.5 else code)
        else:
            out.append(ch)
    return "".join(out)


def spell(root: Path, parts: list[str], rnd: random.Random) -> str:
    """Another spelling of root/parts: the same file, named differently."""
    segments = list(root.parts[1:])
    below = list(parts)
    if rnd.random() < 0.5:  # the links are in the root
        below[0] = ALIASES.get(below[0], below[0])
    for _ in range(rnd.randint(0, 3)):
        at = rnd.randint(0, len(segments) + len(below) - 1)
        extra = rnd.choice([["."], ["nowhere", ".."], [""], ["nowhere", "more", "..", ".."]])
        if at < len(segments):
            segments[at:at] = extra
        else:
            below[at - len(segments) : at - len(segments)] = extra
    path = "/" + "/".join(segments + below)
    form = rnd.choice(["path", "uri", "host", "scheme"])
    if form == "path":
        return path
    scheme = "file"
    if form == "scheme":
        scheme = rnd.choice(["FILE", "File", "fIlE"])
    tail = rnd.choice(["", "?query=1", "#fragment", "?a#b"])
    if form == "host":
        # After a host the path starts with a real slash (an encoded one would be the host's).
        host = rnd.choice(["localhost", "some-host", "LOCALHOST"])
        return f"{scheme}://{host}/{quote_some(path[1:], rnd)}{tail}"
    # Without one, an encoded first slash makes the path an authority (`file://%2Ftmp/x`),
    # which VS Code reads as the path `///tmp/x`.
    return f"{scheme}://{quote_some(path, rnd)}{tail}"


paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=paths, seed=st.integers(0, 2**32 - 1))
@example(parts=["private", "x.py"], seed=0)
@example(parts=["app", "local.py"], seed=1)
@example(parts=["src", "deep", "x.py"], seed=2)
def test_every_spelling_is_judged_as_the_path(workspace: Path, parts: list[str], seed: int) -> None:
    rules = IgnoreRules([workspace], probe=lambda folder: False)
    canonical = str(workspace.joinpath(*parts))
    expected = rules.is_ignored(canonical)
    rnd = random.Random(seed)
    for _ in range(8):
        variant = spell(workspace, parts, rnd)
        assert rules.is_ignored(variant) == expected, (variant, canonical)


def test_the_generated_paths_include_both_answers(workspace: Path) -> None:
    # The property above would hold vacuously if every path were ignored (or none).
    rules = IgnoreRules([workspace], probe=lambda folder: False)
    answers = {rules.is_ignored(str(workspace.joinpath(*p))) for p in ([s] for s in SEGMENTS)}
    assert answers == {True, False}
    assert rules.is_ignored(str(workspace / "app" / "local.py"))
    assert not rules.is_ignored(str(workspace / "app" / "keep.sql"))
    assert rules.is_ignored(str(workspace / "src" / "deep" / "x.py"))


@settings(max_examples=300, deadline=None)
@given(parts=paths, flips=st.lists(st.booleans(), min_size=64, max_size=64))
def test_case_does_not_matter_on_a_case_insensitive_root(
    workspace: Path, parts: list[str], flips: list[bool]
) -> None:
    # Simulated (this file system tells case apart): only rules the root's own ignore file
    # holds, whose reading does not depend on folder names, are compared here.
    rules = IgnoreRules([workspace], probe=lambda folder: True)
    canonical = str(workspace.joinpath(*parts))
    assume(not any(p in ("app", "src") for p in parts[:-1]))  # nested files need real folding
    variant = "".join(c.swapcase() if f else c for c, f in zip(canonical, flips * 8, strict=False))
    variant += canonical[len(variant) :]
    assert rules.is_ignored(variant) == rules.is_ignored(canonical), variant


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(SEGMENTS), flips=st.lists(st.booleans(), min_size=32, max_size=32))
def test_builtin_names_ignore_case_everywhere(name: str, flips: list[bool]) -> None:
    variant = "".join(c.swapcase() if f else c for c, f in zip(name, flips, strict=False))
    assert is_builtin(f"/any/where/{variant}") == is_builtin(f"/any/where/{name}")
