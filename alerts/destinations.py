"""Where a webhook may be sent: public addresses only, checked when it is saved and again, on the
addresses actually resolved, every time it is sent.

A webhook URL is chosen by an administrator but its host name is resolved by whoever runs its DNS,
and the delivery log shows what came back: without these checks the server could be pointed at
itself, its database, Redis or a cloud metadata service, and the log read as a port scanner. The
sender connects to the very address that was checked (no second resolution between check and
connection), with the host name kept for the Host header and TLS (SNI and certificate).

Hosts named in settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS (exactly as written in the URL) may resolve
to private, loopback or link-local addresses: a receiver on the organisation's own network.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEFAULT_PORTS = {"http": 80, "https": 443}
# NAT64 (RFC 6052) carries an IPv4 address in its last 32 bits: judged by that address alone, so
# that IPv6-only networks (DNS64) still reach public receivers.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """A webhook URL that may not be sent to. `status` is the delivery log's class for it; the
    message is for the administrator who typed the URL."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as the receiver must see it: Host header, SNI, certificate name (IDNA)
    port: int
    target: str  # path and query
    addresses: tuple[str, ...]  # every one checked; connect to these, never resolve again


def _translated_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for outright: IPv4-mapped, or NAT64 (RFC 6052)."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _tunnelled_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside a 6to4 or Teredo address."""
    if address.version != 6:
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public(address: Address) -> bool:
    """Globally routable unicast: not loopback, private, shared (CGNAT), link-local, site-local,
    multicast, reserved, unspecified or documentation space, nor an IPv6 form of any of them."""
    translated = _translated_ipv4(address)
    if translated is not None:
        return is_public(translated)
    tunnelled = _tunnelled_ipv4(address)
    if tunnelled is not None and not is_public(tunnelled):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or (address.version == 6 and address.is_site_local)
    )


def _internal_allowed(host: str) -> bool:
    allowed = settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS
    return host in {name.strip().strip("[]").rstrip(".").lower() for name in allowed}


def _refused_address() -> DestinationRefused:
    return DestinationRefused(
        "address not allowed",
        _(
            "This address is on a private, loopback, link-local, multicast or reserved network; "
            "webhooks are sent to public addresses only."
        ),
    )


def _parse(url: str) -> tuple[str, str, int, str]:
    bad_url = DestinationRefused("URL not allowed", _("Enter an http:// or https:// URL."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad_url from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise bad_url
    host = parts.hostname.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise bad_url from None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return scheme, host.lower(), port or DEFAULT_PORTS[scheme], target


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise DestinationRefused(
            "name not resolved", _("The host name of this URL could not be found.")
        ) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def resolve_destination(url: str) -> Destination:
    """Parse the URL, resolve its host and check every address (raises DestinationRefused)."""
    scheme, host, port, target = _parse(url)
    addresses = _resolve(host, port)
    checked = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone is no exemption
        if address.is_multicast or address.is_unspecified:
            raise _refused_address()  # not a receiver, whoever names it
        if not is_public(address) and not _internal_allowed(host):
            raise _refused_address()
        checked.append(text)
    if not checked:
        raise DestinationRefused(
            "name not resolved", _("The host name of this URL could not be found.")
        )
    return Destination(scheme, host, port, target, tuple(checked))


def validate_webhook_url(url: str) -> None:
    """For forms and Model.clean(): the same checks as at send time, as a ValidationError."""
    try:
        resolve_destination(url)
    except DestinationRefused as refused:
        raise ValidationError(refused.message, code="destination") from None
