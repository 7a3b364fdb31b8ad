"""Keeping webhooks away from private networks (the SSRF guard), and pinning the vetted address.

A webhook URL is chosen by a subscriber, so without a guard the service could
be made to post into its own network: the cloud metadata endpoint, an admin
port on loopback, a database on the private range. ``AddressGuard.pin`` refuses
a URL unless its scheme is http(s) and every address its host resolves to is
public. Refused, whatever the notation:

- loopback, private (RFC 1918, ``fc00::/7``), link-local (``169.254/16``,
  ``fe80::/10``), shared (``100.64/10``), unspecified, multicast, reserved and
  otherwise non-global ranges, and cloud metadata addresses;
- IPv6 forms that embed a refused IPv4 address: IPv4-mapped (``::ffff:a.b.c.d``),
  NAT64 (``64:ff9b::/96``) and 6to4 (``2002::/16``).

The check and the connection use the same address. DNS is asked once, here;
the URL handed to the HTTP client has its host replaced by the vetted address,
so the client dials that literal and never resolves the name again (no DNS
rebinding between the check and the connect). The name is kept where the
server needs it: in the ``Host`` header and, for https, as the TLS server name
(httpx's documented ``sni_hostname`` request extension), against which the
certificate is verified as usual.

With ``allow_private=True`` (tests, on-premise) addresses are not refused but
are still resolved once and pinned the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from channels.errors import PermanentChannelError, TransientChannelError

__all__ = ["AddressGuard", "PinnedTarget", "Resolver", "check_address", "system_resolver"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolves ``(host, port)`` to IP address texts, in the order to try them.
Resolver = Callable[[str, int], Sequence[str]]

#: Cloud metadata endpoints (AWS, GCP, Azure; AWS over IPv6; Alibaba).
_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where to connect for a vetted URL.

    Attributes:
        url: The URL to request, its host replaced by ``address`` when it was a name.
        address: The vetted IP address that will be dialed.
        host_header: The original ``host[:port]`` for the ``Host`` header, or None
            when the URL already held an IP address.
        sni_hostname: The TLS server name for https to a name, else None.
    """

    url: httpx.URL
    address: str
    host_header: str | None
    sni_hostname: str | None


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the operating system's resolver (``getaddrinfo``)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_address(address: str) -> None:
    """Refuse an IP address a webhook must not reach.

    Args:
        address: An IPv4 or IPv6 address.

    Raises:
        PermanentChannelError: The address is not public; the message names it and why.
    """
    ip = ipaddress.ip_address(address)
    reason = _forbidden_reason(ip)
    if reason is not None:
        raise PermanentChannelError(f"webhook address {ip} is refused: {reason}")


def _forbidden_reason(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = _forbidden_reason(embedded)
            return None if inner is None else f"{inner} (embedded IPv4 {embedded})"
    checks: tuple[tuple[bool, str], ...] = (
        (ip in _METADATA, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (CGNAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


class AddressGuard:
    """Vets webhook URLs and pins each to one checked address.

    Args:
        allow_private: Do not refuse non-public addresses (tests, on-premise).
        resolver: How names are resolved; the operating system's by default.
    """

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None):
        self.allow_private = allow_private
        self._resolver = resolver or system_resolver

    def pin(self, url: str) -> PinnedTarget:
        """Check ``url`` and say which address to dial for it.

        Args:
            url: The subscriber's webhook URL.

        Returns:
            The URL to request, with its host pinned to a vetted address.

        Raises:
            PermanentChannelError: The URL is invalid, not http(s), or its host
                is or resolves to a refused address.
            TransientChannelError: The host could not be resolved.
        """
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise PermanentChannelError(f"webhook URL {url!r} is invalid: {error}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise PermanentChannelError(f"webhook URL {url!r} must be an http or https URL")
        literal = _ip_or_none(parsed.host)
        if literal is not None:
            self._vet(literal, parsed.host)
            return PinnedTarget(
                url=parsed, address=str(literal), host_header=None, sni_hostname=None
            )
        name = parsed.raw_host.decode("ascii")
        addresses = self._resolve(name, parsed.port or (443 if parsed.scheme == "https" else 80))
        for address in addresses:
            self._vet(address, name)
        chosen = addresses[0]
        return PinnedTarget(
            url=parsed.copy_with(host=str(chosen)),
            address=str(chosen),
            host_header=parsed.netloc.decode("ascii"),
            sni_hostname=name if parsed.scheme == "https" else None,
        )

    def refusal(self, url: str) -> str | None:
        """Why sending to ``url`` would be refused, when that can be told now.

        For checking a subscription when it is made. ``None`` when the URL passes, when
        non-public addresses are allowed, or when its host cannot be resolved at the moment
        (every send checks again).
        """
        if self.allow_private:
            return None
        try:
            self.pin(url)
        except PermanentChannelError as error:
            return str(error)
        except TransientChannelError:
            return None
        return None

    def _vet(self, ip: IPAddress, host: str) -> None:
        if self.allow_private:
            return
        reason = _forbidden_reason(ip)
        if reason is not None:
            where = str(ip) if host == str(ip) else f"{host} resolves to {ip}, which"
            raise PermanentChannelError(f"webhook URL refused: {where} is {reason}")

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            found = [ipaddress.ip_address(text) for text in self._resolver(host, port)]
        except (OSError, ValueError) as error:
            raise TransientChannelError(
                f"webhook host {host} could not be resolved: {error}"
            ) from None
        unique = list(dict.fromkeys(found))
        if not unique:
            raise TransientChannelError(f"webhook host {host} resolves to no address")
        return unique


def _ip_or_none(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
