"""Which hosts a completion backend may be reached at.

Code goes to a backend in every request, so by default only this machine and private networks
are allowed: loopback (127.0.0.0/8, ::1) and the private ranges 10.0.0.0/8, 172.16.0.0/12,
192.168.0.0/16 and fc00::/7. A host name is allowed when every address it resolves to is in
those ranges. Any other host is refused unless the user names it in `backend.allowHosts`.

The addresses checked here are the ones connected to (no second lookup that could answer
differently), and nothing else is ever tried when the host is refused or unreachable.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lsp_server.errors import ModelError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    )
)

# Resolves (host, port) to addresses; injectable for tests.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class HostRefused(ModelError):
    """The backend's host is outside the host policy, or its URL is unusable."""


@dataclass(frozen=True)
class Target:
    """A checked backend address: connect to `addresses` (in order), and use `host` for the
    Host header and for TLS (SNI and certificate verification)."""

    scheme: str  # http | https
    host: str
    port: int
    base_path: str  # without a trailing slash
    addresses: tuple[str, ...]

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def is_allowed_address(address: str | IPAddress) -> bool:
    """True for loopback and private-network addresses (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in ALLOWED_NETWORKS)


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, base path) of a backend URL, or HostRefused saying what is wrong."""
    if not url:
        raise HostRefused("backend.url is not set")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise HostRefused(f"backend.url {url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise HostRefused(f"backend.url {url!r} must start with http:// or https://")
    if parts.username or parts.password:
        raise HostRefused("backend.url must not contain a user name or password")
    if parts.query or parts.fragment:
        raise HostRefused("backend.url must not contain a query or fragment")
    host = (parts.hostname or "").lower()
    if not host:
        raise HostRefused(f"backend.url {url!r} has no host")
    port = port or (443 if scheme == "https" else 80)
    return scheme, host, port, parts.path.rstrip("/")


async def system_resolver(host: str, port: int) -> Sequence[str]:
    import asyncio

    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_url(
    url: str, allow_hosts: Sequence[str] = (), resolve: Resolver = system_resolver
) -> Target:
    """Check `url` against the host policy; returns the addresses to connect to.

    An IP literal is judged without any lookup, so a refused public address is never
    contacted. A host name is resolved once: all its addresses must be allowed, unless the
    name is listed in `allow_hosts` (exact, case-insensitive)."""
    scheme, host, port, base = parse_url(url)
    allowed_names = {h.strip().lower().strip("[]") for h in allow_hosts if h.strip()}
    explicit = host in allowed_names
    literal: IPAddress | None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not explicit and not is_allowed_address(literal):
            raise HostRefused(_refusal(host))
        return Target(scheme, host, port, base, (str(literal),))
    # A name is judged by its addresses; nothing is sent to it before that.
    try:
        addresses = tuple(await resolve(host, port))
    except OSError as exc:
        raise HostRefused(f"cannot resolve the backend host {host!r}: {exc}") from None
    if not addresses:
        raise HostRefused(f"the backend host {host!r} has no addresses")
    if not explicit:
        outside = [a for a in addresses if not is_allowed_address(a)]
        if outside:
            raise HostRefused(_refusal(host, outside))
    return Target(scheme, host, port, base, addresses)


def _refusal(host: str, addresses: Sequence[str] = ()) -> str:
    where = f" (resolves to {', '.join(addresses)})" if addresses else ""
    return (
        f"host policy: the backend host {host!r}{where} is not on this machine or a private "
        "network, so Enclave will not send code to it; to allow it, add "
        f'"{host}" to the setting backend.allowHosts'
    )
