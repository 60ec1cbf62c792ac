"""One server arm of the typing benchmark: start `enclave serve`, replay typing through a real
pygls LanguageClient over stdio, and record every request, the server's counters, the prompts it
evaluated (ENCLAVE_DEBUG_PROMPTS=1) and the peak memory of the server and its worker."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from bench.corpus import SourceFile
from lsp_server.context.languages import lsp_language_id

STATUS_REQUEST = "enclave/getStatus"
FOCUS_NOTIFICATION = "enclave/didFocus"
COUNTER_KEYS = (
    "requests",
    "answeredFromCache",
    "answeredFromPrefetch",
    "modelCalls",
    "promptTokens",
    "reusedTokens",
    "evaluatedTokens",
)
WORKER_MS_KEYS = ("queued_ms", "prompt_ms", "generate_ms")


@dataclass(frozen=True)
class ReplayOptions:
    keystrokes: int = 150  # typed keystrokes per file (accepting a suggestion is not one)
    cadence_cps: float = 9.0  # typing speed, characters per second
    debounce_ms: float = 75.0  # quiet time after an edit before the editor asks
    pause_max_ms: float = 8000.0  # at a line end the typist waits this long for a suggestion
    # After opening a file the cursor settles at the edit point (the editor clients then send
    # enclave/didFocus) and the typist starts this much later: reading the code, a breath.
    settle_ms: float = 2000.0
    # Times each file is visited, in turn forth and back (A B C, C B A, ...): a file stays open
    # in its tab and a later visit types on where the last one stopped, after focusing it again.
    visits: int = 1
    workspace: str = ""  # the workspace folder (rootUri); default: the current directory
    mid_line_pauses: bool = True  # also pause after "(", "." and "= " (not only at line ends)
    ready_timeout_s: float = 600.0
    status_every: int = 15  # edits between getStatus polls (lastPrompts keeps only 50)


@dataclass
class RequestRecord:
    file: str
    msg_id: int
    sent: float
    pause: bool  # sent at a line end, where the typist waits for it
    visit: int = 1  # the typist's visit to this file (1: just opened)
    done: float | None = None
    cancel_sent: float | None = None
    outcome: str = "pending"  # answered | empty | cancelled | error
    error: str = ""
    text: str = ""
    accepted_chars: int = 0
    via: str = ""  # cache | prefetch | model (answered requests, from counter deltas)
    model_entry: int | None = None  # index in the arm's prompt log of the call that answered
    worker_ms: float | None = None  # that call's queued + prompt + generate time in the worker
    worker_reused: int | None = None  # prompt tokens that call found already in the KV cache
    # How long that call waited in the worker behind another job (a superseded request's or a
    # warm-up's prompt evaluation, which the raw arm does untimed while priming).
    worker_queued_ms: float | None = None
    worker_build_ms: float | None = None  # laying out its prompt, outside worker_ms

    @property
    def latency_ms(self) -> float | None:
        return None if self.done is None else (self.done - self.sent) * 1000

    @property
    def cancel_latency_ms(self) -> float | None:
        if self.done is None or self.cancel_sent is None:
            return None
        return (self.done - self.cancel_sent) * 1000

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["latency_ms"] = self.latency_ms
        out["cancel_latency_ms"] = self.cancel_latency_ms
        return out


@dataclass
class ArmRun:
    name: str
    settings: dict[str, Any]
    requests: list[RequestRecord] = field(default_factory=list)
    prompt_log: list[dict[str, Any]] = field(default_factory=list)
    stats_log: list[dict[str, Any]] = field(default_factory=list)  # getStatus "recent", merged
    stats_start: int = 0
    log_gaps: int = 0  # polls where more than the 50 kept prompts had gone by
    counters_start: dict[str, int] = field(default_factory=dict)
    counters_end: dict[str, int] = field(default_factory=dict)
    keystrokes: int = 0
    accepts: int = 0
    accepted_chars: int = 0
    typed_chars: int = 0
    server_pid: int | None = None
    worker_pid: int | None = None
    peak_kb: dict[str, int] = field(default_factory=dict)
    # CPU seconds each process used during the replay: the model's threads share the cores
    # with the server and the client, and every tick those take stalls a model step.
    cpu_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    model_info: dict[str, Any] | None = None


def plain(value: Any) -> Any:
    """pygls hands back results of unknown methods as namedtuples; make them plain JSON."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value


