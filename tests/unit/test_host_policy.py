"""The host policy for model backends: only this machine and private networks unless the user
names a host; IP literals are judged without any lookup or connection."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lsp_server.model.host_policy import HostRefused, check_url, is_allowed_address, parse_url


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("172.31.255.254", True),
        ("172.32.0.1", False),
        ("172.15.255.255", False),
        ("192.168.10.20", True),
        ("192.169.0.1", False),
        ("fc00::1", True),
        ("fd12:3456::1", True),
        ("fe80::1", False),  # link-local is not in the list
        ("169.254.169.254", False),  # neither is the cloud metadata address
        ("::ffff:10.0.0.1", True),  # IPv4-mapped private
        ("::ffff:8.8.8.8", False),
        ("8.8.8.8", False),
        ("203.0.113.5", False),
        ("2001:db8::1", False),
        ("0.0.0.0", False),
        ("not-an-address", False),
    ],
)
def test_allowed_addresses(address: str, allowed: bool) -> None:
    assert is_allowed_address(address) is allowed


def resolver(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    return resolve, calls


async def test_public_ip_literal_refused_without_lookup() -> None:
    resolve, calls = resolver({})
    with pytest.raises(HostRefused) as err:
        await check_url("http://203.0.113.5:8080", (), resolve)
    assert "host policy" in str(err.value) and "203.0.113.5" in str(err.value)
    assert "backend.allowHosts" in str(err.value)
    assert calls == []


async def test_private_ip_literals_allowed() -> None:
    resolve, calls = resolver({})
    target = await check_url("http://10.0.0.5:8080/", (), resolve)
    assert target.addresses == ("10.0.0.5",) and target.port == 8080 and target.base_path == ""
    v6 = await check_url("https://[::1]/llm", (), resolve)
    assert v6.addresses == ("::1",) and v6.port == 443 and v6.base_path == "/llm"
    assert v6.host_header == "[::1]"
    assert calls == []


async def test_names_are_judged_by_all_their_addresses() -> None:
    resolve, _ = resolver(
        {
            "llm.internal": ["10.0.0.7", "fd00::7"],
            "mixed.example": ["10.0.0.8", "198.51.100.4"],
            "public.example": ["198.51.100.5"],
            "localhost": ["127.0.0.1", "::1"],
        }
    )
    target = await check_url("http://LLM.internal:8000", (), resolve)
    assert target.host == "llm.internal" and target.addresses == ("10.0.0.7", "fd00::7")
    assert (await check_url("http://localhost:1234", (), resolve)).addresses[0] == "127.0.0.1"
    for url in ("http://mixed.example", "https://public.example"):
        with pytest.raises(HostRefused, match="host policy"):
            await check_url(url, (), resolve)
    with pytest.raises(HostRefused, match="cannot resolve"):
        await check_url("http://nowhere.internal", (), resolve)


async def test_allow_hosts_is_explicit_and_exact() -> None:
    resolve, _ = resolver({"public.example": ["198.51.100.5"], "llm.public.example": ["1.2.3.4"]})
    target = await check_url("https://public.example", ["Public.Example"], resolve)
    assert target.addresses == ("198.51.100.5",)
    with pytest.raises(HostRefused):  # a subdomain is not covered
        await check_url("https://llm.public.example", ["public.example"], resolve)
    literal = await check_url("http://203.0.113.5:8080", ["203.0.113.5"], resolve)
    assert literal.addresses == ("203.0.113.5",)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "not set"),
        ("ftp://10.0.0.1/", "http:// or https://"),
        ("10.0.0.1:8080", "http:// or https://"),
        ("http://user:secret@10.0.0.1/", "user name or password"),
        ("http://10.0.0.1/?key=1", "query"),
        ("http://10.0.0.1:99999/", "not a valid URL"),
        ("http:///v1", "no host"),
    ],
)
def test_unusable_urls(url: str, why: str) -> None:
    with pytest.raises(HostRefused, match=why):
        parse_url(url)
