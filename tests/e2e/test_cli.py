"""The `enclave` command as a user runs it: serve over stdio and TCP, model verify/info, and
the `enclave complete` demo with the real model."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import real_env

ROOT = Path(__file__).resolve().parents[2]
ENCLAVE = [sys.executable, "-m", "lsp_server"]


def frame(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(read: callable) -> dict[str, object]:  # type: ignore[valid-type]
    header = b""
    while not header.endswith(b"\r\n\r\n"):
        chunk = read(1)
        if not chunk:
            raise AssertionError(f"stream closed after {header!r}")
        header += chunk
    length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
    body = b""
    while len(body) < length:
        body += read(length - len(body))
    return json.loads(body)  # type: ignore[no-any-return]


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}


def test_serve_accepts_trailing_stdio_flag() -> None:
    proc = subprocess.Popen(
        [*ENCLAVE, "serve", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdin and proc.stdout
        proc.stdin.write(frame(INITIALIZE))
        proc.stdin.flush()
        reply = read_frame(proc.stdout.read)
        assert reply["id"] == 1
        assert "inlineCompletionProvider" in reply["result"]["capabilities"]  # type: ignore[index]
    finally:
        proc.kill()
        proc.wait()


def test_serve_over_tcp() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [*ENCLAVE, "serve", "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("server never listened")
        with conn:
            conn.sendall(frame(INITIALIZE))
            reply = read_frame(conn.makefile("rb").read)
        assert reply["id"] == 1 and "capabilities" in reply["result"]  # type: ignore[operator]
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.model
def test_model_verify_and_info() -> None:
    verify = subprocess.run(
        [*ENCLAVE, "model", "verify", "--size", "0.5b"], capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    info = subprocess.run(
        [*ENCLAVE, "model", "info", "--size", "0.5b"], capture_output=True, text=True, check=True
    )
    summary = json.loads(info.stdout)
    assert summary["architecture"] == "qwen2"
    assert summary["template"] == "qwen2.5-coder"
    # This machine's build of llama-cpp-python: CPU only, so model.gpuLayers -1 offloads none.
    assert summary["build"] == {"backends": ["CPU"], "gpu_offload": False}


@pytest.mark.model
def test_complete_demo_prints_real_suggestion() -> None:
    demo = ROOT / "docs" / "demo" / "primes.py"
    line = demo.read_text().split("\n").index("    return ") + 1
    result = subprocess.run(
        [*ENCLAVE, "complete", f"{demo}:{line}:12", "--size", "0.5b"],
        capture_output=True,
        text=True,
        timeout=300,
        env=real_env(),
    )
    assert result.returncode == 0, result.stderr
    suggestion = result.stdout.strip()
    assert suggestion, result.stderr
    compile(demo.read_text().replace("    return \n", f"    return {suggestion}\n"), "d", "exec")


def test_version_names_the_distribution_and_matches_its_metadata() -> None:
    from importlib.metadata import version

    out = subprocess.run(
        [*ENCLAVE, "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == f"enclave {version('enclave-lsp')} (enclave-lsp)"
