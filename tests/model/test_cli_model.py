"""The `enclave` command with the real model: model verify/info, and the `enclave complete`
demo."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import real_env
from tests.server.test_cli import ENCLAVE, ROOT


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
