"""The one place where Enclave's typed errors become JSON-RPC errors."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

from lsp_server.errors import DocumentError, EnclaveError, UnknownSuggestion

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def _convert(exc: EnclaveError) -> Exception:
    if isinstance(exc, DocumentError | UnknownSuggestion):  # the request's params are wrong
        return JsonRpcInvalidParams(str(exc))
    return JsonRpcInternalError(str(exc))


def converting_errors(handler: F) -> F:
    """Wrap a handler so an EnclaveError becomes a proper JSON-RPC error for its request.
    (For notifications pygls only logs; that is all there is to do.)"""
    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return await handler(*args, **kwargs)
            except EnclaveError as exc:
                logger.warning("%s: %s", handler.__qualname__, exc)
                raise _convert(exc) from None

        return cast(F, async_wrapper)

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except EnclaveError as exc:
            logger.warning("%s: %s", handler.__qualname__, exc)
            raise _convert(exc) from None

    return cast(F, wrapper)
