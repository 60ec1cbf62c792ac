"""Reading JSON-RPC messages so that bad input always gets an answer.

pygls 2.1.1's own loop leaves a request with malformed JSON or wrongly typed params without any
response, and stalls on a lowercase `content-length` header. This loop reads headers
case-insensitively, caps the body size, answers ParseError (-32700) for malformed JSON with the
request's id when it can be recovered, and InvalidParams (-32602) for params of the wrong shape.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Awaitable
from typing import Any, Protocol

from lsprotocol.types import ErrorCodes, ResponseError, ResponseErrorMessage
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol

logger = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 64 * 1024 * 1024
_ID = re.compile(rb'"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,18})')


class Reader(Protocol):
    def readline(self) -> Awaitable[bytes]: ...

    def readexactly(self, n: int) -> Awaitable[bytes]: ...


def _recover_id(body: bytes) -> int | str | None:
    match = _ID.search(body)
    if match is None:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, int | str) else None


def send_error(protocol: JsonRPCProtocol, msg_id: int | str | None, code: int, text: str) -> None:
    protocol._send_data(  # pygls has no public way to answer a message it could not parse
        ResponseErrorMessage(id=msg_id, error=ResponseError(code=code, message=text))
    )


def handle_body(protocol: JsonRPCProtocol, body: bytes) -> None:
    try:
        raw: Any = json.loads(body)
    except ValueError:
        msg_id = _recover_id(body)
        logger.warning("malformed JSON-RPC message (%d bytes), id %r", len(body), msg_id)
        send_error(protocol, msg_id, ErrorCodes.ParseError, "Parse error: the body is not JSON")
        return
    if not isinstance(raw, dict) or raw.get("jsonrpc") != "2.0":
        msg_id = raw.get("id") if isinstance(raw, dict) else None
        logger.warning("invalid JSON-RPC message dropped with an error answer")
        send_error(
            protocol,
            msg_id if isinstance(msg_id, int | str) else None,
            ErrorCodes.InvalidRequest,
            "Invalid request: not a JSON-RPC 2.0 message",
        )
        return
    try:
        message = protocol.structure_message(raw)
    except JsonRpcException:
        method = raw.get("method", "")
        if "id" in raw and "method" in raw:
            send_error(
                protocol,
                raw["id"],
                ErrorCodes.InvalidParams,
                f"Invalid params for {method}",
            )
        else:
            logger.warning("notification %s with invalid params ignored", method)
            # Ignoring a document change would leave the document silently out of step.
            hook = getattr(protocol, "invalid_notification", None)
            if hook is not None:
                hook(method, raw.get("params"))
        return
    try:
        protocol.handle_message(message)
    except Exception:
        logger.exception("error while handling %s", raw.get("method", "a response"))
        if "id" in raw and "method" in raw:
            send_error(protocol, raw["id"], ErrorCodes.InternalError, "Internal error")


async def read_messages(
    stop_event: threading.Event, reader: Reader, protocol: JsonRPCProtocol
) -> None:
    """The main loop: frame messages off `reader` until EOF or a framing error we cannot
    recover from (an absurd Content-Length), which is logged before the loop ends."""
    while not stop_event.is_set():
        length: int | None = None
        while True:
            line = await reader.readline()
            if not line:
                return  # the client closed the stream
            if not line.strip():
                if length is not None:
                    break
                continue  # stray blank line between messages
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = -1
        if not 0 < length <= MAX_CONTENT_LENGTH:
            logger.error(
                "fatal: Content-Length %s is not in 1..%d; closing the connection",
                length,
                MAX_CONTENT_LENGTH,
            )
            return
        try:
            body = await reader.readexactly(length)
        except Exception:
            body = b""
        if len(body) < length:
            logger.error("the client closed the stream in the middle of a message")
            return
        handle_body(protocol, body)
