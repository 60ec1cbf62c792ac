"""The model worker: a separate process that owns the one Llama object.

Run as `python -m lsp_server.model.worker`. It reads JSON-line commands on stdin and writes
JSON-line events on a private duplicate of stdout; fd 1 itself is pointed at stderr so native
log output can never corrupt the channel. A native abort here kills only this process; the
server's supervisor restarts it.

One job runs at a time. A reader thread takes commands while a job runs, and the abort flag
(AbortFlag) stops llama.cpp within a decode call when the job is cancelled or out of time.

Messages are typed (protocol.py): a job that does not decode is answered with a JobFailed
naming the field when its id can be read, a load command with a LoadFailed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib.util
import json
import logging
import os
import queue

try:
    import resource
except ImportError:  # Windows: no address-space limit there (model.maxMemoryMB is skipped)
    resource = None  # type: ignore[assignment]
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from lsp_server.model.alternatives import OTHERS_PER_STEP, Step, branches, top_tokens
from lsp_server.model.block_end import RULES, BlockEnd, block_end
from lsp_server.model.draft_policy import DraftPolicy
from lsp_server.model.json_items import repeat_end
from lsp_server.model.kv_states import MIN_SAVED_TOKENS, SavedState, StateStore, common_prefix
from lsp_server.model.lookup import PromptLookup, next_draft_length
from lsp_server.model.protocol import (
    DEBUG_PROMPTS,
    Cancel,
    Command,
    CompletionJob,
    Event,
    GenerateJob,
    GenerationResult,
    GenerationStats,
    Job,
    JobDone,
    JobFailed,
    LoadFailed,
    LoadSpec,
    ModelInfo,
    ProtocolError,
    Ready,
    RunJob,
    ScoreJob,
    Shutdown,
    decode_command,
    encode,
    first_stop,
)
from lsp_server.model.scoring import score_batches, token_scores
from lsp_server.model.state_files import StateFiles
from lsp_server.prompts.fim import CONTEXT_MARGIN, FimTemplate, detect_template, prompt_for_job

logger = logging.getLogger("enclave.worker")
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

# Asked with True while the prompt is evaluated, False while tokens are generated: a soft
# cancel (the editor typed on, and the next prompt starts the same) lets the prompt evaluation
# finish, since the next job reuses it, but stops generation at once.
StopCheck = Callable[[bool], str | None]
# Asked with the answer so far: the length to keep when it is complete (its block has ended).
EndCheck = Callable[[str], int | None]


# Stop reasons of an answer that ended by itself: only such an answer gets alternatives.
DONE = ("stop", "eos", "block_end", "length")


@dataclass
class Run:
    """A greedy continuation as it is generated."""

    text: str = ""
    tokens: list[int] = field(default_factory=list)  # generated, stop and end tokens excluded
    generated: int = 0
    reason: str = "length"
    sampled: bool = False  # the model sampled at least once (it evaluated the last token)
    alternative_tokens: int = 0  # generated for the alternatives after this answer
    drafted: int = 0  # prompt-lookup tokens guessed, and accepted by the model
    accepted: int = 0
    out: bytearray = field(default_factory=bytearray)  # the answer's bytes

    def add(
        self,
        token: int,
        piece: bytes,
        stop_ids: set[int],
        stop: Sequence[str],
        ends: EndCheck | None,
        most: int,
    ) -> bool:
        """A sampled token: True when the answer ends with it (an end-of-generation token,
        not taken, or what `take` says)."""
        if token in stop_ids:
            self.reason = "eos"
            return True
        return self.take(token, piece, stop, ends, most)

    def halted(self, should_stop: StopCheck) -> bool:
        """True when the job was stopped from outside (cancelled, past its deadline), with
        that as the answer's reason."""
        why = should_stop(False)
        if why:
            self.reason = why
        return bool(why)

    def take(
        self, token: int, piece: bytes, stop: Sequence[str], ends: EndCheck | None, most: int
    ) -> bool:
        """Add a generated token (`piece`: its bytes); True when the answer is complete: a stop
        string, the end of its block, or `most` tokens."""
        self.generated += 1
        self.tokens.append(token)
        self.out += piece
        self.text = self.out.decode("utf-8", errors="ignore")
        hit = first_stop(self.text, stop)
        if hit is not None:
            self.text, self.reason = self.text[:hit], "stop"
            return True
        cut = ends(self.text) if ends is not None else None
        if cut is not None:
            self.text, self.reason = self.text[:cut], "block_end"
            return True
        return self.generated >= most


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


