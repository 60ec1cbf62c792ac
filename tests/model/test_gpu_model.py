"""model.gpuLayers reaches llama.cpp: the real 0.5B model loaded with each layer count (the
setting and the build's backends without a model are in tests/unit/test_gpu.py)."""

from __future__ import annotations

import pytest

from lsp_server.model.provision import MODELS, model_path


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
