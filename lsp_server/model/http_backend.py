"""A `ModelBackend` that asks an organisation's own model server over HTTP.

Two kinds of server:

- `llama-server` (llama.cpp's server): `/infill` with input_prefix / input_suffix /
  input_extra when the FIM template has a suffix slot, else `/completion` with the template
  text; `/tokenize` measures the tokens per character of the code around the cursor for the
  budget; `/health` for the state.
- `openai` (vLLM, Ollama, llama-cpp-python's server, anything with OpenAI-compatible
  `/v1/completions`): the prompt is the same FIM template text the local worker builds; the
  budget counts 3.2 characters per token; `/v1/models` for the state.

The HTTP/1.1 client is a small one on asyncio streams (the project has no HTTP dependency),
which gives what a completion needs and nothing else: every request streams (stream=true) and
the connection is closed the moment the awaiting task is cancelled, a stop string is seen or
the deadline passes; a time-to-first-byte limit (backend.timeoutMs) and the job's total
deadline; a cap on the answer's size; redirects are refused, never followed; only a failure
to connect or an answerless close before any byte came back is retried (twice, quickly), and
only at the same checked address. The host must pass the host policy (host_policy.py) before
anything is sent; https always verifies the certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import math
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from lsp_server.errors import ModelUnavailable, Unsupported
from lsp_server.model.backend import ModelBackend, ModelState, StateListener
from lsp_server.model.host_policy import HostRefused, Resolver, Target, check_url, system_resolver
from lsp_server.model.protocol import (
    DEBUG_PROMPTS,
    CompletionJob,
    GenerationResult,
    GenerationStats,
    Job,
    ModelInfo,
    ScoreJob,
    first_stop,
)
from lsp_server.prompts.fim import FimTemplate, get_template, load_templates, prompt_for_job

logger = logging.getLogger(__name__)

KINDS = ("llama-server", "openai")
MAX_RESPONSE_BYTES = 4 * 1024 * 1024  # a completion is a few KB; anything larger is refused
MAX_HEADER_BYTES = 64 * 1024
READ_LIMIT = 256 * 1024  # longest line (status, header, SSE line) accepted
CONNECT_RETRY_S = (0.1, 0.3)  # retries of a connection that failed before any byte came back
HEALTH_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
CHARS_PER_TOKEN = 3.2  # the budget estimate when the server cannot count tokens
RECOUNT_EVERY = 32  # llama-server: re-measure tokens per character every this many jobs


@dataclass(frozen=True)
class HttpSpec:
    kind: str  # llama-server | openai
    url: str
    model: str | None  # model name for OpenAI-compatible servers; None: the server's first
    allow_hosts: tuple[str, ...]
    timeout_ms: int  # connect + time to first byte
    template: str  # FIM template family (fim_templates.json)
    context_length: int


class BackendError(ModelUnavailable):
    """The backend answered, but not usefully (status, format, size, redirect, timeout)."""


class _NoAnswer(BackendError):
    """No byte came back: could not connect, or the connection closed before an answer."""


class _DeadlineReached(Exception):
    pass


class _Response:
    """One HTTP response whose body is read on demand; close() drops the connection."""

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        origin: str,
    ) -> None:
        self.status = status
        self.headers = headers
        self._reader = reader
        self._writer = writer
        self._origin = origin
        self.received = 0

    def close(self) -> None:
        # abort, not close: no waiting for a graceful shutdown; the server sees the
        # connection end at once and stops generating.
        self._writer.transport.abort()

    async def _read(self, op: Callable[[], Any], deadline: float) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlineReached
        try:
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for loses a cancel that comes
            # as the read completes (a token arrives every few ms), and the request runs on.
            async with asyncio.timeout(remaining):
                return await op()
        except TimeoutError:
            raise _DeadlineReached from None
        except asyncio.IncompleteReadError:
            raise BackendError(
                f"{self._origin} closed the connection in the middle of its answer"
            ) from None
        except (asyncio.LimitOverrunError, ValueError):
            raise BackendError(f"{self._origin} sent a line over {READ_LIMIT} bytes") from None
        except OSError as exc:
            raise BackendError(f"connection to {self._origin} lost mid-answer: {exc}") from None

    def _count(self, data: bytes) -> bytes:
        self.received += len(data)
        if self.received > MAX_RESPONSE_BYTES:
            raise BackendError(
                f"{self._origin} sent an answer larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} "
                "MB; it was dropped"
            )
        return data

    async def chunks(self, deadline: float) -> AsyncIterator[bytes]:
        reader = self._reader
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            while True:
                line: bytes = await self._read(reader.readline, deadline)
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BackendError(f"{self._origin} sent a malformed chunked body") from None
                if size == 0:
                    return
                if self.received + size > MAX_RESPONSE_BYTES:
                    self.received += size
                    self._count(b"")  # raises: too large, and nothing of it is read
                data: bytes = await self._read(
                    functools.partial(reader.readexactly, size), deadline
                )
                yield self._count(data)
                await self._read(lambda: reader.readexactly(2), deadline)
        length = self.headers.get("content-length")
        if length is not None:
            try:
                left = int(length)
            except ValueError:
                raise BackendError(f"{self._origin} sent a bad Content-Length") from None
            if left > MAX_RESPONSE_BYTES:
                self.received = left
                self._count(b"")  # raises: too large, and nothing of it is read
            while left > 0:
                step = min(left, 65536)
                data = await self._read(functools.partial(reader.read, step), deadline)
                if not data:
                    raise BackendError(f"{self._origin} closed the connection mid-answer")
                left -= len(data)
                yield self._count(data)
            return
        while data := await self._read(lambda: reader.read(65536), deadline):
            yield self._count(data)

    async def read_all(self, deadline: float) -> bytes:
        out = bytearray()
        async for data in self.chunks(deadline):
            out += data
        return bytes(out)

    async def events(self, deadline: float) -> AsyncIterator[str]:
        """Server-sent events: the data of each event."""
        buffer = b""
        data: list[str] = []
        async for chunk in self.chunks(deadline):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r").decode("utf-8", errors="replace")
                if not line:
                    if data:
                        yield "\n".join(data)
                        data = []
                elif line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("error:"):
                    data.append(json.dumps({"error": line[6:].strip()}))
        tail = buffer.rstrip(b"\r").decode("utf-8", errors="replace")
        if tail.startswith("data:"):
            data.append(tail[5:].removeprefix(" "))
        if data:
            yield "\n".join(data)


class HttpBackend(ModelBackend):
    """A `ModelBackend` backed by a model server reached over HTTP (see the module doc)."""

    def __init__(self, on_state: StateListener, resolve: Resolver = system_resolver) -> None:
        super().__init__(on_state)
        self._resolve = resolve
        self._spec: HttpSpec | None = None
        self._target: Target | None = None
        self._template: FimTemplate | None = None
        self._model_name: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._chars_per_token: float | None = None
        self._jobs = 0
        self._ssl: ssl.SSLContext | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, spec: HttpSpec) -> None:
        """Check the host, then watch the server's health; returns at once."""
        self._cancel_task()
        self._spec = spec  # requests in flight keep going to the (checked) previous target
        self._model_name = spec.model
        self._chars_per_token = None
        self.info = None
        self._set_state(ModelState.LOADING, f"connecting to {spec.url}")
        self._task = asyncio.ensure_future(self._connect(spec))

    async def stop(self) -> None:
        self._cancel_task()
        self._set_state(ModelState.STOPPED, "stopped")

    def _cancel_task(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _connect(self, spec: HttpSpec) -> None:
        if spec.kind not in KINDS:
            self._set_state(ModelState.ERROR, f"backend.kind {spec.kind!r} is not an HTTP kind")
            return
        try:
            self._template = get_template(spec.template)
        except KeyError:
            names = ", ".join(t.name for t in load_templates())
            self._set_state(
                ModelState.ERROR, f"backend.template {spec.template!r} is unknown (one of {names})"
            )
            return
        try:
            target = await check_url(spec.url, spec.allow_hosts, self._resolve)
        except HostRefused as exc:
            logger.error("%s", exc)
            self._set_state(ModelState.ERROR, str(exc))
            return  # no retry and no other host: the settings must change
        if spec.kind == "openai" and target.base_path.endswith("/v1"):
            target = dataclasses.replace(target, base_path=target.base_path[:-3])  # we add /v1
        self._target = target
        if target.scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()  # verifies certificate and host name
        await self._watch_health()

    async def _watch_health(self) -> None:
        """Probe until the server answers, with backoff; a request meanwhile probes at once."""
        assert self._spec is not None
        attempt = 0
        while True:
            started = time.monotonic()
            ok, loading, why = await self._probe()
            if ok:
                self._publish_info((time.monotonic() - started) * 1000)
                self._set_state(ModelState.READY, "ready")
                return
            delay = HEALTH_BACKOFF_S[min(attempt, len(HEALTH_BACKOFF_S) - 1)]
            attempt += 1
            state = ModelState.LOADING if loading else ModelState.ERROR
            self._set_state(state, f"{why}; retrying in {delay:g} s")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
                await asyncio.sleep(0.2)  # woken by a request: a short pause, no hammering

    async def _probe(self) -> tuple[bool, bool, str]:
        """(reachable and ready, still loading, why not)."""
        assert self._spec is not None and self._target is not None
        spec, origin = self._spec, self._target.origin
        path = "/health" if spec.kind == "llama-server" else "/v1/models"
        deadline = time.monotonic() + spec.timeout_ms / 1000 * 2
        try:
            resp = await self._request("GET", path, None, deadline)
            try:
                body = await resp.read_all(deadline) if resp.status != 304 else b""
            finally:
                resp.close()
        except BackendError as exc:
            return False, False, f"backend unreachable: {exc}"
        except _DeadlineReached:
            return False, False, f"backend at {origin} did not answer {path} in time"
        if resp.status == 503 and spec.kind == "llama-server":
            return False, True, f"the server at {origin} is loading its model"
        if resp.status != 200:
            return False, False, f"backend at {origin} answered {path} with HTTP {resp.status}"
        try:
            data = json.loads(body)
        except ValueError:
            return False, False, f"backend at {origin} answered {path} with invalid JSON"
        if spec.kind == "openai":
            models = data.get("data") if isinstance(data, dict) else None
            if not isinstance(models, list):
                return False, False, f"backend at {origin}: {path} has no model list"
            ids = [str(m.get("id")) for m in models if isinstance(m, dict) and m.get("id")]
            if spec.model is None:
                if not ids:
                    return False, True, f"the server at {origin} has no model loaded"
                self._model_name = ids[0]
            elif spec.model not in ids:
                return (
                    False,
                    False,
                    (
                        f"the server at {origin} has no model {spec.model!r} "
                        f"(it has: {', '.join(ids) or 'none'})"
                    ),
                )
        return True, False, ""

    def _publish_info(self, load_ms: float) -> None:
        assert self._spec is not None and self._template is not None
        name = f" ({self._model_name})" if self._model_name else ""
        self.info = ModelInfo(
            path=f"{self._spec.url}{name}",
            architecture=self._spec.kind,
            template=self._template.name,
            context_length=self._spec.context_length,
            load_ms=load_ms,
        )

    def _lost(self, why: str) -> None:
        """The server stopped answering: report it and watch its health until it is back."""
        if self.state is not ModelState.READY:
            return
        logger.warning("model backend lost: %s", why)
        self._set_state(ModelState.ERROR, why)
        self._task = asyncio.ensure_future(self._watch_health())

    # -- requests ---------------------------------------------------------------------------

    async def run(self, job: Job) -> GenerationResult:
        if self.state is not ModelState.READY and self._task is not None and not self._task.done():
            self._wake.set()  # probe now: it may be back
        self._check_ready()
        if isinstance(job, ScoreJob):
            raise Unsupported("scoring tokens needs the local model worker")
        spec, template = self._spec, self._template
        assert spec is not None and template is not None
        started = time.monotonic()
        deadline = started + job.deadline_s
        try:
            if isinstance(job, CompletionJob):
                path, body, prompt, prompt_tokens = await self._completion_request(
                    job, template, deadline
                )
                stops = tuple(dict.fromkeys((*job.stop, *template.stop)))
            else:
                if job.json_schema is not None and spec.kind != "llama-server":
                    raise Unsupported("JSON-constrained output needs backend.kind llama-server")
                prompt, prompt_tokens = job.prompt, math.ceil(len(job.prompt) / CHARS_PER_TOKEN)
                path, body = self._plain_request(prompt, job.max_tokens, job.stop, job.json_schema)
                stops = job.stop
            text, reason, pieces, first_ms = await self._stream(path, body, stops, deadline)
        except _NoAnswer as exc:
            self._lost(f"backend unreachable: {exc}")
            raise ModelUnavailable(f"backend unreachable: {exc}") from None
        except _DeadlineReached:
            text, reason, pieces, first_ms, prompt = "", "deadline", 0, 0.0, ""
            prompt_tokens = 0
        total_ms = (time.monotonic() - started) * 1000
        stats = GenerationStats(
            prompt_tokens=prompt_tokens,
            evaluated_tokens=prompt_tokens,
            generated_tokens=pieces,
            stop_reason=reason,
            prompt_ms=first_ms,
            generate_ms=max(0.0, total_ms - first_ms),
            kind=job.kind,
            job_id=self._next_job_id(),
        )
        result = GenerationResult(text, stats, prompt if DEBUG_PROMPTS else "")
        self._record(result)
        return result

    async def _completion_request(
        self, job: CompletionJob, template: FimTemplate, deadline: float
    ) -> tuple[str, dict[str, Any], str, int]:
        spec = self._spec
        assert spec is not None
        count = await self._token_counter(job, deadline)
        built = prompt_for_job(template, job, count, spec.context_length)
        stops = list(dict.fromkeys((*job.stop, *template.stop)))
        if spec.kind == "llama-server" and template.supports_suffix:
            context = built.context_used
            if context and not context.endswith("\n"):
                context += "\n"
            body: dict[str, Any] = {
                "input_prefix": context + built.prefix_used,
                "input_suffix": built.suffix_used,
                "input_extra": [],
                "prompt": job.middle,
                "n_predict": job.max_tokens,
                "temperature": 0.0,
                "top_k": 1,
                "stream": True,
                "cache_prompt": True,
                "stop": stops,
            }
            return "/infill", body, built.text, built.tokens_estimate
        path, body = self._plain_request(built.text, job.max_tokens, tuple(stops), None)
        return path, body, built.text, built.tokens_estimate

    def _plain_request(
        self,
        prompt: str,
        max_tokens: int,
        stop: tuple[str, ...],
        json_schema: dict[str, Any] | None,
    ) -> tuple[str, dict[str, Any]]:
        assert self._spec is not None
        if self._spec.kind == "llama-server":
            body: dict[str, Any] = {
                "prompt": prompt,
                "n_predict": max_tokens,
                "temperature": 0.0,
                "top_k": 1,
                "stream": True,
                "cache_prompt": True,
                "stop": list(stop),
            }
            if json_schema is not None:
                body["json_schema"] = json_schema
            return "/completion", body
        body = {
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_p": 1.0,
            "n": 1,
            "stream": True,
            "stop": list(stop),
        }
        if self._model_name:
            body["model"] = self._model_name
        return "/v1/completions", body

    async def _token_counter(self, job: CompletionJob, deadline: float) -> Callable[[str], int]:
        """Tokens of a piece of text, for the budget: llama-server's own tokenizer measures
        the tokens per character of this code (once every RECOUNT_EVERY jobs); otherwise an
        estimate of CHARS_PER_TOKEN characters per token."""
        assert self._spec is not None
        self._jobs += 1
        if self._spec.kind == "llama-server" and (
            self._chars_per_token is None or self._jobs % RECOUNT_EVERY == 0
        ):
            sample = (job.extra_context[-1000:] + job.prefix[-4000:] + job.suffix[:1000])[-6000:]
            if len(sample) >= 200:
                with contextlib.suppress(BackendError, _DeadlineReached, ValueError):
                    self._chars_per_token = await self._measure(sample, deadline)
        per = self._chars_per_token or CHARS_PER_TOKEN
        return lambda text: math.ceil(len(text) / per) if text else 0

    async def _measure(self, sample: str, deadline: float) -> float:
        body = json.dumps({"content": sample, "add_special": False}).encode()
        resp = await self._request("POST", "/tokenize", body, deadline)
        try:
            raw = await resp.read_all(deadline)
        finally:
            resp.close()
        tokens = json.loads(raw).get("tokens") if resp.status == 200 else None
        if not isinstance(tokens, list) or not tokens:
            raise ValueError("no tokens")
        # A little under the measured ratio: the budget is a limit, better to stay inside it.
        return max(1.0, len(sample) / len(tokens) * 0.95)

    async def _stream(
        self, path: str, body: dict[str, Any], stops: tuple[str, ...], deadline: float
    ) -> tuple[str, str, int, float]:
        """(text, stop reason, pieces received, ms to the first piece)."""
        assert self._target is not None
        origin = self._target.origin
        started = time.monotonic()
        resp = await self._request("POST", path, json.dumps(body).encode(), deadline)
        text, reason, pieces, first_ms = "", "eos", 0, 0.0
        try:
            if 300 <= resp.status < 400:
                where = resp.headers.get("location", "elsewhere")
                raise BackendError(
                    f"{origin} answered {path} with a redirect (HTTP {resp.status}, to {where}); "
                    "Enclave does not follow redirects: set backend.url to the server itself"
                )
            if resp.status != 200:
                snippet = (await resp.read_all(min(deadline, time.monotonic() + 2)))[:300]
                message = snippet.decode("utf-8", errors="replace").strip()
                raise BackendError(f"{origin} answered {path} with HTTP {resp.status}: {message}")
            streaming = "text/event-stream" in resp.headers.get("content-type", "")
            events = resp.events(deadline) if streaming else _single(resp, deadline)
            try:
                async for event in events:
                    if event.strip() == "[DONE]":
                        break
                    try:
                        obj = json.loads(event)
                    except ValueError:
                        raise BackendError(f"{origin} sent invalid JSON from {path}") from None
                    piece, finished = _parse_piece(obj, origin, path)
                    if piece:
                        if not pieces:
                            first_ms = (time.monotonic() - started) * 1000
                        pieces += 1
                        text += piece
                        hit = first_stop(text, stops)
                        if hit is not None:
                            text, reason = text[:hit], "stop"
                            break  # the connection is closed below: the server stops too
                    if finished:
                        reason = finished
                        break
            except _DeadlineReached:
                reason = "deadline"
                hit = first_stop(text, stops)
                text = text if hit is None else text[:hit]
        finally:
            resp.close()
        return text, reason, pieces, first_ms

    async def _request(
        self, method: str, path: str, body: bytes | None, deadline: float
    ) -> _Response:
        """Send one request; retries only when nothing at all came back."""
        for delay in (*CONNECT_RETRY_S, None):
            try:
                return await self._request_once(method, path, body, deadline)
            except _NoAnswer as exc:
                if delay is None or time.monotonic() + delay >= deadline:
                    raise
                logger.debug("no answer (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _request_once(
        self, method: str, path: str, body: bytes | None, deadline: float
    ) -> _Response:
        spec, target = self._spec, self._target
        assert spec is not None and target is not None
        origin = target.origin
        first_byte_by = min(deadline, time.monotonic() + spec.timeout_ms / 1000)
        writer: asyncio.StreamWriter | None = None
        answered = False  # a byte came back: no retry from here on
        try:
            async with asyncio.timeout_at(_loop_time(first_byte_by)):
                reader, writer = await self._open(target)
                head = [
                    f"{method} {target.base_path}{path} HTTP/1.1",
                    f"Host: {target.host_header}",
                    "User-Agent: enclave",
                    "Accept: text/event-stream, application/json",
                    "Accept-Encoding: identity",
                    "Connection: close",
                ]
                if body is not None:
                    head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + (body or b""))
                await writer.drain()
                status_line = await reader.readline()
                if not status_line:
                    raise _NoAnswer(f"{origin} closed the connection without answering")
                answered = True
                status = _parse_status(status_line, origin)
                headers: dict[str, str] = {}
                size = len(status_line)
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    size += len(line)
                    if size > MAX_HEADER_BYTES:
                        raise BackendError(f"{origin} sent more than 64 KB of headers")
                    name, sep, value = line.decode("latin-1").partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
            return _Response(status, headers, reader, writer, origin)
        except BaseException as exc:
            if writer is not None:
                writer.transport.abort()
            if isinstance(exc, TimeoutError):
                if time.monotonic() >= deadline:
                    raise _DeadlineReached from None
                raise BackendError(
                    f"{origin} did not answer within {spec.timeout_ms} ms (backend.timeoutMs)"
                ) from None
            if isinstance(exc, ssl.SSLError):
                raise BackendError(f"TLS with {origin} failed: {exc}") from None
            if isinstance(exc, OSError):
                why = f"{origin}: {exc.strerror or exc}"
                raise (BackendError(why) if answered else _NoAnswer(why)) from None
            if isinstance(exc, ValueError | asyncio.LimitOverrunError):
                raise BackendError(f"{origin} sent a malformed answer") from None
            raise

    async def _open(self, target: Target) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to the checked addresses in order (never to anything else)."""
        last: OSError | None = None
        for address in target.addresses:
            try:
                return await asyncio.open_connection(
                    address,
                    target.port,
                    ssl=self._ssl if target.scheme == "https" else None,
                    server_hostname=target.host if target.scheme == "https" else None,
                    limit=READ_LIMIT,
                )
            except ssl.SSLError:
                raise
            except OSError as exc:
                last = exc
        raise last or OSError("no address to connect to")


def _loop_time(monotonic_at: float) -> float:
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_at - time.monotonic())


def _parse_status(line: bytes, origin: str) -> int:
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise BackendError(f"{origin} did not answer with HTTP/1.x")
    return int(parts[1])


async def _single(resp: _Response, deadline: float) -> AsyncIterator[str]:
    """A server that ignored stream=true: its whole JSON body is one event."""
    yield (await resp.read_all(deadline)).decode("utf-8", errors="replace")


def _parse_piece(obj: Any, origin: str, path: str) -> tuple[str, str]:
    """(text, finish reason or "") of one streamed object, either server kind."""
    if not isinstance(obj, dict):
        raise BackendError(f"{origin} sent an unexpected answer from {path}")
    if "error" in obj:
        err = obj["error"]
        message = err.get("message", err) if isinstance(err, dict) else err
        raise BackendError(f"{origin} reported an error: {str(message)[:300]}")
    choices = obj.get("choices")
    if isinstance(choices, list):  # OpenAI-compatible
        if not choices:
            return "", ""
        choice = choices[0]
        if not isinstance(choice, dict) or not isinstance(choice.get("text", ""), str):
            raise BackendError(f"{origin} sent an unexpected answer from {path}")
        finish = choice.get("finish_reason")
        return str(choice.get("text") or ""), _finish(finish)
    content = obj.get("content")
    if isinstance(content, str):  # llama.cpp
        if obj.get("stop"):
            kind = str(obj.get("stop_type", ""))
            return content, "length" if kind == "limit" else "eos"
        return content, ""
    raise BackendError(f"{origin} sent an unexpected answer from {path}")


def _finish(reason: Any) -> str:
    if not reason:
        return ""
    return "length" if reason == "length" else "eos"
