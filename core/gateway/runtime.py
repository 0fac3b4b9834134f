"""The gateway's live configuration: one object the routes read, rebuilt off the loop and swapped whole."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from core import settings
from core.gateway import client_keys
from core.gateway.accounts import AccountStore
from core.gateway.answer_cache import AnswerCache
from core.gateway.combos import load_combos
from core.gateway.endpoint_models import EndpointModels
from core.gateway.gateway_rules import GatewayRules, load_rules
from core.gateway.sessions import Sessions
from core.gateway.key_limits import KeyLimiter, KeyLimits, MinuteWindow, day_start, month_start
from core.gateway.relay import Timeouts
from core.gateway.request_defaults import RequestDefaults
from core.gateway.quota_gate import QuotaGate
from core.gateway.resilience import Resilience
from core.gateway.routing import ProxySettings, RoutingTable
from core.gateway.strategies import RoutingStats
from core.gateway.upstream import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, UpstreamClients
from core.gateway.dialects.common import Usage
from core.gateway.usage import UsageRecorder
from core.net.host_map import HostMap
from core.providers import catalog
from core.store import Store

DEFAULT_MAX_BODY_MB = 32


@dataclass
class GatewayConfig:
    """Everything the request path needs that comes from the store, read in one go."""

    table: RoutingTable
    key_hashes: dict[str, int]
    require_keys: bool
    max_body_bytes: int
    price_overrides: dict[str, Any]
    read_timeout: float = DEFAULT_READ_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    timeouts: Timeouts = Timeouts()
    key_limits: dict[int, KeyLimits] = field(default_factory=dict)
    key_spend: list[tuple[int, float, float]] = field(default_factory=list)  # (key, USD today, this month)
    defaults: RequestDefaults = RequestDefaults()  # the global system prompt and default thinking
    rules: GatewayRules = field(default_factory=GatewayRules)  # IP filter, global rate, policies, added models


def load_config(store: Store, accounts: AccountStore, host: str) -> GatewayConfig:
    """Read accounts, endpoints, aliases, keys and settings (blocking: call it in an executor)."""
    host_map = HostMap.from_environment()
    overrides = store.get_setting(settings.KEY_PRICE_OVERRIDES, {})
    rules = load_rules(store)
    table = RoutingTable(
        accounts.accounts(), accounts.endpoints(), accounts.aliases(),
        ProxySettings.from_setting(store.get_setting(settings.KEY_PROXY)),
        rewrite_url=host_map.rewrite, combos=load_combos(),
        price_overrides=overrides if isinstance(overrides, dict) else {},
        account_selection=_account_selection(store.get_setting(settings.KEY_ACCOUNT_SELECTION)),
        custom_models=rules.provider_models,
    )
    require = bool(store.get_setting(settings.KEY_REQUIRE_API_KEY, False)) or not settings.is_loopback_host(host)
    max_mb = settings.positive_number(store.get_setting(settings.KEY_MAX_BODY_MB), DEFAULT_MAX_BODY_MB)
    now = time.time()

    def seconds(key: str, default: float) -> float:
        return settings.positive_number(store.get_setting(key), default)

    return GatewayConfig(table, client_keys.active_key_hashes(), require, int(max_mb * 1024 * 1024),
                         overrides if isinstance(overrides, dict) else {},
                         seconds(settings.KEY_UPSTREAM_TIMEOUT, DEFAULT_READ_TIMEOUT),
                         seconds(settings.KEY_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT),
                         Timeouts(seconds(settings.KEY_FIRST_BYTE_TIMEOUT, Timeouts.first_byte),
                                  seconds(settings.KEY_ANSWER_TIMEOUT, Timeouts.answer)),
                         client_keys.key_limits(), client_keys.spent_since(day_start(now), month_start(now)),
                         RequestDefaults.from_settings(store.get_setting(settings.KEY_SYSTEM_PROMPT),
                                                       store.get_setting(settings.KEY_THINKING_BUDGET)),
                         rules=rules)


def _account_selection(value: Any) -> str:
    return value if settings.usable(settings.KEY_ACCOUNT_SELECTION, value) and value else "fill-first"


class GatewayRuntime:
    def __init__(self, config: GatewayConfig, store: Store | None) -> None:
        self.config = config
        self.clients = UpstreamClients(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout)
        self.usage = UsageRecorder(store.writer if store else None, self._cost)
        self.stats = RoutingStats()  # what combos' strategies have seen; kept across configuration reloads
        self.resilience = Resilience()  # cooldowns, account marks and breakers; marks end at a reload
        self.quota_gate = QuotaGate()  # accounts whose quota window is used up, fed by the quota engine
        self.answers = AnswerCache()  # the exact cache and idempotent retries
        self.limiter = KeyLimiter()  # models, rate and budgets per client key
        self.limiter.use(config.key_limits, config.key_spend)
        self.usage.spent = self.limiter.spend
        self.sessions = Sessions()  # requests in flight, and the upstreams' rate-limit headers last seen
        self.request_window = MinuteWindow()  # the global request-rate limit's count
        self.rng = random.Random()
        self.endpoint_models = EndpointModels(self.clients)
        self._list_endpoint_models()

    def apply(self, config: GatewayConfig) -> None:
        if (config.read_timeout, config.connect_timeout) != (self.config.read_timeout, self.config.connect_timeout):
            self.clients.set_timeouts(config.connect_timeout, config.read_timeout)
        if config.defaults != self.config.defaults:  # cached answers were given under the old system prompt
            self.answers.clear()
        self.config = config
        self.limiter.use(config.key_limits, config.key_spend)
        self.resilience.forget_marks()  # a changed key or new credit deserves another try
        self._list_endpoint_models()

    @property
    def timeouts(self) -> Timeouts:
        return self.config.timeouts

    def _list_endpoint_models(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # built outside a loop (a tool, a test): lists are read when one runs
            return
        self.endpoint_models.refresh(self.config.table)

    def _cost(self, provider: str, model: str, tokens: Usage) -> float:
        try:
            price = catalog.price_for(provider, model, self.config.price_overrides)
        except ValueError:  # a malformed stored override must not break usage recording
            price = catalog.price_for(provider, model)
        return catalog.cost_usd(price, tokens.prompt, tokens.completion, tokens.cached)

    async def aclose(self) -> None:
        await self.clients.aclose()
