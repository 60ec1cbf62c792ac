"""Owns the model worker process: starts it, talks to it, restarts it with backoff.

The event loop never blocks on the worker: commands are small writes to a pipe, and a reader
thread hands each event back to the loop with call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import lsp_server
from lsp_server.errors import GenerationCancelled, ModelUnavailable
from lsp_server.model.backend import ModelBackend, ModelState, StateListener
from lsp_server.model.protocol import (
    Cancel,
    Command,
    CompletionJob,
    Event,
    GenerationResult,
    Job,
    JobDone,
    JobFailed,
    LoadFailed,
    LoadSpec,
    ProtocolError,
    Ready,
    RunJob,
    Shutdown,
    decode_event,
    encode,
)
from lsp_server.model.state_files import remove_left

logger = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
# This many crashes inside CRASH_WINDOW_S and the supervisor gives up until told to restart.
MAX_CRASHES = 5
CRASH_WINDOW_S = 300.0
# -P: the working directory (often the user's workspace, which may hold a lsp_server/ of its
# own) is not put on the worker's import path; see worker_env for a server run from its tree.
WORKER_COMMAND = (sys.executable, "-P", "-m", "lsp_server.model.worker")


def worker_env(base: Mapping[str, str]) -> dict[str, str]:
    """The worker's environment: `base`, and, when this server imported lsp_server from the
    directory it was started in (`python -m lsp_server` in a source tree), that directory on
    PYTHONPATH, so the worker runs the very same code and nothing from anywhere else."""
    env = dict(base)
    root = Path(lsp_server.__file__).resolve().parents[1]
    if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == root:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env


def same_prompt_start(a: CompletionJob, b: CompletionJob) -> bool:
    """Whether b's prompt begins with a's evaluated part: the same job but for what is typed
    after the anchor, how much to generate and why (a warm-up's prompt evaluation is the
    request's own)."""

    def start(job: CompletionJob) -> CompletionJob:
        return dataclasses.replace(
            job, middle="", heal="", max_tokens=0, stop=(), deadline_s=0, kind=""
        )

    return start(a) == start(b)


class WorkerSupervisor(ModelBackend):
    """A `ModelBackend` backed by the local worker process."""

    def __init__(
        self,
        on_state: StateListener,
        env: dict[str, str] | None = None,
        command: Sequence[str] = WORKER_COMMAND,  # tests give a scripted stand-in
    ) -> None:
        super().__init__(on_state)
        self._env = env
        self._command = list(command)
        self._pending: dict[int, asyncio.Future[GenerationResult]] = {}
        self._proc: subprocess.Popen[str] | None = None
        self._spec: LoadSpec | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._crashes: deque[float] = deque()
        self._restart_handle: asyncio.TimerHandle | None = None
        self._soft_cancelled: dict[int, CompletionJob] = {}

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, spec: LoadSpec) -> None:
        """Start (or restart with a new model) the worker. Returns at once; loading goes on in
        the worker and ends with a state change to READY or ERROR."""
        self._loop = asyncio.get_running_loop()
        self._spec = spec
        self._crashes.clear()
        self._stop_process()
        self._spawn()

    def _spawn(self) -> None:
        assert self._spec is not None
        self._proc = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the worker's own logs go where ours go
            text=True,
            encoding="utf-8",
            env=worker_env(os.environ if self._env is None else self._env),
            bufsize=1,
        )
        proc = self._proc
        folder = self._spec.state_folder
        threading.Thread(target=self._read_events, args=(proc, folder), daemon=True).start()
        self._set_state(ModelState.LOADING, f"loading {os.path.basename(self._spec.path)}")
        self._send(self._spec)

    async def stop(self) -> None:
        if self._restart_handle:
            self._restart_handle.cancel()
        proc, self._proc = self._proc, None  # detached first: its exit is not a crash
        if proc is not None and proc.poll() is None:
            self._send(Shutdown(), proc)
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 2.0)
            except TimeoutError:
                proc.kill()
        self._fail_pending(ModelUnavailable("the model worker was stopped"))
        self._set_state(ModelState.STOPPED, "stopped")

    def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        self._fail_pending(ModelUnavailable("the model worker was restarted"))

    # -- requests ---------------------------------------------------------------------------

    async def run(self, job: Job) -> GenerationResult:
        """Run a job in the worker. Cancelling the awaiting task cancels it there too."""
        self._check_ready()
        assert self._loop is not None
        self._harden_cancels(job)
        job_id = self._next_job_id()
        try:
            line = encode(RunJob(job_id, job))
        except ProtocolError as exc:
            raise ModelUnavailable(f"invalid job: {exc}") from None
        fut: asyncio.Future[GenerationResult] = self._loop.create_future()
        self._pending[job_id] = fut
        self._write(line)
        try:
            return await fut
        except asyncio.CancelledError:
            # A completion cancelled because the user typed on is followed by a request whose
            # prompt starts the same: its prompt evaluation goes on (soft cancel) for the next
            # job to reuse, unless that job turns out to need another prompt.
            # (Not for the stateless mode: with no reuse the evaluation would be wasted.)
            soft = isinstance(job, CompletionJob) and job.reuse_cache
            if isinstance(job, CompletionJob) and soft:
                self._soft_cancelled[job_id] = job
            self._send(Cancel(job_id, soft))
            raise
        finally:
            self._pending.pop(job_id, None)

    def _harden_cancels(self, new: Job) -> None:
        for job_id, old in list(self._soft_cancelled.items()):
            if not (isinstance(new, CompletionJob) and same_prompt_start(old, new)):
                self._send(Cancel(job_id))
                del self._soft_cancelled[job_id]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- plumbing ---------------------------------------------------------------------------

    def _send(self, command: Command, proc: subprocess.Popen[str] | None = None) -> None:
        self._write(encode(command), proc)

    def _write(self, line: str, proc: subprocess.Popen[str] | None = None) -> None:
        proc = proc or self._proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            logger.warning("model worker pipe closed while sending a command")

    def _read_events(self, proc: subprocess.Popen[str], state_folder: str = "") -> None:
        """The reader thread: decodes each line here, off the event loop. When the worker has
        ended, removes any saved-state files it could not (killed, crashed)."""
        assert proc.stdout is not None and self._loop is not None
        loop = self._loop
        for line in proc.stdout:
            try:
                event = decode_event(line)
            except ProtocolError as exc:
                logger.warning("model worker wrote an invalid line: %s", exc)
                if exc.id is None:
                    continue
                event = JobFailed(exc.id, f"the model worker's answer was invalid: {exc}")
            if not _hand_over(loop, self._on_event, proc, event):
                return
        code = proc.wait()
        if state_folder:
            remove_left(Path(state_folder), proc.pid)
        _hand_over(loop, self._on_exit, proc, code)

    def _on_event(self, proc: subprocess.Popen[str], event: Event) -> None:
        if proc is not self._proc:
            return  # a late event from a replaced worker
        if isinstance(event, Ready):
            self.info = event.info
            logger.info(
                "model ready: %s (%s, template %s) in %.1f s",
                os.path.basename(self.info.path),
                self.info.architecture,
                self.info.template,
                self.info.load_ms / 1000,
            )
            self._set_state(ModelState.READY, "ready")
        elif isinstance(event, LoadFailed):
            logger.error("model failed to load: %s", event.message)
            self._set_state(ModelState.ERROR, f"model failed to load: {event.message}")
        else:  # a job's answer
            self._soft_cancelled.pop(event.id, None)
            if isinstance(event, JobDone):
                self._record(event.result)
            fut = self._pending.get(event.id)
            if fut is None or fut.done():
                return
            if isinstance(event, JobFailed):
                fut.set_exception(ModelUnavailable(event.message))
            elif event.result.stats.stop_reason == "cancelled":
                fut.set_exception(GenerationCancelled("cancelled"))
            else:
                fut.set_result(event.result)

    def _on_exit(self, proc: subprocess.Popen[str], code: int) -> None:
        if proc is not self._proc:
            return
        self._proc = None
        self._soft_cancelled.clear()  # those jobs died with the worker
        self._fail_pending(ModelUnavailable(f"the model worker stopped (exit code {code})"))
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > CRASH_WINDOW_S:
            self._crashes.popleft()
        if len(self._crashes) >= MAX_CRASHES:
            self._set_state(
                ModelState.ERROR,
                f"the model worker crashed {len(self._crashes)} times; completions are off "
                "until the settings change or the server restarts",
            )
            return
        delay = BACKOFF_S[min(len(self._crashes) - 1, len(BACKOFF_S) - 1)]
        logger.error("model worker exited with code %s; restarting in %.1f s", code, delay)
        self._set_state(ModelState.LOADING, f"model worker crashed (exit code {code}); restarting")
        assert self._loop is not None
        self._restart_handle = self._loop.call_later(delay, self._spawn)

    def _fail_pending(self, exc: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)


def _hand_over(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> bool:
    """Run `callback` on the loop; False once the loop is closed (the session is over and
    nobody waits for the worker's events)."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        return False
    return True