class Engine(Protocol):
    """The model as the worker uses it: LlamaEngine, or the tests' scripted engine."""

    template: FimTemplate
    context_length: int

    def info(self) -> ModelInfo: ...

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
        ends: EndCheck | None = None,
        alternatives: int = 0,
        lookup: bool = False,
    ) -> GenerationResult: ...

    def score(
        self, context: str, text: str, alternatives: int, should_stop: StopCheck
    ) -> GenerationResult: ...


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


def gpu_layers_for(requested: int, can_offload: bool) -> int:
    """llama.cpp's n_gpu_layers for `model.gpuLayers`: -1 (the default) is every layer when
    the build can offload and none when it cannot; any other value is taken as it is."""
    if requested < 0:
        return -1 if can_offload else 0
    return requested


class LlamaEngine:
    """llama-cpp-python, greedy decoding, with the evaluated prefix kept between jobs."""

    # A grammar checks the likeliest token first (model/grammar.py); False: llama-cpp-python's
    # sampler chain, which filters the vocabulary at every step (for the bench and tests).
    lazy_grammar = True

    def __init__(
        self,
        path: str,
        n_ctx: int,
        threads: int,
        state_cache_mb: int = 0,
        gpu_layers: int = -1,
        state_folder: str = "",
    ) -> None:
        _disable_extra_buffer_types()
        from llama_cpp import Llama  # imported here: the fake engine must not need it

        from lsp_server.model.build import build_info

        started = time.monotonic()
        self.path = path
        build = build_info()
        self.backends = build.backends
        self.gpu_layers = gpu_layers_for(gpu_layers, build.gpu_offload)
        self.llm = Llama(
            model_path=path,
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 2,
            n_gpu_layers=self.gpu_layers,
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
        self.states = StateStore(state_cache_mb << 20, self._forget)
        self.files: StateFiles | None = None
        if state_folder and state_cache_mb > 0:
            try:
                self.files = StateFiles(Path(state_folder))
            except OSError as exc:
                logger.warning("worker: saved model states stay in memory: %s", exc)
        self._counts: dict[str, int] = {}
        self._counted_chars = 0
        self.stop_ids = {self.llm.token_eos()}
        self.drafts = DraftPolicy()  # learns this machine's decode costs (the benches swap it)
        for text in self.template.stop:
            ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self.stop_ids.add(ids[0])

    def _is_single_token(self, text: str) -> bool:
        ids = self.llm.tokenize(text.encode(), add_bos=False, special=True)
        if len(ids) != 1:
            return False
        return bool(self.llm.detokenize(ids, special=True) == text.encode())

    def info(self) -> ModelInfo:
        return ModelInfo(
            self.path,
            self.architecture,
            self.template.name,
            self.context_length,
            self.load_ms,
            self.backends,
            self.gpu_layers,
        )

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
        ends: EndCheck | None = None,
        alternatives: int = 0,
        lookup: bool = False,
    ) -> GenerationResult:
        """Greedy decoding of `prompt`; with `alternatives`, also up to that many other
        answers branching from the greedy one (GenerationResult.alternatives); with `lookup`
        (and no grammar), checking prompt-lookup drafts (model/lookup.py)."""
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
        run = Run()
        steps: list[Step] | None = [] if alternatives > 0 else None
        others: list[str] = []
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
                reason = should_stop(False)
            if reason is None:
                if lookup and grammar is None and steps is None:
                    run = self._speculate(tokens, max_tokens, stop, should_stop, ends)
                elif grammar is not None and steps is None and self.lazy_grammar:
                    run = self._constrained(tokens, max_tokens, stop, should_stop, ends, grammar)
                else:
                    run = self._continue(
                        tokens, b"", max_tokens, stop, should_stop, ends, grammar, steps
                    )
                evaluated += 1 if run.sampled else 0  # the prompt's last token
                reason = run.reason
                if steps and reason in DONE:
                    others = self._alternatives(
                        tokens, run, steps, alternatives, max_tokens, stop, should_stop, ends
                    )
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
            generated_tokens=run.generated,
            alternative_tokens=run.alternative_tokens,
            drafted_tokens=run.drafted,
            accepted_tokens=run.accepted,
            stop_reason=reason,
            prompt_ms=(t1 - t0) * 1000,
            generate_ms=(time.monotonic() - t1) * 1000,
        )
        return GenerationResult(run.text, stats, alternatives=tuple(others))

    def score(
        self, context: str, text: str, alternatives: int, should_stop: StopCheck
    ) -> GenerationResult:
        """Each token of `text` scored after `context` (model/scoring.py); the context is cut
        at its start to fit."""
        llm = self.llm
        t0 = time.monotonic()
        # Document text, read as text: a special token's spelling in it is not that token.
        body = llm.tokenize(text.encode(), add_bos=False, special=False)
        room = self.context_length - CONTEXT_MARGIN - len(body)
        if not body or room < 1:
            return GenerationResult("", GenerationStats(stop_reason="length"))
        head = llm.tokenize(context.encode(), add_bos=True, special=False)[-room:]
        skip = 0
        if not head:  # no context and no BOS token (Qwen): the first token is not scored
            head, skip = body[:1], 1
            if len(body) == 1:
                return GenerationResult("", GenerationStats(stop_reason="length"))
        self._switch("", head)
        reused = min(common_prefix(list(llm.input_ids[: llm.n_tokens]), head), len(head) - 1)
        llm.n_tokens = reused
        scored: list[tuple[float, list[tuple[int, float]]]] | None = None
        reason = "stop"
        t1 = t0
        self._abort.watch(lambda: should_stop(True) is not None)
        try:
            for start in range(reused, len(head) - 1, PREFILL_CHUNK):
                if should_stop(True):
                    break
                llm.eval(head[start : min(start + PREFILL_CHUNK, len(head) - 1)])
            t1 = time.monotonic()
            if llm.n_tokens == len(head) - 1:
                scored = score_batches(
                    llm,
                    self._native,
                    head[-1],
                    body[skip:],
                    alternatives,
                    lambda: should_stop(False) is not None,
                )
        except RuntimeError as exc:  # the abort flag stopped a decode
            if should_stop(False) is None:
                raise
            logger.debug("decode aborted: %s", exc)
        finally:
            self._abort.clear()
        if scored is None:
            reason = should_stop(False) or "cancelled"
            scored = []
        pieces = [llm.detokenize([t]) for t in body]
        scores = token_scores(
            pieces, scored, lambda t: llm.detokenize([t]).decode("utf-8", errors="replace"), skip
        )
        stats = GenerationStats(
            prompt_tokens=len(head) + len(body),
            reused_tokens=reused,
            evaluated_tokens=len(head) - reused + len(scored),
            stop_reason=reason,
            prompt_ms=((t1 if t1 > t0 else time.monotonic()) - t0) * 1000,
            generate_ms=(time.monotonic() - max(t0, t1)) * 1000,
        )
        return GenerationResult("", stats, scores=scores)

    def _continue(
        self,
        tokens: Sequence[int],
        head: bytes,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        ends: EndCheck | None,
        grammar: Any = None,
        steps: list[Step] | None = None,
    ) -> Run:
        """Greedy tokens after `tokens` (the model evaluates what it does not hold yet), as the
        text of the answer whose bytes so far are `head`. With `steps`, each sampled token's
        log-probability and its runners-up are recorded there."""
        llm = self.llm
        run = Run(text=head.decode("utf-8", errors="ignore"), out=bytearray(head))
        for token in llm.generate(tokens, top_k=1, temp=0.0, repeat_penalty=1.0, grammar=grammar):
            run.sampled = True
            if steps is not None:
                steps.append(self._step(token))
            if run.add(token, llm.detokenize([token]), self.stop_ids, stop, ends, max_tokens):
                break
            if run.halted(should_stop):
                break
        return run

    def _speculate(
        self,
        tokens: Sequence[int],
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        ends: EndCheck | None,
    ) -> Run:
        """Greedy decoding that checks prompt-lookup drafts (model/lookup.py) in the same
        decode call as the token before them: the tokens `_continue` would write (up to ties
        the batch's arithmetic may break otherwise), in fewer decode calls when the answer
        copies its input. The model holds all of `tokens` but the last."""
        import numpy as np

        llm = self.llm
        n_vocab = llm.n_vocab()
        known = PromptLookup(tokens)
        n_past = llm.n_tokens
        last = tokens[-1]
        run = Run()
        policy = self.drafts
        most = policy.most  # within the answer the length adapts too (next_draft_length)
        while True:
            room = max_tokens - run.generated - 1
            draft = known.draft(policy.length(min(most, room))) if room > 0 else []
            batch = [last, *draft]
            began = time.perf_counter()
            self._decode(batch, n_past)
            logits = self._native.llama_get_logits(llm.ctx)  # a row per token of the batch
            rows = np.ctypeslib.as_array(logits, shape=(len(batch), n_vocab))
            run.sampled = True
            chosen: list[int] = []
            for j in range(len(batch)):
                chosen.append(int(rows[j].argmax()))
                if j >= len(draft) or draft[j] != chosen[-1]:
                    break
            kept = len(chosen) - 1
            policy.record(len(batch), time.perf_counter() - began, len(draft), kept)
            run.drafted += len(draft)
            run.accepted += kept
            if draft:
                most = next_draft_length(most, len(draft), kept, policy.most)
            n_past += len(chosen)  # `last` and the drafted tokens the model agreed with
            llm.n_tokens = n_past
            for token in chosen:
                if run.add(token, llm.detokenize([token]), self.stop_ids, stop, ends, max_tokens):
                    return run
            if run.halted(should_stop):
                return run
            known.extend(chosen)
            last = chosen[-1]

    def _decode(self, batch: list[int], n_past: int) -> None:
        """Evaluate `batch` after the first `n_past` tokens, keeping every row's logits (the
        model's state past `n_past` is dropped first)."""
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)
        llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(batch)] = batch

    def _constrained(
        self,
        tokens: Sequence[int],
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        ends: EndCheck | None,
        grammar: Any,
    ) -> Run:
        """Greedy decoding under `grammar` (a LlamaGrammar), which judges the likeliest token
        first and filters the vocabulary only when it refuses it (model/grammar.py): the
        tokens `_continue` would write with it. The model holds all of `tokens` but the last."""
        import numpy as np

        from lsp_server.model.grammar import GrammarDeadEnd, LazyGrammar

        llm, native = self.llm, self._native
        n_vocab = llm.n_vocab()
        lazy = LazyGrammar(native, llm._model.vocab, grammar._grammar, grammar._root)
        n_past, last = llm.n_tokens, tokens[-1]
        run = Run()
        try:
            while True:
                self._decode([last], n_past)
                n_past += 1
                llm.n_tokens = n_past
                logits = native.llama_get_logits_ith(llm.ctx, -1)
                run.sampled = True
                try:
                    token = lazy.choose(np.ctypeslib.as_array(logits, shape=(n_vocab,)))
                except GrammarDeadEnd:
                    logger.warning("the grammar allows no token: the answer ends here")
                    run.reason = "eos"
                    return run
                if run.add(token, llm.detokenize([token]), self.stop_ids, stop, ends, max_tokens):
                    return run
                lazy.accept(token)
                if run.halted(should_stop):
                    return run
                last = token
        finally:
            logger.debug(
                "grammar: %d of %d steps filtered the vocabulary", lazy.full_passes, lazy.steps
            )
            lazy.close()

    def _step(self, token: int) -> Step:
        """The chosen token's log-probability and the runners-up, from the logits it was
        sampled from (still the context's last output while the generator is paused)."""
        import numpy as np

        n_vocab = self.llm.n_vocab()
        logits = np.ctypeslib.as_array(
            self._native.llama_get_logits_ith(self.llm.ctx, -1), shape=(n_vocab,)
        )
        best = top_tokens(logits, OTHERS_PER_STEP + 1)
        chosen = dict(best).get(token)
        if chosen is None:  # not the argmax (a grammar chose it): its own log-prob
            chosen = best[0][1] - float(logits[best[0][0]] - logits[token])
        return Step(token, chosen, tuple(b for b in best if b[0] != token)[:OTHERS_PER_STEP])

    def _alternatives(
        self,
        tokens: Sequence[int],
        greedy: Run,
        steps: Sequence[Step],
        n: int,
        max_tokens: int,
        stop: Sequence[str],
        should_stop: StopCheck,
        ends: EndCheck | None,
    ) -> list[str]:
        """Up to `n` answers that leave the greedy one at its least certain steps (see
        model/alternatives.py), each continued greedily; distinct from it and each other."""
        found: list[str] = []
        for branch in branches(steps, n * 2, self.stop_ids):
            if len(found) >= n or should_stop(False) is not None:
                break
            path = [*greedy.tokens[: branch.step], branch.token]
            head = self.llm.detokenize(path)
            text = head.decode("utf-8", errors="ignore")
            hit = first_stop(text, stop)
            cut = ends(text) if ends is not None and hit is None else None
            if hit is not None or cut is not None:
                answer = text[: hit if hit is not None else cut]
            else:
                budget = max_tokens - len(path)
                run = (
                    self._continue([*tokens, *path], head, budget, stop, should_stop, ends)
                    if budget > 0
                    else Run(text=text)
                )
                greedy.alternative_tokens += 1 + run.generated
                if run.reason in ("cancelled", "deadline"):
                    break
                answer = run.text
            if answer.strip() and answer != greedy.text and answer not in found:
                found.append(answer)
        return found

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
        try:
            if left is not None and llm.n_tokens >= MIN_SAVED_TOKENS:
                self._save(left)
            held = common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
            if saved is None or common_prefix(saved.tokens, tokens) <= held:
                return 0
            return self._restore(saved)
        finally:
            if saved is not None:
                self._forget(saved)

    def _save(self, key: str) -> None:
        llm, native = self.llm, self._native
        n = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n, -1)  # an aborted decode may have left cells past n
        size = native.llama_state_seq_get_size(llm.ctx, 0)
        if size > self.states.cap_bytes:
            return
        tokens = tuple(llm.input_ids[:n].tolist())
        data: Any
        if self.files is not None:
            try:
                data = self.files.new_path()
            except OSError as exc:
                logger.warning("worker: a model state could not be saved: %s", exc)
                return
            ids = (native.llama_token * n)(*tokens)
            written = native.llama_state_seq_save_file(llm.ctx, os.fsencode(data), 0, ids, n)
            if not written:
                logger.warning("worker: a model state could not be written to %s", data)
                self.files.remove(data)
                return
        else:
            data = (ctypes.c_uint8 * size)()
            written = native.llama_state_seq_get_data(llm.ctx, data, size, 0)
        if written:
            self.states.put(key, SavedState(tokens, data, written))

    def _restore(self, saved: SavedState) -> int:
        llm, native = self.llm, self._native
        n = len(saved.tokens)
        if isinstance(saved.data, str):
            ids = (native.llama_token * n)()
            count = ctypes.c_size_t(0)
            path = os.fsencode(saved.data)
            ok = native.llama_state_seq_load_file(llm.ctx, path, 0, ids, n, ctypes.byref(count))
            ok = ok and list(ids[: count.value]) == list(saved.tokens)
        else:
            ok = native.llama_state_seq_set_data(llm.ctx, saved.data, saved.size, 0)
        if not ok:
            logger.warning("worker: a saved model state could not be restored")
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            return 0
        llm.input_ids[:n] = saved.tokens
        llm.n_tokens = n
        return n

    def _forget(self, saved: SavedState) -> None:
        if self.files is not None and isinstance(saved.data, str):
            self.files.remove(saved.data)

    def close(self) -> None:
        """Remove what the engine keeps outside its process (the saved-state files)."""
        if self.files is not None:
            self.files.close()
            self.files = None
            self.states = StateStore(0)


