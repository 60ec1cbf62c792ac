"""The model worker: a separate process that owns the one Llama object.

Run as `python -m lsp_server.model.worker`. It reads JSON-line commands on stdin and writes
JSON-line events on a private duplicate of stdout; fd 1 itself is pointed at stderr so native
log output can never corrupt the channel. A native abort here kills only this process; the
server's supervisor restarts it.

One job runs at a time. A reader thread takes commands while a job runs, and the abort flag
(AbortFlag) stops llama.cpp within a decode call when the job is cancelled or out of time.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import queue
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import IO, Any, Protocol

from lsp_server.model.kv_states import MIN_SAVED_TOKENS, SavedState, StateStore, common_prefix
from lsp_server.model.protocol import GenerationStats, first_stop
from lsp_server.prompts.fim import FimTemplate, detect_template, prompt_for_job

logger = logging.getLogger("enclave.worker")

# Benchmarks compare against raw llama-cpp-python on the very same prompts.
DEBUG_PROMPTS = os.environ.get("ENCLAVE_DEBUG_PROMPTS") == "1"
# Tokens per llama_decode call, and per step of the model's compute (the micro-batch). The
# compute buffers grow with the micro-batch: 512 costs 35 MB more resident memory than 256
# with the 1.5B model, for a prompt evaluation no faster within this machine's noise (0-4%).
N_BATCH = 512
N_UBATCH = 256
# Prompt evaluation runs in chunks of this size; the abort callback stops one within
# milliseconds, so smaller chunks would only add calls.
PREFILL_CHUNK = N_BATCH
# Token counts of prompt pieces, kept between jobs: lines and context files mostly repeat from
# one keystroke's prompt to the next. Bounded by the characters of the keys.
COUNT_CACHE_CHARS = 4 << 20
# Room kept free in the context for the generated tokens and template tokens.
CONTEXT_MARGIN = 32

# Asked with True while the prompt is evaluated, False while tokens are generated: a soft
# cancel (the editor typed on, and the next prompt starts the same) lets the prompt evaluation
# finish, since the next job reuses it, but stops generation at once.
StopCheck = Callable[[bool], str | None]


ABORT_POLL_S = 0.005  # how often the watcher asks whether the running decode must stop


class AbortFlag:
    """What llama.cpp asks between two graph nodes, about 650 times per generated token (1.5B):
    stop now? A Python callback there cost about 0.65 us a call, 0.4-0.7 ms per ~100 ms token
    (bench/README.md). Instead llama.cpp calls libc's `strlen` on a two-byte flag (0: go on,
    1: stop), and a watcher thread sets the flag from the Python check every ABORT_POLL_S
    while a decode may run. Without a libc `strlen`, the Python callback."""

    def __init__(self, native: Any) -> None:
        self._buf = ctypes.create_string_buffer(2)
        self._check: Callable[[], bool] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        try:
            strlen = ctypes.CDLL(None).strlen
        except (AttributeError, OSError, TypeError):  # no C library to look it up in
            strlen = None
        if strlen is not None:
            self.callback = ctypes.cast(strlen, native.ggml_abort_callback)
            self.data: ctypes.c_void_p | None = ctypes.cast(self._buf, ctypes.c_void_p)
            threading.Thread(target=self._watch, name="abort-watch", daemon=True).start()
        else:
            self.callback = native.ggml_abort_callback(lambda _data: self._asked())
            self.data = None

    def _asked(self) -> bool:
        check = self._check
        return check is not None and check()

    def watch(self, check: Callable[[], bool]) -> None:
        """From now on stop a decode when `check()` says so."""
        with self._lock:
            self._check = check
            self._buf[0] = b"\0"
        self._wake.set()

    def clear(self) -> None:
        with self._lock:
            self._check = None
            self._buf[0] = b"\0"

    def _watch(self) -> None:
        while self._wake.wait():
            with self._lock:
                if self._check is None:
                    self._wake.clear()
                    continue
                if self._check():
                    self._buf[0] = b"\1"
            time.sleep(ABORT_POLL_S)


@dataclass
class Generated:
    text: str
    stats: GenerationStats


class Engine(Protocol):
    template: FimTemplate
    context_length: int

    def info(self) -> dict[str, Any]: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        json_schema: dict[str, Any] | None = None,
        reuse_cache: bool = True,
        slot: str = "",
    ) -> Generated: ...


def _disable_extra_buffer_types() -> None:
    """Load weights without llama.cpp's extra buffer types (AMX / repacked layouts).

    On CPUs that report AMX inside a VM, llama.cpp 0.3.36 repacks weights for AMX and then
    segfaults in the first decode (seen on this project's build machines). Plain CPU buffers
    work everywhere; Llama() exposes no parameter for this, so its defaults are wrapped."""
    import llama_cpp.llama_cpp as native

    original = native.llama_model_default_params
    if getattr(original, "_enclave_patched", False):
        return

    def params() -> Any:
        p = original()
        p.use_extra_bufts = False
        return p

    params._enclave_patched = True  # type: ignore[attr-defined]
    native.llama_model_default_params = params


class LlamaEngine:
    """llama-cpp-python, greedy decoding, with the evaluated prefix kept between jobs."""

    def __init__(self, path: str, n_ctx: int, threads: int, state_cache_mb: int = 0) -> None:
        _disable_extra_buffer_types()
        from llama_cpp import Llama  # imported here: the fake engine must not need it

        started = time.monotonic()
        self.path = path
        self.llm = Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 2,
            n_batch=N_BATCH,
            n_ubatch=N_UBATCH,
            verbose=False,
        )
        self.load_ms = (time.monotonic() - started) * 1000
        self.context_length = self.llm.n_ctx()
        meta = self.llm.metadata or {}
        self.architecture = str(meta.get("general.architecture", ""))
        self.template = detect_template(self.architecture, self._is_single_token)
        # llama.cpp asks this between graph nodes, so a cancel stops even a long prompt
        # evaluation within milliseconds (the chunks below are the fallback).
        import llama_cpp.llama_cpp as native

        self._abort = AbortFlag(native)
        native.llama_set_abort_callback(self.llm.ctx, self._abort.callback, self._abort.data)
        self._native = native
        # The document whose prompt the model holds, and the saved states of the others.
        self._slot: str | None = None
        self.states = StateStore(state_cache_mb << 20)
        self._counts: dict[str, int] = {}
        self._counted_chars = 0
        self.stop_ids = {self.llm.token_eos()}
        for text in self.template.stop:
            ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self.stop_ids.add(ids[0])

    def _is_single_token(self, text: str) -> bool:
        ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
        if len(ids) != 1:
            return False
        return bool(self.llm.detokenize(ids, special=True) == text.encode())

    def info(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "architecture": self.architecture,
            "template": self.template.name,
            "context_length": self.context_length,
            "load_ms": self.load_ms,
        }

    def count_tokens(self, text: str) -> int:
        n = self._counts.get(text)
        if n is None:
            n = len(self.llm.tokenize(text.encode(), add_bos=False, special=True))
            if self._counted_chars + len(text) > COUNT_CACHE_CHARS:
                self._counts.clear()
                self._counted_chars = 0
            self._counts[text] = n
            self._counted_chars += len(text)
        return n

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        json_schema: dict[str, Any] | None = None,
        reuse_cache: bool = True,
        slot: str = "",
    ) -> Generated:
        llm = self.llm
        grammar = None
        if json_schema is not None:
            from llama_cpp.llama_grammar import LlamaGrammar

            grammar = LlamaGrammar.from_json_schema(json.dumps(json_schema), verbose=False)
        t0 = time.monotonic()  # tokenizing is part of the prompt's cost
        tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
        limit = self.context_length - CONTEXT_MARGIN
        if len(tokens) > limit:
            # The budget should prevent this; keep the end, which holds the FIM markers.
            tokens = tokens[-limit:]
        max_tokens = max(1, min(max_tokens, self.context_length - len(tokens) - 1))
        restored = self._switch(slot, tokens) if reuse_cache else 0
        cached = list(llm.input_ids[: llm.n_tokens]) if reuse_cache else []
        # The last prompt token is evaluated by generate().
        reused = min(common_prefix(cached, tokens), len(tokens) - 1)
        llm.n_tokens = reused
        evaluated = 0
        reason: str | None = None
        out = bytearray()
        text = ""
        generated = 0
        self._abort.watch(lambda: should_stop(True) is not None)
        t1 = t0
        try:
            for start in range(reused, len(tokens) - 1, PREFILL_CHUNK):
                reason = should_stop(True)
                if reason:
                    break
                chunk = tokens[start : min(start + PREFILL_CHUNK, len(tokens) - 1)]
                llm.eval(chunk)
                evaluated += len(chunk)
            t1 = time.monotonic()
            self._abort.watch(lambda: should_stop(False) is not None)
            if reason is None:
                reason = should_stop(False) or "length"
            if reason == "length":
                for token in llm.generate(
                    tokens, top_k=1, temp=0.0, repeat_penalty=1.0, grammar=grammar
                ):
                    if generated == 0:
                        evaluated += 1
                    if token in self.stop_ids:
                        reason = "eos"
                        break
                    generated += 1
                    out += llm.detokenize([token])
                    text = out.decode("utf-8", errors="ignore")
                    hit = first_stop(text, stop)
                    if hit is not None:
                        text = text[:hit]
                        reason = "stop"
                        break
                    if generated >= max_tokens:
                        break
                    check = should_stop(False)
                    if check:
                        reason = check
                        break
        except RuntimeError as exc:
            # llama_decode returns 2 when the abort callback stopped it; the KV cache keeps
            # what was decoded before, and n_tokens (not advanced) says where it ends.
            why = should_stop(False)
            if why is None:
                raise
            reason = why
            logger.debug("decode aborted: %s", exc)
        finally:
            self._abort.clear()
            t1 = t1 if t1 > t0 else time.monotonic()
        stats = GenerationStats(
            prompt_tokens=len(tokens),
            reused_tokens=reused,
            restored_tokens=min(restored, reused),
            evaluated_tokens=evaluated,
            generated_tokens=generated,
            stop_reason=reason,
            prompt_ms=(t1 - t0) * 1000,
            generate_ms=(time.monotonic() - t1) * 1000,
        )
        return Generated(text, stats)

    def _switch(self, slot: str, tokens: Sequence[int]) -> int:
        """Going from one document's prompt to another's: save the state the model holds for
        the one it leaves, and restore the saved state of `slot` when it starts more of
        `tokens` than what the model holds. Returns the number of tokens restored."""
        if slot == self._slot or self.states.cap_bytes == 0:
            self._slot = slot
            return 0
        llm = self.llm
        left, self._slot = self._slot, slot
        saved = self.states.take(slot)  # first: saving the other must not evict it
        if left is not None and llm.n_tokens >= MIN_SAVED_TOKENS:
            self._save(left)
        held = common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        if saved is None or common_prefix(saved.tokens, tokens) <= held:
            return 0
        return self._restore(saved)

    def _save(self, key: str) -> None:
        llm, native = self.llm, self._native
        n = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n, -1)  # an aborted decode may have left cells past n
        size = native.llama_state_seq_get_size(llm.ctx, 0)
        if size > self.states.cap_bytes:
            return
        buf = (ctypes.c_uint8 * size)()
        written = native.llama_state_seq_get_data(llm.ctx, buf, size, 0)
        if written:
            self.states.put(key, SavedState(tuple(llm.input_ids[:n].tolist()), buf, written))

    def _restore(self, saved: SavedState) -> int:
        llm = self.llm
        n = len(saved.tokens)
        if not self._native.llama_state_seq_set_data(llm.ctx, saved.data, saved.size, 0):
            logger.warning("worker: a saved model state could not be restored")
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            return 0
        llm.input_ids[:n] = saved.tokens
        llm.n_tokens = n
        return n


class FakeEngine:
    """A scripted engine for protocol tests (ENCLAVE_FAKE_MODEL): it writes a fixed answer one
    character per 'token', with a delay, and honours cancellation like the real one."""

    def __init__(self, script: dict[str, Any]) -> None:
        time.sleep(float(script.get("load_s", 0.0)))
        if script.get("fail_load"):
            raise RuntimeError(str(script["fail_load"]))
        self.answer = str(script.get("text", "return 42\n"))
        self.delay = float(script.get("token_s", 0.01))
        self.context_length = 4096
        self.template = detect_template("qwen2", lambda t: t.startswith("<|fim_"))

    def info(self) -> dict[str, Any]:
        return {
            "path": "fake",
            "architecture": "fake",
            "template": self.template.name,
            "context_length": self.context_length,
            "load_ms": 0.0,
        }

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        json_schema: dict[str, Any] | None = None,
        reuse_cache: bool = True,
        slot: str = "",
    ) -> Generated:
        if "ENCLAVE_CRASH" in prompt.rsplit("<|fim_prefix|>", 1)[-1]:
            os.abort()  # a native assert in llama.cpp, for the file being completed only
        text = ""
        reason = "length"
        for ch in self.answer[:max_tokens]:
            check = should_stop(False)
            if check:
                reason = check
                break
            time.sleep(self.delay)
            text += ch
            hit = first_stop(text, stop)
            if hit is not None:
                text, reason = text[:hit], "stop"
                break
        else:
            reason = "eos"
        stats = GenerationStats(
            prompt_tokens=self.count_tokens(prompt),
            generated_tokens=len(text),
            stop_reason=reason,
        )
        return Generated(text, stats)


class Worker:
    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.out_lock = threading.Lock()
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.cancelled: set[int] = set()
        self.soft_cancelled: set[int] = set()
        self.cancel_lock = threading.Lock()
        self.engine: Engine | None = None

    def send(self, **event: Any) -> None:
        line = json.dumps(event, ensure_ascii=False)
        with self.out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def read_commands(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                logger.error("worker: unreadable command dropped")
                continue
            if msg.get("op") == "cancel":
                with self.cancel_lock:
                    target = self.soft_cancelled if msg.get("soft") else self.cancelled
                    target.add(int(msg["id"]))
            else:
                msg["_received"] = time.monotonic()  # deadlines count queueing too
                self.inbox.put(msg)
        self.inbox.put(None)  # the server went away

    def redundant(self, job_id: int) -> bool:
        """A soft-cancelled job not yet started, with another job queued behind it: that job
        evaluates the same prompt start (or another prompt), so this one's evaluation is waste."""
        with self.cancel_lock:
            return job_id in self.soft_cancelled and not self.inbox.empty()

    def is_cancelled(self, job_id: int, in_prefill: bool = False) -> bool:
        with self.cancel_lock:
            if job_id in self.cancelled:
                return True
            return not in_prefill and job_id in self.soft_cancelled

    def run(self) -> None:
        while (msg := self.inbox.get()) is not None:
            op = msg.get("op")
            if op == "shutdown":
                break
            if op == "load":
                self.load(msg)
            elif op in ("complete", "generate"):
                self.job(msg)

    def load(self, msg: dict[str, Any]) -> None:
        limit_mb = int(msg.get("max_memory_mb", 0))
        if limit_mb > 0:
            # Address space, not RSS: an allocation past it fails inside this process (llama.cpp
            # then refuses the model) instead of the machine swapping or the OOM killer acting.
            limit = limit_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            fake = os.environ.get("ENCLAVE_FAKE_MODEL")
            if fake:
                self.engine = FakeEngine(json.loads(fake))
            else:
                self.engine = LlamaEngine(
                    str(msg["path"]),
                    int(msg.get("n_ctx", 4096)),
                    int(msg.get("threads", 0)),
                    int(msg.get("state_cache_mb", 0)),
                )
        except Exception as exc:  # any load failure is reported, not fatal to the worker
            logger.exception("worker: model load failed")
            message = f"{type(exc).__name__}: {exc}"
            if limit_mb > 0:
                message += f" (the model worker may use at most {limit_mb} MB: model.maxMemoryMB)"
            self.send(event="load_failed", message=message)
            return
        self.send(event="ready", info=self.engine.info())

    def job(self, msg: dict[str, Any]) -> None:
        job_id = int(msg["id"])
        started = time.monotonic()
        received = float(msg.get("_received", started))
        deadline = received + float(msg.get("deadline_s", 30.0))
        prompt = ""
        build_ms = 0.0
        if self.engine is None:
            self.send(event="error", id=job_id, message="model not loaded")
            return

        def should_stop(in_prefill: bool) -> str | None:
            if self.is_cancelled(job_id, in_prefill):
                return "cancelled"
            if time.monotonic() > deadline:
                return "deadline"
            return None

        try:
            if should_stop(True) == "cancelled" or self.redundant(job_id):
                result = Generated("", GenerationStats(stop_reason="cancelled"))
            else:
                built = time.monotonic()
                prompt = self.prompt_for(msg)
                build_ms = (time.monotonic() - built) * 1000
                result = self.engine.generate(
                    prompt,
                    int(msg.get("max_tokens", 48)),
                    list(msg.get("stop", [])),
                    should_stop,
                    msg.get("json_schema"),
                    bool(msg.get("reuse_cache", True)),
                    str(msg.get("document", "")),
                )
        except Exception as exc:
            logger.exception("worker: generation failed")
            self.send(event="error", id=job_id, message=f"{type(exc).__name__}: {exc}")
            return
        finally:
            with self.cancel_lock:
                self.cancelled.discard(job_id)
                self.soft_cancelled.discard(job_id)
                # A cancel that arrives after its job ended would stay forever: ids only grow,
                # so drop those far behind this one.
                self.cancelled = {i for i in self.cancelled if i > job_id - 256}
                self.soft_cancelled = {i for i in self.soft_cancelled if i > job_id - 256}
        stats = asdict(result.stats)
        stats["kind"] = str(msg.get("kind", ""))
        stats["job_id"] = job_id
        stats["max_tokens"] = int(msg.get("max_tokens", 0))
        stats["queued_ms"] = (started - received) * 1000
        stats["build_ms"] = build_ms
        extra = {"prompt": prompt} if DEBUG_PROMPTS else {}
        self.send(event="result", id=job_id, text=result.text, stats=stats, **extra)

    def prompt_for(self, msg: dict[str, Any]) -> str:
        assert self.engine is not None
        if msg["op"] == "generate":
            return str(msg["prompt"])
        engine = self.engine
        return prompt_for_job(
            engine.template, msg, engine.count_tokens, engine.context_length, CONTEXT_MARGIN
        ).text


def main() -> None:
    # Keep a private handle on the real stdout for the protocol, then send fd 1 to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(
        level=os.environ.get("ENCLAVE_WORKER_LOG", "WARNING"),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    worker = Worker(out)
    stdin = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)  # noqa: SIM115
    threading.Thread(target=worker.read_commands, args=(stdin,), daemon=True).start()
    worker.run()


if __name__ == "__main__":
    main()