def proc_status_kb(pid: int | None, key: str) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    out: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in children.read_text().split()]
    return out


def cursor(text: str) -> types.Position:
    """LSP position (UTF-16 columns) of the end of `text`."""
    line = text.count("\n")
    last = text[text.rfind("\n") + 1 :]
    return types.Position(line, len(last.encode("utf-16-le")) // 2)


def next_keystroke(full: str, pos: int) -> str:
    """One key: a character, or Enter plus the next line's indentation (editors auto-indent)."""
    ch = full[pos]
    if ch != "\n":
        return ch
    end = pos + 1
    while end < len(full) and full[end] in " \t":
        end += 1
    return full[pos:end]


def thinking_point(full: str, pos: int) -> bool:
    """Whether the text typed so far ends where a typist stops to think: after "(", after a
    member access dot, or after "= " (an assignment's right-hand side comes next)."""
    before = full[:pos]
    if before.endswith("(") or before.endswith("= "):
        return True
    return before.endswith(".") and len(before) > 1 and (before[-2].isalnum() or before[-2] in ")_")


def acceptable(suggestion: str, remaining: str) -> str:
    """The part of a suggestion the typist takes: all of it if the file really continues so,
    else its first line if that matches; otherwise nothing."""
    if suggestion and remaining.startswith(suggestion):
        return suggestion
    first = suggestion.split("\n", 1)[0]
    if first.strip() and remaining.startswith(first):
        return first
    return ""


LOG_KEPT = 50  # entries the server keeps of each log


def last_job(log: list[dict[str, Any]]) -> int:
    return int(log[-1].get("job_id", 0)) if log else 0


def merge_log(log: list[dict[str, Any]], newest: list[dict[str, Any]]) -> tuple[int, bool]:
    """Append the entries of `newest` (the server's entries after the last job id polled, at
    most its last 50) not yet in `log`. Returns how many were new and whether some may have
    gone by unseen (a full 50 came back)."""
    seen = last_job(log)
    fresh = [e for e in newest if int(e.get("job_id", 0)) > seen]
    log.extend(fresh)
    return len(fresh), len(newest) >= LOG_KEPT and bool(seen)


class ServerArm:
    def __init__(
        self, name: str, settings: dict[str, Any], files: list[SourceFile], opts: ReplayOptions
    ) -> None:
        self.run = ArmRun(name, settings)
        self.files = files
        self.opts = opts
        self.progress: dict[str, tuple[int, int]] = {}  # uri -> (typed up to, version)
        self.client = LanguageClient("enclave-bench", "0")
        self.ids = itertools.count(100_000)
        self.counters: dict[str, int] = {}
        self.stderr_tail: list[str] = []
        self._cpu_start: dict[str, float] = {}
        # `--alternate call`: run after each request a model call answered (see run_arm).
        self.after_call: Callable[[ArmRun], Awaitable[None]] | None = None
        self.paused_s = 0.0  # time spent in after_call, not the arm's

        @self.client.feature("enclave/status")  # type: ignore[untyped-decorator]
        def _on_status(params: Any) -> None:
            pass  # getStatus is polled instead; registered so pygls does not warn

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
        def _on_message(params: types.ShowMessageParams) -> None:
            self.run.notes.append(f"server says: {params.message}")  # e.g. a refused setting

    # -- server plumbing ------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        # Only what came since the last poll: the last 50 prompts each time cost the server
        # and this client tens of ms of CPU per poll, taken from the model's cores.
        after = min(last_job(self.run.prompt_log), last_job(self.run.stats_log))
        result = await self.client.protocol.send_request_async(STATUS_REQUEST, {"after": after})
        st = plain(result) or {}
        new, lost = merge_log(self.run.prompt_log, st.get("lastPrompts") or [])
        self.run.log_gaps += int(lost)
        _, lost = merge_log(self.run.stats_log, st.get("recent") or [])
        self.run.log_gaps += int(lost)
        if st.get("workerPid"):
            self.run.worker_pid = int(st["workerPid"])
        if isinstance(st.get("counters"), dict):
            self.counters = {k: int(st["counters"].get(k, 0)) for k in COUNTER_KEYS}
        st["_new_prompts"] = new
        return st

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        # An unread stderr pipe would block the server once it fills.
        while line := await stream.readline():
            self.stderr_tail = [*self.stderr_tail[-40:], line.decode(errors="replace")]

    def _worker_pid(self) -> int | None:
        if self.run.worker_pid is None and self.run.server_pid is not None:
            kids = child_pids(self.run.server_pid)
            if kids:
                self.run.worker_pid = kids[0]
                self.run.notes.append("workerPid not in getStatus; took the server's child")
        return self.run.worker_pid

    async def start(self, size: str) -> None:
        env = {**os.environ, "ENCLAVE_DEBUG_PROMPTS": "1"}
        await self.client.start_io(
            sys.executable, "-m", "lsp_server", "serve", "--log-level", "warning", env=env
        )
        server = self.client._server
        assert server is not None
        self.run.server_pid = server.pid
        if server.stderr is not None:
            self._stderr_task = asyncio.ensure_future(self._drain_stderr(server.stderr))
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={"model": {"size": size}, **self.run.settings},
                root_uri=Path(self.opts.workspace or Path.cwd()).resolve().as_uri(),
            )
        )
        self.client.initialized(types.InitializedParams())
        deadline = time.monotonic() + self.opts.ready_timeout_s
        while True:
            st = await self.status()
            if st.get("state") == "ready":
                break
            if st.get("state") == "error" or time.monotonic() > deadline:
                raise RuntimeError(f"model not ready: {st.get('state')}: {st.get('message')}")
            await asyncio.sleep(0.5)
        self.run.model_info = st.get("modelInfo")
        if not self.counters:
            self.run.notes.append("getStatus has no 'counters': cache shares and tokens missing")
        self.run.counters_start = dict(self.counters)
        # Only what the replay causes counts, not the warm-up before it.
        self.run.stats_start = len(self.run.stats_log)
        self._cpu_start = self._cpu()

    async def pause_for(self, work: Callable[[ArmRun], Awaitable[None]]) -> None:
        """Run `work` once the worker is idle, its time left out of the arm's wall time."""
        t0 = time.monotonic()
        await self.wait_idle()
        await self.status()
        await work(self.run)
        self.paused_s += time.monotonic() - t0

    async def wait_idle(self, quiet_s: float = 0.5, timeout_s: float = 60.0) -> None:
        """Until the worker has used under 5% of a core for `quiet_s` (a prefetch or warm-up
        it was running has finished)."""
        pid = self._worker_pid()
        deadline = time.monotonic() + timeout_s
        last = cpu_seconds(pid)
        while last is not None and time.monotonic() < deadline:
            await asyncio.sleep(quiet_s)
            now = cpu_seconds(pid)
            if now is None or now - last < 0.05 * quiet_s:
                return
            last = now

    def _cpu(self) -> dict[str, float]:
        out = {"client": time.process_time()}
        for role, pid in (("server", self.run.server_pid), ("worker", self._worker_pid())):
            used = cpu_seconds(pid)
            if used is not None:
                out[role] = used
        return out

    async def stop(self) -> None:
        st = await self.status()
        if "lastPrompts" not in st:
            self.run.notes.append("no 'lastPrompts' from getStatus: raw arm cannot replay")
        self.run.counters_end = dict(self.counters)
        start = self._cpu_start
        self.run.cpu_s = {k: v - start[k] for k, v in self._cpu().items() if k in start}

        for role, pid in (("server", self.run.server_pid), ("worker", self._worker_pid())):
            hwm = proc_status_kb(pid, "VmHWM")
            if hwm is not None:
                self.run.peak_kb[role] = hwm
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 15)
            self.client.exit(None)
        except Exception as exc:
            self.run.notes.append(f"shutdown: {type(exc).__name__}: {exc}")
        await self.client.stop()  # type: ignore[no-untyped-call]

    # -- requests -------------------------------------------------------------------------

    def send_inline(self, uri: str, text: str, file: str, pause: bool) -> asyncio.Future[Any]:
        rec = RequestRecord(file, next(self.ids), time.perf_counter(), pause)
        params = types.InlineCompletionParams(
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
            text_document=types.TextDocumentIdentifier(uri),
            position=cursor(text),
        )
        fut: asyncio.Future[Any] = asyncio.ensure_future(
            self.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=rec.msg_id
            )
        )

        def finished(f: asyncio.Future[Any]) -> None:
            rec.done = time.perf_counter()
            if f.cancelled():
                rec.outcome = "cancelled"
            elif (exc := f.exception()) is not None:
                cancelled = "cancel" in str(exc).lower() or "-32800" in str(exc)
                rec.outcome = "cancelled" if cancelled else "error"
                rec.error = f"{type(exc).__name__}: {exc}"
            else:
                result = f.result()
                items = result.items if isinstance(result, types.InlineCompletionList) else result
                if items:
                    insert = items[0].insert_text
                    rec.text = insert if isinstance(insert, str) else insert.value
                rec.outcome = "answered" if rec.text else "empty"

        fut.add_done_callback(finished)
        self.run.requests.append(rec)
        return fut

    def cancel(self, rec: RequestRecord, fut: asyncio.Future[Any]) -> None:
        if fut.done():
            return
        rec.cancel_sent = time.perf_counter()
        self.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=rec.msg_id))

    async def attribute(self, rec: RequestRecord, before: dict[str, int]) -> None:
        """Poll getStatus after an answer: where it came from and which model call made it."""
        log_len = len(self.run.prompt_log)
        stats_len = len(self.run.stats_log)
        await self.status()
        if rec.outcome not in ("answered", "empty"):
            return
        delta = {k: self.counters.get(k, 0) - before.get(k, 0) for k in COUNTER_KEYS}
        if delta.get("answeredFromCache", 0) > 0:
            rec.via = "cache"
            return
        if delta.get("answeredFromPrefetch", 0) > 0:
            rec.via = "prefetch"
            return
        # The worker runs one job at a time, so the call that answered is the newest user call
        # finished before the response (later prefetch calls are told apart by kind).
        for st in reversed(self.run.stats_log[stats_len:]):
            if st.get("kind", "user") in ("user", "") and st.get("stop_reason") != "cancelled":
                rec.worker_ms = sum(float(st.get(k, 0.0)) for k in WORKER_MS_KEYS)
                rec.worker_reused = int(st.get("reused_tokens", 0))
                rec.worker_queued_ms = float(st.get("queued_ms", 0.0))
                rec.worker_build_ms = float(st.get("build_ms", 0.0))
                break
        for i in range(len(self.run.prompt_log) - 1, log_len - 1, -1):
            entry = self.run.prompt_log[i]
            if entry.get("kind", "user") not in ("user", ""):
                continue
            raw = str(entry.get("text", "")).strip()
            if rec.outcome == "empty" or raw.startswith(rec.text.strip()[:20]):
                rec.via = "model"
                rec.model_entry = i
            break
        if not rec.via:
            rec.via = "none" if rec.outcome == "empty" else "unmatched"

    # -- the typist -----------------------------------------------------------------------

    async def replay(self, src: SourceFile, visit: int = 1, last: bool = True) -> None:
        """One visit to `src`: open it (first visit) or come back to it, focus the edit point,
        settle, type `keystrokes` keys, and close it after the last visit."""
        opts = self.opts
        uri = src.path.resolve().as_uri()
        full = src.text
        pos, version = self.progress.get(uri, (src.start, 1))
        if visit == 1:
            self.client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(uri, lsp_language_id(uri), version, full[:pos])
                )
            )
        # As Enclave's editor clients do once the cursor has been still for 300 ms.
        await asyncio.sleep(0.3)
        at = cursor(full[:pos])
        position = {"line": at.line, "character": at.character}
        self.client.protocol.notify(
            FOCUS_NOTIFICATION, {"textDocument": {"uri": uri}, "position": position}
        )
        await asyncio.sleep(max(0.0, opts.settle_ms / 1000 - 0.3))
        first_request = len(self.run.requests)
        interval = 1.0 / opts.cadence_cps
        debounce = opts.debounce_ms / 1000
        keys = 0
        edits = 0
        to_accept = ""
        accept_from: RequestRecord | None = None
        inflight: tuple[RequestRecord, asyncio.Future[Any]] | None = None
        next_at = time.perf_counter()
        while keys < opts.keystrokes and pos < len(full):
            accepting = bool(to_accept)
            edit = to_accept or next_keystroke(full, pos)
            to_accept = ""
            if (wait := next_at - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            if inflight is not None:
                self.cancel(*inflight)  # the editor drops a request its edit made stale
            at = cursor(full[:pos])
            version += 1
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                    content_changes=[
                        types.TextDocumentContentChangePartial(range=types.Range(at, at), text=edit)
                    ],
                )
            )
            pos += len(edit)
            edits += 1
            if accepting:
                self.run.accepts += 1
                self.run.accepted_chars += len(edit)
                if accept_from is not None:
                    accept_from.accepted_chars += len(edit)
            else:
                keys += 1
                self.run.typed_chars += len(edit)
            t_edit = time.perf_counter()
            next_at = t_edit + interval
            # A thinking pause where the next token is a decision: at a line end, after an
            # opening parenthesis, a dot or "= "; the typist waits for the suggestion there.
            pause = pos < len(full) and (
                full[pos] == "\n" or (opts.mid_line_pauses and thinking_point(full, pos))
            )
            inflight = None
            if not pause and debounce >= interval:
                continue  # the next key comes before the debounce ends: no request
            await asyncio.sleep(debounce)
            before = dict(self.counters)
            fut = self.send_inline(uri, full[:pos], src.name, pause)
            rec = self.run.requests[-1]
            inflight = (rec, fut)
            limit = opts.pause_max_ms / 1000 if pause else max(0.0, next_at - time.perf_counter())
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(fut), limit)
            if pause:
                next_at = max(next_at, time.perf_counter())
            if fut.done():
                inflight = None
                to_accept = acceptable(rec.text, full[pos:]) if rec.outcome == "answered" else ""
                accept_from = rec
                await self.attribute(rec, before)
                if self.after_call is not None and rec.model_entry is not None:
                    await self.pause_for(self.after_call)
                    next_at = max(next_at, time.perf_counter())
            elif edits % opts.status_every == 0:
                await self.status()
        if inflight is not None:
            self.cancel(*inflight)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(inflight[1]), 10)
        self.run.keystrokes += keys
        for rec in self.run.requests[first_request:]:
            rec.visit = visit
        self.progress[uri] = (pos, version)
        if last:
            self.client.text_document_did_close(
                types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
        await self.status()


async def run_arm(
    name: str,
    settings: dict[str, Any],
    size: str,
    files: list[SourceFile],
    opts: ReplayOptions,
    between: Callable[[ArmRun], Awaitable[None]] | None = None,
    per_call: bool = False,
) -> ArmRun:
    """`between`, if given, runs once the worker is idle after each file visit, or with
    `per_call` after each request a model call answered (the raw arm's segments of
    `--alternate`); its time is not the arm's."""
    arm = ServerArm(name, settings, files, opts)
    if per_call:
        arm.after_call = between
    started = time.monotonic()
    await arm.start(size)
    try:
        for visit in range(1, opts.visits + 1):
            # Later visits walk back and forth through the files, as the editor's Go Back
            # and Go Forward do.
            for src in files if visit % 2 else files[::-1]:
                print(
                    f"  [{name}] typing {src.name} (visit {visit}) ...", file=sys.stderr, flush=True
                )
                await arm.replay(src, visit, last=visit == opts.visits)
                if between is not None and not per_call:
                    await arm.pause_for(between)
    finally:
        await arm.stop()
    arm.run.wall_s = time.monotonic() - started - arm.paused_s
    if arm.run.log_gaps:
        arm.run.notes.append(f"{arm.run.log_gaps} getStatus polls missed prompts (>50 between)")
    return arm.run
