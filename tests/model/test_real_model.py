"""End to end with the real local model: the server, its worker and llama.cpp, through a real
LSP client. Most use the 0.5B model to keep CI short; one runs the 1.5B default.

The models must have been provisioned (`enclave model fetch --size 0.5b` and `--size 1.5b`;
`make test` does it)."""

from __future__ import annotations

import ast
import asyncio
import os
import signal
import stat
import time
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_server.context.documents import Document
from lsp_server.context.syntax import count_error_nodes
from lsp_server.model import provision, state_files
from tests.helpers import (
    DATA,
    SERVER_COMMAND,
    get_status,
    inline_params,
    open_doc,
    position_of,
    real_env,
    wait_for_state,
)

pytestmark = pytest.mark.model

CURSOR = "<CURSOR>"
# Each file marks the cursor with <CURSOR>, in an empty body (a multi-line completion).
CASES = [("stats.py", "python"), ("cart.ts", "typescript"), ("shapes.go", "go")]


def load_case(name: str) -> tuple[Path, str, int]:
    """The file, its text without the marker, and the cursor's offset."""
    path = DATA / name
    marked = path.read_text()
    return path, marked.replace(CURSOR, ""), marked.index(CURSOR)


def require_model(size: str) -> None:
    spec = provision.MODELS[size]
    if not provision.verify(provision.model_path(spec), spec, quick=True).ok:
        pytest.fail(f"model {size} not provisioned: run `enclave model fetch --size {size}`")


def insert(text: str, offset: int, completion: str) -> str:
    return text[:offset] + completion + text[offset:]


def errors_in(path: Path, language_id: str, text: str) -> int:
    doc = Document(path.as_uri(), language_id, 1, text)
    assert doc.tree is not None
    return count_error_nodes(doc.tree)


def config(size: str) -> ClientServerConfig:
    return ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env())


async def start(client: LanguageClient, size: str, **completion: object) -> None:
    require_model(size)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": {"size": size}, "completion": completion},
        )
    )
    status = await wait_for_state(client, {"ready", "error"}, 180)
    assert status["state"] == "ready", status


@pytest_lsp.fixture(config=config("0.5b"))
async def small(lsp_client: LanguageClient):
    await start(lsp_client, "0.5b")
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize(("name", "language_id"), CASES)
async def test_real_suggestion_parses(small: LanguageClient, name: str, language_id: str) -> None:
    path, text, offset = load_case(name)
    uri = open_doc(small, path, text, language_id)
    line, col = position_of(text, offset)
    result = await small.text_document_inline_completion_async(inline_params(uri, line, col))
    status = await get_status(small)
    assert result.items, f"empty suggestion: {status['lastEmptyReason']}"
    suggestion = result.items[0].insert_text
    assert isinstance(suggestion, str) and suggestion.strip()
    after = insert(text, offset, suggestion)
    assert errors_in(path, language_id, after) == 0, after
    if language_id == "python":
        ast.parse(after)
    stats = status["recent"][-1]
    assert stats["generated_tokens"] > 0 and stats["prompt_tokens"] > 0


async def test_real_cancellation_frees_the_worker(small: LanguageClient) -> None:
    path, text, offset = load_case("stats.py")
    uri = open_doc(small, path, text, "python")
    line, col = position_of(text, offset)
    params = inline_params(uri, line, col)
    fut = asyncio.ensure_future(
        small.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="real-cancel"
        )
    )
    await asyncio.sleep(0.3)
    small.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="real-cancel"))
    with pytest.raises((JsonRpcException, asyncio.CancelledError)):
        await asyncio.wait_for(fut, 10)
    for _ in range(200):
        recent = (await get_status(small))["recent"]
        if recent and recent[-1]["stop_reason"] == "cancelled":
            break
        await asyncio.sleep(0.05)
    assert recent[-1]["stop_reason"] == "cancelled", recent
    # The next request is answered, with the prompt prefix evaluated before reused.
    result = await small.text_document_inline_completion_async(params)
    assert result.items
    last = (await get_status(small))["recent"][-1]
    assert last["stop_reason"] != "cancelled"


@pytest_lsp.fixture(config=config("1.5b"))
async def default_model(lsp_client: LanguageClient):
    await start(lsp_client, "1.5b")
    yield
    await lsp_client.shutdown_session()


@pytest.mark.slow
async def test_default_model_completes_python(default_model: LanguageClient) -> None:
    path, text, offset = load_case("stats.py")
    uri = open_doc(default_model, path, text, "python")
    line, col = position_of(text, offset)
    result = await default_model.text_document_inline_completion_async(
        inline_params(uri, line, col)
    )
    assert result.items, (await get_status(default_model))["lastEmptyReason"]
    suggestion = result.items[0].insert_text
    assert isinstance(suggestion, str)
    ast.parse(insert(text, offset, suggestion))
    status = await get_status(default_model)
    assert status["modelInfo"]["template"].startswith("qwen")
    assert status["modelInfo"]["path"].endswith("1.5b-instruct-q4_k_m.gguf")


