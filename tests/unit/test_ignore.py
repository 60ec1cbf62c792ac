"""Ignore rules: the built-in names, nested .enclaveignore files with git's semantics, re-reading
on change, symlinks, odd files, and the roots initialize names however it names them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_server.context.index import WorkspaceIndex, extract_file, is_secret, scan
from lsp_server.handlers.lsp import workspace_folders
from lsp_server.privacy.ignore import MAX_IGNORE_FILE_BYTES, IgnoreRules, is_builtin
from lsp_server.privacy.paths import probe_case_insensitive
from lsp_server.workspace import is_ignore_file

SECRET_NAMES = (
    ".env",
    ".env.production",
    "prod.env",
    ".envrc",
    "terraform.tfvars",
    "prod.tfvars",
    "prod.tfvars.json",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    ".kube/config",
    ".htpasswd",
    "secrets.toml",
    ".secrets.toml",
    ".netrc",
    ".pgpass",
    "putty.ppk",
    "server.pem",
    "SERVER.PEM",
    "tls.Key",
    "ID_RSA",
    "id_ed25519.pub",
    "Id_Ecdsa",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials.json",
    "gcp-credentials-prod.json",
    "release.keystore",
    "release.JKS",
    "cert.p12",
    "cert.PFX",
    ".docker/config.json",
    ".aws/credentials",
    ".AWS/Credentials",
    "vault.kdbx",
)
ORDINARY_NAMES = (
    "main.py",
    "environment.py",
    "keys.py",
    "config",
    "config.json",
    "kube/config.py",
    "docker/config.json",
    "tfvars.py",
    "main.tf",
    "secrets.py",
    "pem.py",
    "envrc.md",
)


def rules_for(root: Path, insensitive: bool = False) -> IgnoreRules:
    return IgnoreRules([root], probe=lambda folder: insensitive)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_builtin_secret_names_in_any_case_and_folder(tmp_path: Path, name: str) -> None:
    rules = rules_for(tmp_path)
    for variant in (name, name.upper(), name.lower(), f"deep/er/{name}"):
        assert rules.is_ignored(str(tmp_path / variant)), variant
        assert rules.is_ignored((tmp_path / variant).as_uri()), variant
        assert is_secret(str(tmp_path / variant)), variant
    # Outside every root too: built-ins need no workspace.
    assert IgnoreRules().is_ignored(f"/elsewhere/{name}")


@pytest.mark.parametrize("name", ORDINARY_NAMES)
def test_ordinary_names_are_not_ignored(tmp_path: Path, name: str) -> None:
    assert not rules_for(tmp_path).is_ignored(str(tmp_path / name))
    assert not is_builtin(name)


def test_nested_ignore_files_follow_git(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".enclaveignore": "*.sql\n/top_only.py\nvault/\n",
            "app/.enclaveignore": "# rules of app/\n/local.py\n!keep.sql\ngen/\n",
            "app/deep/.enclaveignore": "*.py\n!public.py\n",
            "vault/.enclaveignore": "!*\n",
        },
    )
    rules = rules_for(tmp_path)
    ignored = {
        "dump.sql",  # root rule, any depth
        "app/x/dump.sql",
        "top_only.py",
        "app/local.py",  # anchored to app/, not the root
        "app/gen/a.ts",
        "app/deep/a.py",  # deeper file
        "app/deep/more/b.py",
        "vault/a.py",  # a negation inside an ignored folder cannot bring it back
        "vault/x/y.txt",
    }
    kept = {
        "app/top_only.py",  # /top_only.py is anchored to the root
        "app/x/local.py",  # /local.py is anchored to app/
        "local.py",
        "app/keep.sql",  # app/ re-includes what the root excluded
        "app/x/keep.sql",
        "app/deep/public.py",  # re-included by the deepest file
        "app/deep/notes.md",
        "src/a.py",
    }
    for rel in ignored:
        assert rules.is_ignored(str(tmp_path / rel)), rel
    for rel in kept:
        assert not rules.is_ignored(str(tmp_path / rel)), rel


def test_rules_are_re_read_when_the_file_changes(tmp_path: Path) -> None:
    rules = rules_for(tmp_path)
    target = str(tmp_path / "src" / "keys.py")
    assert not rules.is_ignored(target)
    generation = rules.generation
    # Created, changed, removed; nested files too. Each check sees the file as it is now.
    (tmp_path / ".enclaveignore").write_text("keys.py\n")
    assert rules.is_ignored(target) and rules.generation > generation
    (tmp_path / ".enclaveignore").write_text("other.py\n")
    assert not rules.is_ignored(target)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ".enclaveignore").write_text("/keys.py\n")
    assert rules.is_ignored(target)
    (tmp_path / "src" / ".enclaveignore").unlink()
    assert not rules.is_ignored(target)


def test_refresh_notices_every_changed_ignore_file(tmp_path: Path) -> None:
    write(tmp_path, {"a/.enclaveignore": "x.py\n", "b/c.py": ""})
    rules = rules_for(tmp_path)
    rules.is_ignored(str(tmp_path / "a" / "x.py"))
    rules.is_ignored(str(tmp_path / "b" / "c.py"))
    assert not rules.refresh()
    (tmp_path / "b" / ".enclaveignore").write_text("c.py\n")  # a folder that had none
    generation = rules.generation
    assert rules.refresh() and rules.generation > generation
    assert not rules.refresh()
    (tmp_path / "a" / ".enclaveignore").write_text("y.py\n")  # same size, new content
    os.utime(tmp_path / "a" / ".enclaveignore", ns=(1, 1))
    assert rules.refresh()
    assert rules.is_ignored(str(tmp_path / "a" / "y.py"))
    assert not rules.is_ignored(str(tmp_path / "a" / "x.py"))
    before = rules.generation
    rules.invalidate()
    assert rules.generation > before


def test_symlinks_cannot_walk_around_a_rule(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    write(ws, {".enclaveignore": "private/\n", "private/keys.py": "K = 1\n", ".env": "A=1\n"})
    outside.mkdir()
    (ws / "alias.py").symlink_to(ws / "private" / "keys.py")  # file link into the folder
    (ws / "view").symlink_to(ws / "private")  # folder link
    (ws / "chain.py").symlink_to(ws / "alias.py")  # a link to a link
    (ws / "settings.py").symlink_to(ws / ".env")  # an innocent name for a built-in secret
    (outside / "from_outside.py").symlink_to(ws / "private" / "keys.py")
    (ws / "loop.py").symlink_to(ws / "loop.py")
    rules = rules_for(ws)
    for path in (
        ws / "alias.py",
        ws / "view" / "keys.py",
        ws / "view" / "new.py",  # not there yet: the folder it would be in decides
        ws / "chain.py",
        ws / "settings.py",
        outside / "from_outside.py",
    ):
        assert rules.is_ignored(str(path)), path
        assert rules.is_ignored(path.as_uri()), path
    assert not rules.is_ignored(str(ws / "loop.py"))  # a loop is no crash
    assert not rules.is_ignored(str(ws / "main.py"))


def test_a_root_named_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    write(real, {".enclaveignore": "private/\n"})
    (tmp_path / "link").symlink_to(real)
    for root, opened in ((tmp_path / "link", real), (real, tmp_path / "link")):
        rules = rules_for(root)
        assert rules.is_ignored(str(opened / "private" / "a.py")), (root, opened)
        assert not rules.is_ignored(str(opened / "public" / "a.py"))


def test_case_insensitive_roots_ignore_case(tmp_path: Path) -> None:
    write(tmp_path, {".enclaveignore": "Private/\n*.SQL\n", "Sub/.enclaveignore": "/Local.py\n"})
    insensitive = rules_for(tmp_path, insensitive=True)
    sensitive = rules_for(tmp_path, insensitive=False)
    # (Sub/ as on disk: a simulated case-insensitive file system cannot fold folder names.)
    for rel in ("private/a.py", "PRIVATE/a.py", "db/dump.sql", "Sub/LOCAL.PY"):
        assert insensitive.is_ignored(str(tmp_path / rel)), rel
    # The root itself named in another case.
    other_case = str(tmp_path).swapcase() + "/private/a.py"
    assert insensitive.is_ignored(other_case)
    assert not sensitive.is_ignored(other_case)
    # On a case-sensitive file system these are other files, as git would have it.
    assert sensitive.is_ignored(str(tmp_path / "Private/a.py"))
    assert not sensitive.is_ignored(str(tmp_path / "private/a.py"))


def test_probe_tells_case_insensitive_file_systems_apart(tmp_path: Path) -> None:
    (tmp_path / "sensitive").mkdir()
    (tmp_path / "sensitive" / "Readme").write_text("x")
    assert probe_case_insensitive(str(tmp_path / "sensitive")) is False
    # Two names for one file, differing by case: what a case-insensitive file system shows.
    folder = tmp_path / "folding"
    folder.mkdir()
    (folder / "Readme").write_text("x")
    os.link(folder / "Readme", folder / "rEADME")
    assert probe_case_insensitive(str(folder)) is True
    # Two different files whose names differ by case: case-sensitive.
    (tmp_path / "both").mkdir()
    (tmp_path / "both" / "A").write_text("1")
    (tmp_path / "both" / "a").write_text("2")
    assert probe_case_insensitive(str(tmp_path / "both")) is False
    # Nothing to tell by: the rules take the stricter answer (ignore case).
    rules = IgnoreRules([tmp_path / "123"], probe=lambda folder: None)
    (tmp_path / "123").mkdir()
    (tmp_path / "123" / ".enclaveignore").write_text("secret/\n")
    assert rules.is_ignored(str(tmp_path / "123" / "SECRET" / "a.py"))


def test_documents_without_a_path_and_other_schemes(tmp_path: Path) -> None:
    (tmp_path / ".enclaveignore").write_text("private/\n")
    rules = rules_for(tmp_path)
    assert not rules.is_ignored("untitled:Untitled-1")
    assert rules.is_ignored("untitled:.env")  # a built-in name is a built-in name
    secret = tmp_path / "private" / "a.py"
    # A diff view or a notebook cell of an ignored file is the ignored file's text.
    assert rules.is_ignored(f"git:{secret}?%7B%22ref%22%3A%22HEAD%22%7D")
    assert rules.is_ignored(f"vscode-notebook-cell:{secret}#W0sZmlsZQ%3D%3D")
    assert rules.is_ignored("file:///ws/a%00b.py")  # names no file: refused


def test_odd_ignore_files(tmp_path: Path) -> None:
    # A FIFO must not hang the server; an invalid pattern must not drop the valid ones; an
    # oversized file is read up to the cap.
    ws = tmp_path / "ws"
    write(ws, {"big/.enclaveignore": "first.py\n" + "#" * MAX_IGNORE_FILE_BYTES + "\nlast.py\n"})
    (ws / ".enclaveignore").write_text("a.py\n!\nb.py\n")
    (ws / "fifo").mkdir()
    os.mkfifo(ws / "fifo" / ".enclaveignore")
    rules = rules_for(ws)
    assert rules.is_ignored(str(ws / "a.py")) and rules.is_ignored(str(ws / "b.py"))
    assert not rules.is_ignored(str(ws / "fifo" / "x.py"))
    assert rules.is_ignored(str(ws / "big" / "first.py"))
    assert not rules.is_ignored(str(ws / "big" / "last.py"))


def test_index_refuses_ignored_files_on_every_way_in(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".enclaveignore": "private/\n",
            "private/keys.py": "def leaked(): pass\n",
            "sub/.enclaveignore": "gen.py\n",
            "sub/gen.py": "def generated(): pass\n",
            "ok.py": "def fine(): pass\n",
            "Deploy/ID_RSA.py": "def key(): pass\n",
        },
    )
    rules = rules_for(tmp_path)
    found = {rel for _, rel in scan(tmp_path, extra_ignored=rules.is_ignored)}
    assert found == {"ok.py"}
    index = WorkspaceIndex()
    index.roots = [tmp_path]
    index.excluded = rules.is_ignored
    for rel in ("private/keys.py", "sub/gen.py", "ok.py"):
        entry = extract_file(str(tmp_path / rel), rel)
        assert entry is not None
        index.put(entry)  # what a save of an open document or a racing build does
    assert set(index.files) == {str(tmp_path / "ok.py")}
    # A rule added later: the next put of that file removes it.
    (tmp_path / ".enclaveignore").write_text("private/\nok.py\n")
    entry = extract_file(str(tmp_path / "ok.py"), "ok.py")
    assert entry is not None
    index.put(entry)
    assert not index.files


def test_roots_however_initialize_names_them(tmp_path: Path) -> None:
    a, b, c = (str(tmp_path / n) for n in ("a", "b", "c"))
    folders = [types.WorkspaceFolder(Path(a).as_uri(), "a")]
    only_path = types.InitializeParams(capabilities=types.ClientCapabilities(), root_path=b)
    only_uri = types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri="FILE://localhost" + b + "/x/.."
    )
    everything = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_path=c,
        root_uri=Path(b).as_uri(),
        workspace_folders=folders,
    )
    assert workspace_folders(only_path).named == workspace_folders(only_path).indexed == [b]
    assert workspace_folders(only_uri).named == workspace_folders(only_uri).indexed == [b]
    assert workspace_folders(everything).named == [a, b, c]  # every rule set applies
    assert workspace_folders(everything).indexed == [a]  # the index reads the workspace folders
    odd = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri="untitled:x",
        root_path="relative/path",
        workspace_folders=[types.WorkspaceFolder("vscode-remote://h/ws", "ws")],
    )
    assert workspace_folders(odd).named == workspace_folders(odd).indexed == []


def test_ignore_file_names_in_any_case() -> None:
    assert is_ignore_file("file:///ws/sub/.enclaveignore")
    assert is_ignore_file("file:///ws/.ENCLAVEIGNORE")
    assert not is_ignore_file("file:///ws/.enclaveignore.bak")
