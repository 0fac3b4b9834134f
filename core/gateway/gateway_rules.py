"""The gateway-wide rules read from the settings at every configuration reload: the IP filter, the global
request-rate limit, the routing policies and the models users added to providers. One immutable object on
the running configuration, so the request path reads them without touching the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import settings
from core.gateway.ip_filter import IpFilter
from core.gateway.key_limits import MAX_RPM
from core.gateway.policies import Policies
from core.gateway.provider_models import listed
from core.i18n import tr
from core.settings import SettingError

if TYPE_CHECKING:
    from core.store import Store


def rate_limit_setting(value: Any, field: str) -> dict[str, int]:
    """`{"requestsPerMinute": n}`: every client together (per-key limits are the keys' own)."""
    if not isinstance(value, dict) or set(value) != {"requestsPerMinute"}:
        raise SettingError(tr("{field} must be an object with `requestsPerMinute`, or null for no limit.", field=field))
    rpm = value["requestsPerMinute"]
    if isinstance(rpm, bool) or not isinstance(rpm, int) or not 1 <= rpm <= MAX_RPM:
        raise SettingError(tr("{field}.requestsPerMinute must be a whole number from 1 to {most:,}.", field=field,
                              most=MAX_RPM))
    return {"requestsPerMinute": rpm}


@dataclass(frozen=True)
class GatewayRules:
    ip_filter: IpFilter = IpFilter()
    requests_per_minute: int | None = None
    policies: Policies = field(default_factory=Policies)
    provider_models: dict[str, tuple[str, ...]] = field(default_factory=dict)


def load_rules(store: "Store") -> GatewayRules:
    """Read the rules (blocking: part of `load_config`)."""
    rate = store.get_setting(settings.KEY_RATE_LIMIT)
    return GatewayRules(IpFilter.from_setting(store.get_setting(settings.KEY_IP_FILTER)),
                        rate.get("requestsPerMinute") if isinstance(rate, dict) else None,
                        Policies.from_setting(store.get_setting(settings.KEY_POLICIES, [])),
                        listed(store.get_setting(settings.KEY_PROVIDER_MODELS)))
