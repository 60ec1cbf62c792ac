"""The JSON schemas of the listed answers (features/rename.py, features/annotate.py) compile
as llama.cpp grammars: a pattern llama.cpp's converter accepts may still not compile (`\\s`;
a bounded repeat nests a rule per character), and the job would fail at run time."""

from __future__ import annotations

import json

import pytest

from lsp_server.context.documents import Document, Position, Range
from lsp_server.features.annotate import type_slot
from lsp_server.features.edits import resolve_target
from lsp_server.features.rename import name_slot
from lsp_server.model import provision
from lsp_server.prompts.actions import ChatPrompt
from tests.model.test_real_model import require_model

pytestmark = pytest.mark.model

CASES = [
    ("python", "def f(a, b=1):\n    t = a + b\n    return t\n"),
    ("typescript", "function f(a, $b) {\n  const t = a + $b;\n  return t;\n}\n"),
    ("go", "func f(a int) int {\n\tt := a\n\treturn t\n}\n"),
]


@pytest.mark.parametrize(("language", "text"), CASES)
def test_the_listed_answers_schemas_compile(language: str, text: str) -> None:
    import llama_cpp

    require_model("0.5b")
    llm = llama_cpp.Llama(
        str(provision.model_path(provision.MODELS["0.5b"])), vocab_only=True, verbose=False
    )
    snap = Document(f"file:///w/f.{language}", language, 1, text).snapshot()
    target = resolve_target(snap, Range(Position(1, 3), Position(1, 3)))
    slots = [s for s in (name_slot(target), type_slot(target)) if s is not None]
    assert slots and (language == "go") == (len(slots) == 1)
    for slot in slots:
        job = slot.job(ChatPrompt("", (), 256), 1.0)
        grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(job.json_schema))
        sampler = llama_cpp.llama_sampler_init_grammar(
            llm._model.vocab, grammar._grammar.encode(), grammar._root.encode()
        )
        assert sampler, grammar._grammar
        llama_cpp.llama_sampler_free(sampler)
