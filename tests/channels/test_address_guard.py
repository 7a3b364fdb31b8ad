"""The webhook SSRF guard: which addresses are refused, and how URLs are pinned."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from channels.address_guard import AddressGuard, Resolver, check_address
from channels.errors import PermanentChannelError, TransientChannelError

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"

FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "metadata"),
    ("169.254.1.1", "link-local"),
    ("100.64.0.1", "shared"),
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "private"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fc00::1", "private"),
    ("fd00:ec2::254", "metadata"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback address (embedded IPv4 127.0.0.1)"),
    ("::ffff:169.254.169.254", "metadata address (embedded IPv4 169.254.169.254)"),
    ("64:ff9b::7f00:1", "loopback address (embedded IPv4 127.0.0.1)"),
    ("64:ff9b::a00:1", "private address (embedded IPv4 10.0.0.1)"),
    ("2002:7f00:1::", "loopback address (embedded IPv4 127.0.0.1)"),
    ("2002:c0a8:101::1", "private address (embedded IPv4 192.168.1.1)"),
    ("::7f00:1", "reserved"),
    ("2001:db8::1", "private"),
]


@pytest.mark.parametrize(("address", "why"), FORBIDDEN, ids=[a for a, _ in FORBIDDEN])
def test_non_public_addresses_are_refused(address: str, why: str) -> None:
    # Given a non-public address, When it is checked, Then it is refused, naming it and why
    with pytest.raises(PermanentChannelError) as raised:
        check_address(address)
    assert address.split("%")[0] in raised.value.reason or address.startswith("::ffff")
    assert why in raised.value.reason


@pytest.mark.parametrize(
    "address", [PUBLIC_V4, "8.8.8.8", PUBLIC_V6, "64:ff9b::808:808", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass_the_check(address: str) -> None:
    # Given a public address (also when embedded in NAT64 or IPv4-mapped form)
    # When it is checked, Then nothing is raised
    check_address(address)


def fixed(*addresses: str) -> tuple[list[str], Resolver]:
    calls: list[str] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(f"{host}:{port}")
        return list(addresses)

    return calls, resolve


def test_localhost_by_name_is_refused_with_the_system_resolver() -> None:
    # Given the operating system's resolver, When "localhost" is vetted, Then it is refused
    with pytest.raises(PermanentChannelError, match=r"localhost resolves to .*loopback"):
        AddressGuard().pin("http://localhost:8080/hook")


def test_a_name_with_any_non_public_answer_is_refused() -> None:
    # Given a name whose answers include a loopback address after a public one
    _, resolve = fixed(PUBLIC_V4, "127.0.0.1")

    # When a URL with that name is vetted, Then every answer counts: it is refused
    with pytest.raises(PermanentChannelError, match="hooks.example resolves to 127.0.0.1"):
        AddressGuard(resolver=resolve).pin("https://hooks.example/")


@pytest.mark.parametrize("url", [f"http://{PUBLIC_V4}/in", f"https://[{PUBLIC_V6}]:8443/in"])
def test_a_public_literal_url_is_used_as_is_without_resolving(url: str) -> None:
    # Given a resolver that must not be asked
    calls, resolve = fixed("127.0.0.1")

    # When a URL holding a public address is vetted
    target = AddressGuard(resolver=resolve).pin(url)

    # Then it is dialed as written, with no Host or TLS name override
    assert (str(target.url), target.host_header, target.sni_hostname) == (url, None, None)
    assert calls == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:8000/",
    ],
)
def test_literal_private_urls_are_refused_without_resolving(url: str) -> None:
    # Given a resolver that must not be asked
    calls, resolve = fixed(PUBLIC_V4)

    # When a literal non-public URL is vetted, Then it is refused
    with pytest.raises(PermanentChannelError, match="refused"):
        AddressGuard(resolver=resolve).pin(url)
    assert calls == []


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example/x", "file:///etc/passwd", "gopher://hooks.example/", "hooks.example/x"],
)
def test_non_http_urls_are_refused(url: str) -> None:
    # Given a URL that is not http(s), When it is vetted, Then it is refused
    with pytest.raises(PermanentChannelError, match="http or https"):
        AddressGuard().pin(url)


def test_a_public_name_is_pinned_to_its_vetted_address() -> None:
    # Given a name resolving to a public address
    calls, resolve = fixed(PUBLIC_V4)

    # When an https URL with that name is vetted
    target = AddressGuard(resolver=resolve).pin("https://hooks.example:8443/in?x=1")

    # Then the URL dials the address, and the name stays for Host and TLS
    assert calls == ["hooks.example:8443"]
    assert str(target.url) == f"https://{PUBLIC_V4}:8443/in?x=1"
    assert (target.address, target.host_header, target.sni_hostname) == (
        PUBLIC_V4,
        "hooks.example:8443",
        "hooks.example",
    )


def test_an_ipv6_answer_is_bracketed_and_http_has_no_server_name() -> None:
    # Given a name resolving to a public IPv6 address
    _, resolve = fixed(PUBLIC_V6)

    # When an http URL is vetted
    target = AddressGuard(resolver=resolve).pin("http://hooks.example/in")

    # Then the pinned URL holds the bracketed address and no TLS name is needed
    assert str(target.url) == f"http://[{PUBLIC_V6}]/in"
    assert target.sni_hostname is None


def test_allow_private_lets_loopback_through_but_still_pins() -> None:
    # Given the guard opened for tests and a name resolving to loopback
    _, resolve = fixed("127.0.0.1")

    # When a URL is vetted, Then it is pinned to loopback
    target = AddressGuard(allow_private=True, resolver=resolve).pin("http://hooks.example:81/")
    assert str(target.url) == "http://127.0.0.1:81/"


def test_resolution_failures_are_transient() -> None:
    # Given resolvers that fail or find nothing
    def broken(host: str, port: int) -> Sequence[str]:
        raise OSError("Temporary failure in name resolution")

    _, empty = fixed()

    # When a URL is vetted, Then the failure is transient
    for resolver in (broken, empty):
        with pytest.raises(TransientChannelError, match="hooks.example"):
            AddressGuard(resolver=resolver).pin("https://hooks.example/")
