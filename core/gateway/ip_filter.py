"""Allow and block lists of client addresses (single addresses or CIDR ranges) for `/v1` and `/api`.

They matter when the gateway listens off loopback: a blocked address is refused, and when an allow list is
set every address not on it is refused. This machine itself (127.0.0.0/8, ::1) is never refused, whatever
the lists say, so no setting can lock the user out of their own gateway.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from core.i18n import tr
from core.settings import SettingError

MAX_ENTRIES = 500
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def ip_filter_setting(value: Any, field: str) -> dict[str, list[str]]:
    """`{"allow": [...], "block": [...]}` with every entry an address or a CIDR range, stored canonically
    (`10.0.0.7/8` is refused rather than silently widened: it is probably a typo)."""
    if not isinstance(value, dict) or set(value) - {"allow", "block"}:
        raise SettingError(tr("{field} must be an object with `allow` and `block` lists of addresses or CIDR ranges "
                              "such as 192.168.1.0/24.", field=field))
    return {name: _entries(value.get(name) or [], f"{field}.{name}") for name in ("allow", "block")}


def _entries(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_ENTRIES:
        raise SettingError(tr("{field} must be a list of at most {count} addresses or CIDR ranges.", field=field,
                              count=MAX_ENTRIES))
    entries: list[str] = []
    for entry in value:
        network = _network(entry)
        if network is None:
            shown = repr(entry[:60]) if isinstance(entry, str) else tr("a non-text value")
            raise SettingError(tr("{field}: {entry} is not an IP address or a CIDR range such as 192.168.1.0/24 "
                                  "(a range must start at its first address).", field=field, entry=shown))
        text = str(network.network_address) if network.num_addresses == 1 else str(network)
        if text not in entries:
            entries.append(text)
    return entries


def _network(entry: Any) -> Network | None:
    if not isinstance(entry, str) or not entry.strip() or len(entry) > 64:
        return None
    try:
        return ipaddress.ip_network(entry.strip())
    except ValueError:
        return None


def _address(peer: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:10.0.0.7 on a dual-stack socket is 10.0.0.7
    return mapped or address


@dataclass(frozen=True)
class IpFilter:
    allow: tuple[Network, ...] = ()
    block: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, value: Any) -> "IpFilter":
        """The stored setting (already checked by its rule; anything unusable reads as no filter)."""
        if not isinstance(value, dict):
            return cls()
        networks = {name: tuple(n for n in (_network(e) for e in value.get(name) or []) if n is not None)
                    for name in ("allow", "block")}
        return cls(networks["allow"], networks["block"])

    @property
    def active(self) -> bool:
        return bool(self.allow or self.block)

    def refusal(self, peer: str | None) -> str | None:
        """Why `peer` may not talk to the gateway, or None when it may."""
        if peer is None:  # a Unix socket or an in-process client: this machine
            return None
        address = _address(peer)
        if address is None or address.is_loopback:
            return None
        if any(address in network for network in self.block if network.version == address.version):
            return tr("The address {peer} is blocked by this gateway's IP filter.", peer=peer)
        if self.allow and not any(address in network for network in self.allow if network.version == address.version):
            return tr("The address {peer} is not on this gateway's IP allow list.", peer=peer)
        return None