@pytest.fixture
def truncated_model(tmp_path: Path) -> Path:
    """The first 4 MB of the real 0.5B model: a GGUF header, then nothing."""
    require_model("0.5b")
    source = provision.model_path(provision.MODELS["0.5b"])
    target = tmp_path / "truncated.gguf"
    with source.open("rb") as f:
        target.write_bytes(f.read(4 << 20))
    return target


async def test_truncated_model_file_is_reported_not_hung(
    truncated_model: Path, tmp_path: Path
) -> None:
    from pytest_lsp import ClientServerConfig

    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env()).start()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                initialization_options={"model": {"path": str(truncated_model)}},
            )
        )
        status = await wait_for_state(client, {"ready", "error"}, 60)
        assert status["state"] == "error" and "failed to load" in status["message"]
        path = tmp_path / "a.py"
        uri = open_doc(client, path, "x = \n", "python")
        result = await client.text_document_inline_completion_async(inline_params(uri, 0, 4))
        assert not result.items
        assert (await get_status(client))["lastEmptyReason"]
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_model_too_big_for_the_memory_limit_is_reported() -> None:
    from pytest_lsp import ClientServerConfig

    require_model("0.5b")
    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=real_env()).start()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                # Out of memory at load, made certain: 400 MB of address space for a model
                # that needs more.
                initialization_options={"model": {"size": "0.5b", "maxMemoryMB": 400}},
            )
        )
        status = await wait_for_state(client, {"ready", "error"}, 60)
        assert status["state"] == "error" and "model.maxMemoryMB" in status["message"]
        # Raising the limit recovers without restarting the server.
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"model": {"maxMemoryMB": 0}})
        )
        status = await wait_for_state(client, {"ready"}, 120)
        assert status["state"] == "ready"
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_focus_warms_the_first_request_in_a_file(small: LanguageClient) -> None:
    """enclave/didFocus (sent by the editor clients when a file or cursor settles) evaluates
    the prompt in idle time: the first request there then evaluates only a few tokens."""
    path, text, offset = load_case("cart.ts")
    uri = open_doc(small, path, text, "typescript")
    line, col = position_of(text, offset)
    small.protocol.notify(
        "enclave/didFocus",
        {"textDocument": {"uri": uri}, "position": {"line": line, "character": col}},
    )
    warm: dict[str, object] = {}
    for _ in range(600):
        warm = next((s for s in (await get_status(small))["recent"] if s["kind"] == "warmup"), {})
        if warm:
            break
        await asyncio.sleep(0.1)
    assert warm and warm["stop_reason"] != "cancelled", warm
    result = await small.text_document_inline_completion_async(inline_params(uri, line, col))
    assert result.items
    user = (await get_status(small))["recent"][-1]
    assert user["kind"] == "user"
    assert user["prompt_tokens"] > 60
    assert user["prompt_tokens"] - user["reused_tokens"] <= 8, user


async def test_coming_back_to_a_file_restores_its_evaluated_prompt(small: LanguageClient) -> None:
    """The worker saves the model's state for the file it leaves (model.stateCacheMB): after a
    request in another file, the next request in the first one evaluates only what was typed,
    not the file's whole prompt again."""
    small.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"completion": {"prefetch": False}})
    )
    path_a, text_a, offset_a = load_case("stats.py")
    uri_a = open_doc(small, path_a, text_a, "python")
    line, col = position_of(text_a, offset_a)
    first = await small.text_document_inline_completion_async(inline_params(uri_a, line, col))
    path_b, text_b, offset_b = load_case("cart.ts")
    uri_b = open_doc(small, path_b, text_b, "typescript")
    await small.text_document_inline_completion_async(
        inline_params(uri_b, *position_of(text_b, offset_b))
    )
    recent = (await get_status(small))["recent"]
    other = recent[-1]
    assert other["kind"] == "user" and other["restored_tokens"] == 0, other
    assert other["evaluated_tokens"] > 60, other  # a new file: its whole prompt

    # What the suggestion does not start with, or the typed-through cache would answer.
    said = str(first.items[0].insert_text) if first and first.items else ""
    typed = next(t for t in ("result", "total", "values") if not said.startswith(t))
    small.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri_a, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(line, col), types.Position(line, col)),
                    text=typed,
                )
            ],
        )
    )
    await small.text_document_inline_completion_async(inline_params(uri_a, line, col + len(typed)))
    since = (await get_status(small))["recent"][len(recent) :]
    back = since[-1]
    assert back["kind"] == "user", since
    # Restored by this request, or by the warm-up the switch back started.
    assert max(s["restored_tokens"] for s in since) > 60, since
    assert back["prompt_tokens"] - back["reused_tokens"] <= 8, since

    # The states were files (the default): in the worker's own owner-only folder, and removed
    # by the server when the worker is killed (it cannot remove them itself then).
    pid = (await get_status(small))["workerPid"]
    (folder,) = state_files.default_base().glob(f"{pid}-*")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    held = list(folder.iterdir())
    assert held and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in held)
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not folder.exists():
            break
        await asyncio.sleep(0.05)
    assert not folder.exists()


@pytest.mark.parametrize("where", ["files", "memory", "refused-folder"])
def test_a_restored_state_answers_as_a_fresh_evaluation(tmp_path: Path, where: str) -> None:
    """The saved state is the model's own work: after going to another prompt and back, the
    same prompt gives the same greedy answer as when it was evaluated from scratch. On disk,
    the state of the file left is one owner-only file, removed once restored or at close; a
    folder that cannot hold them safely (here a file) keeps them in memory."""
    from lsp_server.model.worker import LlamaEngine

    require_model("0.5b")
    # Room for one saved state (3 MB and 1.4 MB here): going back to A must restore it
    # before saving B's state can push it out.
    model = str(provision.model_path(provision.MODELS["0.5b"]))
    folder = {"files": str(tmp_path / "states"), "memory": ""}.get(where, str(tmp_path / "f"))
    (tmp_path / "f").write_text("not a folder")
    on_disk = where == "files"
    engine = LlamaEngine(model, 2048, 0, 4, state_folder=folder)
    _, text_a, offset_a = load_case("stats.py")
    _, text_b, offset_b = load_case("shapes.go")
    fim = "<|fim_prefix|>{}<|fim_suffix|>{}<|fim_middle|>"
    prompt_a = fim.format(text_a[:offset_a], text_a[offset_a:])
    prompt_b = fim.format(text_b[:offset_b], text_b[offset_b:])

    def go(prompt: str, slot: str) -> tuple[str, int, int]:
        out = engine.generate(prompt, 24, [], lambda _prefill: None, slot=slot)
        return out.text, out.stats.restored_tokens, out.stats.evaluated_tokens

    def saved() -> list[Path]:
        return sorted(engine.files.folder.iterdir()) if engine.files else []

    fresh, restored, evaluated = go(prompt_a, "a")
    assert restored == 0 and evaluated > 100
    go(prompt_b, "b")
    held = saved()  # A's state
    assert len(held) == on_disk and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in held)
    again, restored, evaluated = go(prompt_a, "a")
    assert restored > 100 and evaluated <= 2
    assert again == fresh
    if not on_disk:
        assert engine.files is None and engine.states.bytes > 0
        return
    now = saved()  # B's state; A's file went once restored
    assert len(now) == 1 and now != held and engine.states.bytes == now[0].stat().st_size
    folder_path = engine.files.folder
    engine.close()
    assert not folder_path.exists()


def test_a_cancel_stops_a_prompt_evaluation_within_its_decode_call() -> None:
    """The abort flag stops llama.cpp inside one decode call (one prompt chunk), not at the
    next chunk or token: nothing of the chunk counts as evaluated."""
    from lsp_server.model.worker import PREFILL_CHUNK, LlamaEngine

    require_model("0.5b")
    engine = LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 2048, 0)
    _, text, _ = load_case("stats.py")
    prompt = "<|fim_prefix|>" + text * 4
    tokens = engine.llm.tokenize(prompt.encode(), add_bos=True, special=True)
    prompt = engine.llm.detokenize(tokens[1 : PREFILL_CHUNK - 8], special=True).decode()
    began: list[float] = []

    def should_stop(_prefill: bool) -> str | None:
        if not began:  # asked before the chunk: let it start
            began.append(time.monotonic())
            return None
        return "cancelled" if time.monotonic() > began[0] + 0.1 else None

    out = engine.generate(prompt, 8, [], should_stop)
    assert out.stats.stop_reason == "cancelled"
    assert out.stats.evaluated_tokens == 0, out.stats  # the one chunk did not finish
    assert engine.llm.n_tokens < PREFILL_CHUNK - 8
    # The engine works on afterwards.
    again = engine.generate(prompt, 4, [], lambda _prefill: None)
    assert again.stats.stop_reason != "cancelled" and again.stats.evaluated_tokens > 0


def test_token_counts_come_from_a_bounded_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompt layout counts the same lines on every keystroke: counts are cached, give the
    tokenizer's answer, and the cache stays within its character bound."""
    from lsp_server.model import worker

    require_model("0.5b")
    monkeypatch.setattr(worker, "COUNT_CACHE_CHARS", 400)
    engine = worker.LlamaEngine(str(provision.model_path(provision.MODELS["0.5b"])), 512, 0)
    lines = load_case("stats.py")[1].splitlines(keepends=True)
    truth = [len(engine.llm.tokenize(x.encode(), add_bos=False, special=True)) for x in lines]
    for _ in range(2):  # the second pass reads the cache, cleared whenever it filled up
        assert [engine.count_tokens(x) for x in lines] == truth
        assert 0 < sum(map(len, engine._counts)) <= 400
