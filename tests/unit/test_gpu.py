"""model.gpuLayers: the setting, what it asks of llama.cpp, the build's backends; and a worker
that imports where the `resource` module does not exist (Windows)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from lsp_server.model.build import build_info, parse_system_info
from lsp_server.model.protocol import LoadSpec, Ready, decode_command, decode_event, encode
from lsp_server.model.provision import MODELS, model_path
from lsp_server.model.worker import gpu_layers_for
from lsp_server.settings import Settings, parse_settings


def test_the_default_offloads_all_layers_only_where_the_build_can() -> None:
    assert Settings().model.gpuLayers == -1
    assert gpu_layers_for(-1, can_offload=True) == -1  # llama.cpp: every layer
    assert gpu_layers_for(-1, can_offload=False) == 0
    assert gpu_layers_for(0, can_offload=True) == 0
    assert gpu_layers_for(12, can_offload=False) == 12  # asked for: llama.cpp decides


def test_the_setting_is_checked_and_reaches_the_load_command() -> None:
    settings, warnings = parse_settings({"model": {"gpuLayers": 20}}, source="init")
    assert settings.model.gpuLayers == 20 and not warnings
    _, warnings = parse_settings({"model": {"gpuLayers": -2}}, source="init")
    assert any("gpuLayers" in w for w in warnings)
    spec = LoadSpec("/m.gguf", 4096, 2, gpu_layers=20)
    assert decode_command(encode(spec)) == spec


@pytest.mark.parametrize(
    ("info", "backends"),
    [
        ("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | ", ("CPU",)),
        ("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : SSE3 = 1 | AVX = 1 |", ("CUDA", "CPU")),
        ("Metal : EMBED_LIBRARY = 1 | BF16 = 1 | CPU : NEON = 1 | ARM_FMA = 1 |", ("Metal", "CPU")),
        ("Vulkan : COOPMAT = 1 | CPU : AVX = 1 | CPU : AVX = 1", ("Vulkan", "CPU")),
        ("", ()),
    ],
)
def test_backends_are_read_from_the_system_info(info: str, backends: tuple[str, ...]) -> None:
    assert parse_system_info(info) == backends


def test_this_build_is_cpu_only() -> None:
    build = build_info()
    assert build.backends == ("CPU",) and build.gpu_offload is False


@pytest.mark.model
def test_the_layer_count_reaches_llama_cpp() -> None:
    from lsp_server.model.worker import LlamaEngine

    path = str(model_path(MODELS["0.5b"]))
    for asked, given in ((-1, 0), (0, 0), (7, 7)):  # this build cannot offload: -1 means 0
        engine = LlamaEngine(path, 512, 1, gpu_layers=asked)
        assert engine.llm.model_params.n_gpu_layers == given
        info = engine.info()
        assert info.gpu_layers == given and info.backends == ("CPU",)
        engine.llm.close()


def test_the_worker_imports_and_loads_without_the_resource_module() -> None:
    # As on Windows: `import resource` fails. The memory limit is skipped with a warning.
    script = textwrap.dedent(
        """
        import io, json, logging, sys
        sys.modules["resource"] = None  # any import of it now raises ImportError
        logging.basicConfig(stream=sys.stderr)
        from lsp_server.model import worker
        from lsp_server.model.protocol import LoadSpec, ModelInfo

        class Engine:
            def info(self):
                return ModelInfo("/m.gguf", "qwen2", "qwen2.5-coder", 512, 1.0)

        out = io.StringIO()
        w = worker.Worker(out, make_engine=lambda spec: Engine())
        w.load(LoadSpec("/m.gguf", 512, 1, max_memory_mb=512))
        print(json.dumps([worker.resource is None, out.getvalue()]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    no_module, sent = json.loads(done.stdout)
    (event,) = [decode_event(line) for line in sent.splitlines()]
    assert no_module and isinstance(event, Ready) and event.info.architecture == "qwen2"
    assert "maxMemoryMB is not enforced" in done.stderr
