"""Request data for audit events: the client address and the correlation id."""

from __future__ import annotations

import ipaddress
import re
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

# Matched whole (fullmatch): "$" would let a final newline through, and a
# newline in the response's X-Request-ID header is an error in Django.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+/=-]+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


@lru_cache(maxsize=32)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of the valid ``TRUSTED_PROXIES`` entries, IPv4-mapped ones
    in their IPv4 form."""
    networks: list[Network] = []
    for proxy in proxies:
        try:
            network: Network = ipaddress.ip_network(proxy.strip(), strict=False)
        except ValueError:
            continue  # reported by signalkit.E022
        if (
            isinstance(network, ipaddress.IPv6Network)
            and network.prefixlen >= 96
            and network.subnet_of(_IPV4_MAPPED)
        ):
            # "::ffff:10.0.0.1", as a dual-stack server shows it: addresses
            # are matched in their IPv4 form (see parse_address).
            host = int(network.network_address) & 0xFFFFFFFF
            network = ipaddress.IPv4Network((host, network.prefixlen - 96))
        networks.append(network)
    return tuple(networks)


def parse_address(value: str) -> str | None:
    """``value`` as a normalised IP address, or ``None`` if it is not one.

    A port (``203.0.113.7:51234``, ``[2001:db8::1]:443``) and an IPv6 zone
    (``fe80::1%eth0``, which PostgreSQL's ``inet`` rejects) are dropped, and an
    IPv4-mapped address (``::ffff:10.0.0.1``, how a dual-stack
    socket shows IPv4 peers) becomes the IPv4 address, so ``TRUSTED_PROXIES``
    and searches see one form."""
    text = value.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:51234", as some load balancers write it
        text = text.partition(":")[0]
    try:
        parsed = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in networks)


def client_ip(meta: Mapping[str, Any], trusted_proxies: tuple[str, ...]) -> str | None:
    """The client address: ``REMOTE_ADDR``, or from ``X-Forwarded-For`` behind trusted proxies.

    The header is read right to left (each trusted proxy appends the address
    it saw) and the first address that is not a trusted proxy wins; anything
    left of it was written by the client and is never believed. An invalid
    entry ends the walk: the last trusted hop is recorded instead.
    """
    remote = parse_address(str(meta.get("REMOTE_ADDR") or ""))
    networks = trusted_networks(trusted_proxies)
    if remote is None or not networks or not _trusted(remote, networks):
        return remote
    hop = remote
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    for entry in reversed([part for part in forwarded.split(",") if part.strip()]):
        address = parse_address(entry)
        if address is None:
            return hop
        if not _trusted(address, networks):
            return address
        hop = address
    return hop


def correlation_id(meta: Mapping[str, Any]) -> str:
    """The ``X-Request-ID`` header when it is a sane token (cut to 64 characters), else a uuid4."""
    value = str(meta.get("HTTP_X_REQUEST_ID") or "").strip()[:64]
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex
