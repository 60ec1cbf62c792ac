"""Loaded by every Python process of the test run (tests put this folder on PYTHONPATH): the
server, its model worker, test servers. It refuses, and records, any network connection or
name lookup that is not for a loopback address. The test fixture fails a test that caused one.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from typing import Any

_LOG = os.environ.get("ENCLAVE_EGRESS_LOG", "")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()} {sys.argv[:3]} {what}\n")
    raise PermissionError(f"egress guard: {what} refused (only loopback is allowed in tests)")


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[-1]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6) and not (
            isinstance(address, tuple) and _is_loopback(address[0])
        ):
            _refuse(f"{event} to {address!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host is not None and not _is_loopback(host):
            _refuse(f"name lookup of {host!r}")
    elif event == "socket.gethostbyname" and not _is_loopback(args[0]):
        _refuse(f"name lookup of {args[0]!r}")


if _LOG:
    sys.addaudithook(_hook)