# The test hook: with ENCLAVE_FAKE_MODEL set (a JSON script), the worker runs the scripted
# engine of Enclave's own tests instead of a model. It loads one fixed file, by its path: the
# tests/fake_engine.py of the source tree this package belongs to, and only when that tree's
# pyproject.toml names this project. Never from the import path (the working directory,
# PYTHONPATH), never in an installed copy: no environment makes the worker import other code.
FAKE_ENGINE_VAR = "ENCLAVE_FAKE_MODEL"
PROJECT = "enclave-lsp"  # the distribution's name (pyproject.toml)


def fake_engine_file(package_dir: Path) -> Path:
    """tests/fake_engine.py beside `package_dir` (the lsp_server package), or ValueError."""
    root = package_dir.parent
    engine = root / "tests" / "fake_engine.py"
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]
        ours = project["name"] == PROJECT
    except (OSError, ValueError, KeyError, TypeError):
        ours = False
    if not ours or not engine.is_file():
        raise ValueError(
            f"{FAKE_ENGINE_VAR} is set, but this is not Enclave's source tree with its tests "
            "(the variable is for Enclave's own tests: unset it)"
        )
    return engine


def load_fake_engine(script: str) -> Engine:
    path = fake_engine_file(Path(__file__).resolve().parents[1])
    spec = importlib.util.spec_from_file_location("enclave_tests_fake_engine", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    engine: Engine = module.FakeEngine.from_script(script)
    return engine


def load_engine(spec: LoadSpec) -> Engine:
    script = os.environ.get(FAKE_ENGINE_VAR)
    if script:
        return load_fake_engine(script)
    return LlamaEngine(
        spec.path,
        spec.n_ctx,
        spec.threads,
        spec.state_cache_mb,
        spec.gpu_layers,
        spec.state_folder,
    )


class Worker:
    def __init__(self, out: IO[str], make_engine: Callable[[LoadSpec], Engine] = load_engine):
        self.out = out
        self.out_lock = threading.Lock()
        self.make_engine = make_engine
        # Commands with the time they arrived: deadlines count queueing too.
        self.inbox: queue.Queue[tuple[float, Command] | None] = queue.Queue()
        self.cancelled: set[int] = set()
        self.soft_cancelled: set[int] = set()
        self.cancel_lock = threading.Lock()
        self.engine: Engine | None = None

    def send(self, event: Event) -> None:
        line = encode(event)
        with self.out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def read_commands(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                command = decode_command(line)
            except ProtocolError as exc:
                logger.error("worker: invalid command: %s", exc)
                if exc.id is not None:
                    self.send(JobFailed(exc.id, f"invalid job: {exc}"))
                elif exc.op == "load":
                    self.send(LoadFailed(f"invalid load command: {exc}"))
                continue
            if isinstance(command, Cancel):
                with self.cancel_lock:
                    target = self.soft_cancelled if command.soft else self.cancelled
                    target.add(command.id)
            else:
                self.inbox.put((time.monotonic(), command))
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
        while (item := self.inbox.get()) is not None:
            received, command = item
            if isinstance(command, Shutdown):
                break
            if isinstance(command, LoadSpec):
                self.load(command)
            elif isinstance(command, RunJob):
                self.job(command, received)
        self.close_engine()

    def close_engine(self) -> None:
        close = getattr(self.engine, "close", None)  # the fake engine keeps nothing outside
        if close is not None:
            close()

    def load(self, spec: LoadSpec) -> None:
        limit_mb = spec.max_memory_mb
        if limit_mb > 0 and resource is None:
            logger.warning(
                "worker: model.maxMemoryMB is not enforced on this system (no resource module)"
            )
            limit_mb = 0
        if limit_mb > 0:
            # Address space, not RSS: an allocation past it fails inside this process (llama.cpp
            # then refuses the model) instead of the machine swapping or the OOM killer acting.
            limit = limit_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        self.close_engine()
        try:
            self.engine = self.make_engine(spec)
        except Exception as exc:  # any load failure is reported, not fatal to the worker
            logger.exception("worker: model load failed")
            message = f"{type(exc).__name__}: {exc}"
            if limit_mb > 0:
                message += f" (the model worker may use at most {limit_mb} MB: model.maxMemoryMB)"
            self.send(LoadFailed(message))
            return
        self.send(Ready(self.engine.info()))

    def job(self, run: RunJob, received: float) -> None:
        job_id, job = run.id, run.job
        started = time.monotonic()
        deadline = received + job.deadline_s
        prompt = ""
        build_ms = 0.0
        if self.engine is None:
            self.send(JobFailed(job_id, "model not loaded"))
            return

        def should_stop(in_prefill: bool) -> str | None:
            if self.is_cancelled(job_id, in_prefill):
                return "cancelled"
            if time.monotonic() > deadline:
                return "deadline"
            return None

        try:
            if should_stop(True) == "cancelled" or self.redundant(job_id):
                result = GenerationResult("", GenerationStats(stop_reason="cancelled"))
            else:
                built = time.monotonic()
                prompt = self.prompt_for(job)
                build_ms = (time.monotonic() - built) * 1000
                result = self.run_engine(job, prompt, should_stop)
        except Exception as exc:
            logger.exception("worker: generation failed")
            self.send(JobFailed(job_id, f"{type(exc).__name__}: {exc}"))
            return
        finally:
            with self.cancel_lock:
                self.cancelled.discard(job_id)
                self.soft_cancelled.discard(job_id)
                # A cancel that arrives after its job ended would stay forever: ids only grow,
                # so drop those far behind this one.
                self.cancelled = {i for i in self.cancelled if i > job_id - 256}
                self.soft_cancelled = {i for i in self.soft_cancelled if i > job_id - 256}
        stats = dataclasses.replace(
            result.stats,
            kind=job.kind,
            job_id=job_id,
            max_tokens=job.max_tokens,
            queued_ms=(started - received) * 1000,
            build_ms=build_ms,
        )
        result = dataclasses.replace(result, stats=stats, prompt=prompt if DEBUG_PROMPTS else "")
        try:
            self.send(JobDone(job_id, result))
        except ProtocolError as exc:  # a figure that is not a number: still an answer
            self.send(JobFailed(job_id, f"invalid result: {exc}"))

    def run_engine(self, job: Job, prompt: str, should_stop: StopCheck) -> GenerationResult:
        assert self.engine is not None
        if isinstance(job, ScoreJob):
            return self.engine.score(job.context, job.text, job.alternatives, should_stop)
        return self.engine.generate(
            prompt,
            job.max_tokens,
            job.stop,
            should_stop,
            job.json_schema if isinstance(job, GenerateJob) else None,
            job.reuse_cache,
            job.document if isinstance(job, CompletionJob) else "",
            end_check(job),
            job.alternatives if isinstance(job, CompletionJob) else 0,
            isinstance(job, GenerateJob) and job.lookup and job.json_schema is None,
        )

    def prompt_for(self, job: Job) -> str:
        assert self.engine is not None
        if isinstance(job, GenerateJob):
            return job.prompt
        if isinstance(job, ScoreJob):
            return job.context + job.text
        engine = self.engine
        return prompt_for_job(engine.template, job, engine.count_tokens, engine.context_length).text


def end_check(job: Job) -> EndCheck | None:
    """The job's block rule (or, for a JSON list, its repeat rule) as a check on the answer
    so far, or None without one."""
    if isinstance(job, GenerateJob):
        return repeat_end if job.stop_repeats else None
    if not isinstance(job, CompletionJob) or not job.block_end or job.block_end not in RULES:
        return None
    end = BlockEnd(job.block_end, job.block_open, job.block_close)
    text = job.prefix + job.middle
    head = text[text.rfind("\n") + 1 :]
    return lambda answer: block_end(end, head, answer, final=False)


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
