"""From a model name to the upstreams that can serve it.

`RoutingTable` is an immutable snapshot of accounts, custom endpoints, aliases and proxy settings. It is
rebuilt (off the loop) whenever they change and swapped in whole, so resolving a model on the request path
is a dictionary lookup with no I/O and no locks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from core.gateway.accounts import Account, CustomEndpoint
from core.gateway.combos import MAX_DEPTH, Combo, ComboRef
from core.gateway.quota_gate import quota_key
from core.gateway.strategies import Candidate, Headroom, RoutingStats, attempt_key, order, order_accounts, price_of
from core.providers import catalog
from core.subscriptions.quota import quota_key as sign_in_quota_key

ANTHROPIC_VERSION = "2023-06-01"
_MAX_MODEL_NAME = 256
_ROUTE_CACHE = 4096


class ResolveError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass(frozen=True)
class Upstream:
    """One attempt a route can make: an account (or custom endpoint), the model id it is asked for there,
    and the wire format it speaks. Attempts of one route may differ in all three."""

    account_id: int | None
    account_name: str
    base_url: str
    headers: dict[str, str]
    proxy: str | None  # None: no proxy configured (the environment's HTTP(S)_PROXY may apply)
    provider: str
    model: str  # the upstream's model id
    wire_format: str  # a dialect name: openai, anthropic, responses, gemini, ollama
    quota_key: str | None = None  # its quota snapshot's key where the quota glance reads this account
    executor: str | None = None  # a subscription's executor (core/gateway/executors/); None: the API-key path


@dataclass(frozen=True)
class ComboNode:
    """A combo resolved against the accounts: its strategy and, per target, the weight and either the
    attempts it expands to or a nested combo. Ordered per request by `plan`."""

    name: str
    strategy: str
    children: tuple[tuple[float, "tuple[Upstream, ...] | ComboNode"], ...]
    account_selection: str | None = None  # None: the table's default
    quota_threshold: float = 0.0  # % left under which an account is skipped (the quota gate applies it)


@dataclass(frozen=True)
class Route:
    provider: str
    model: str  # the upstream's model id
    requested: str  # what the client asked for, echoed back in responses
    upstreams: tuple[Upstream, ...]  # every attempt in listed order (a combo's plan orders them per request)
    combo: ComboNode | None = None


@dataclass(frozen=True)
class ProxySettings:
    global_proxy: str | None = None
    per_provider: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_setting(cls, value: Any) -> "ProxySettings":
        value = value if isinstance(value, dict) else {}
        providers = value.get("providers") if isinstance(value.get("providers"), dict) else {}
        return cls(value.get("global") or None, {k: v for k, v in providers.items() if v})

    def for_account(self, provider: str, account_proxy: str | None) -> str | None:
        return account_proxy or self.per_provider.get(provider) or self.global_proxy


class RoutingTable:
    def __init__(self, accounts: Iterable[Account] = (), endpoints: Iterable[CustomEndpoint] = (),
                 aliases: dict[str, str] | None = None, proxies: ProxySettings | None = None,
                 rewrite_url: Callable[[str], str] = lambda url: url, combos: Iterable[Combo] = (),
                 price_overrides: dict[str, Any] | None = None, account_selection: str = "fill-first",
                 custom_models: dict[str, tuple[str, ...]] | None = None) -> None:
        self.combos = {combo.name: combo for combo in combos}
        self.custom_models = custom_models or {}  # provider id -> ids users added beyond the catalogue
        self.account_selection = account_selection
        self._price_overrides = price_overrides or {}
        self._proxies = proxies or ProxySettings()
        self._rewrite_url = rewrite_url
        self.aliases = dict(aliases or {})
        self.endpoints = {endpoint.prefix: endpoint for endpoint in endpoints}
        self.accounts: dict[str, list[Account]] = {}
        for account in sorted(accounts, key=lambda a: (a.priority, a.id)):
            if account.active and not account.needs_key:
                self.accounts.setdefault(account.provider, []).append(account)
        self._routes: dict[str, Route] = {}

    def resolve(self, requested: Any) -> Route:
        """The route for a model name, or `ResolveError` with a message listing what is available."""
        if not isinstance(requested, str) or not requested.strip():
            raise ResolveError(400, "`model` must be a non-empty string such as "
                                    f"{self._example()}.", "invalid_model")
        route = self._routes.get(requested)
        if route is None and (len(requested) > _MAX_MODEL_NAME or not requested.isprintable()):
            raise ResolveError(400, f"`model` must be a printable name of at most {_MAX_MODEL_NAME} characters "
                                    f"(no control characters or line breaks).", "invalid_model")
        if route is None:
            route = self._resolve(requested)
            if len(self._routes) >= _ROUTE_CACHE:  # clients may send any number of names: stay bounded
                self._routes.clear()
            self._routes[requested] = route
        return route

    def provider_of_prefix(self, prefix: str) -> str | None:
        """The provider id (or custom endpoint prefix) a model-name prefix refers to, if any."""
        if prefix.lower() in self.endpoints:
            return prefix.lower()
        provider = catalog.get_provider(prefix)
        return provider.id if provider else None

    def lists_model(self, provider_id: str, model_id: str) -> bool:
        provider = catalog.get_provider(provider_id)
        return bool(provider) and (any(m.id == model_id for m in provider.models)
                                   or model_id in self.custom_models.get(provider.id, ()))

    def model_ids(self, endpoint_models: Callable[[str], list[str] | None] = lambda prefix: None
                  ) -> list[dict[str, Any]]:
        """What `/v1/models` lists: models of connected providers, custom endpoints (their real ids where
        `endpoint_models` knows them, else `prefix/*`) and aliases."""
        listed: list[dict[str, Any]] = []
        for provider_id in self.accounts:
            provider = catalog.get_provider(provider_id)
            if provider is None:
                continue
            for model in provider.models:
                listed.append({"id": f"{provider.prefix}/{model.id}", "owned_by": provider.id, "kind": model.kind})
            for model_id in self.custom_models.get(provider_id, ()):
                listed.append({"id": f"{provider.prefix}/{model_id}", "owned_by": provider.id, "kind": "chat"})
        for prefix, endpoint in self.endpoints.items():
            for model_id in endpoint_models(prefix) or ["*"]:
                listed.append({"id": f"{prefix}/{model_id}", "owned_by": endpoint.name, "kind": "chat"})
        for alias, target in self.aliases.items():
            listed.append({"id": alias, "owned_by": "alias", "kind": "alias", "target": target})
        for name, combo in self.combos.items():
            listed.append({"id": name, "owned_by": "combo", "kind": "combo", "strategy": combo.strategy})
        return listed

    def plan(self, route: Route, stats: RoutingStats, rng: random.Random,
             quota: Headroom = lambda key: None) -> tuple[Upstream, ...]:
        """The attempts for one request, in order: a combo's strategy decides it each time (`quota` gives
        a target's % left and seconds to its reset, for the quota-minded strategies); the accounts behind one
        target take turns by the account selection."""
        if route.combo is None:
            if len(route.upstreams) < 2 or self.account_selection == "fill-first":
                return route.upstreams
            return order_accounts(self.account_selection, route.upstreams, stats, quota)
        seen: set[str] = set()
        attempts = []
        for upstream in self._flatten(route.combo, stats, rng, quota):
            key = attempt_key(upstream)
            if key not in seen:  # the same account and model listed twice is tried once
                seen.add(key)
                attempts.append(upstream)
        return tuple(attempts)

    def _flatten(self, node: ComboNode, stats: RoutingStats, rng: random.Random, quota: Headroom) -> list[Upstream]:
        candidates = []
        selection = node.account_selection or self.account_selection
        for position, (weight, child) in enumerate(node.children):
            if isinstance(child, ComboNode):
                attempts = tuple(self._flatten(child, stats, rng, quota))
            else:
                attempts = order_accounts(selection, child, stats, quota)
            if attempts:
                first = attempts[0]
                known = [q for q in (quota(a.quota_key) for a in attempts) if q is not None]
                best = max(known, key=lambda q: q[0]) if known else None
                candidates.append(Candidate(position, weight, attempts,
                                            price_of(first.provider, first.model, self._price_overrides),
                                            best[0] if best else None, best[1] if best else None))
        return [attempt for candidate in order(node.strategy, node.name, candidates, stats, rng)
                for attempt in candidate.attempts]

    def _combo_route(self, combo: Combo, requested: str, depth: int) -> Route:
        node, failures = self._combo_node(combo, depth)
        upstreams = tuple(self._flatten_listed(node))
        if not upstreams:
            raise ResolveError(400, f"Combo '{combo.name}' has no target that can be reached now: "
                                    + "; ".join(failures) + ".", "no_active_account")
        return Route("combo", combo.name, requested, upstreams, node)

    def _combo_node(self, combo: Combo, depth: int) -> tuple[ComboNode, list[str]]:
        children: list[tuple[float, tuple[Upstream, ...] | ComboNode]] = []
        failures: list[str] = []
        for target in combo.targets:
            if isinstance(target, ComboRef):
                nested = self.combos.get(target.name)
                if nested is None or depth >= MAX_DEPTH:
                    failures.append(f"{target.name}: not a combo here")
                    continue
                child, nested_failures = self._combo_node(nested, depth + 1)
                children.append((target.weight, child))
                failures.extend(nested_failures)
                continue
            try:
                upstreams = self._resolve(target.model, depth + 1).upstreams
            except ResolveError as exc:
                failures.append(f"{target.model}: {exc.message}")
                continue
            if target.account_id is not None:
                upstreams = tuple(u for u in upstreams if u.account_id == target.account_id)
                if not upstreams:
                    failures.append(f"{target.model}: account {target.account_id} is not active")
                    continue
            children.append((target.weight, upstreams))
        return ComboNode(combo.name, combo.strategy, tuple(children), combo.options.account_selection,
                         combo.options.quota_threshold), failures

    def _flatten_listed(self, node: ComboNode) -> list[Upstream]:
        return [u for _, child in node.children
                for u in (self._flatten_listed(child) if isinstance(child, ComboNode) else child)]

    def _resolve(self, requested: str, depth: int = 0) -> Route:
        name = requested.strip()
        combo = self.combos.get(name)
        if combo is not None and depth <= MAX_DEPTH:
            return self._combo_route(combo, requested, depth)
        if name in self.aliases and depth < 5:
            target = self._resolve(self.aliases[name], depth + 1)
            return Route(target.provider, target.model, requested, target.upstreams)
        prefix, slash, model = name.partition("/")
        if not slash or not model:
            raise ResolveError(400, f"Model '{name}' has no provider prefix. Use provider/model "
                                    f"(e.g. {self._example()}) or define an alias. {self._available()}",
                               "model_not_found")
        endpoint = self.endpoints.get(prefix.lower())
        if endpoint is not None:
            return self._endpoint_route(endpoint, model, requested)
        provider = catalog.get_provider(prefix)
        if provider is None:
            raise ResolveError(404, f"Unknown provider prefix '{prefix}'. {self._available()}",
                               "provider_not_found")
        accounts = self.accounts.get(provider.id, [])
        if not accounts:
            raise ResolveError(400, f"No active {provider.name} account. Add one in Quotagate's Providers "
                                    f"window (or POST /api/providers). {self._available()}",
                               "no_active_account")
        upstreams = []
        for account in accounts:
            if provider.auth == "oauth":  # a sign-in, not a key: its executor fetches the token per attempt
                upstreams.append(Upstream(account.id, account.name, self._rewrite_url(provider.base_url), {},
                                          self._proxies.for_account(provider.id, account.options.get("proxy")),
                                          provider.id, model, provider.format,
                                          subscription_quota_key(account), provider.id))
                continue
            try:  # the provider's native API: translation is exact there, its OpenAI side door is not
                headers = catalog.upstream_auth_headers(provider, account.api_key)
            except ValueError:
                continue  # a cloud account without a key cannot serve anything
            upstreams.append(Upstream(account.id, account.name, self._rewrite_url(provider.base_url), headers,
                                      self._proxies.for_account(provider.id, account.options.get("proxy")),
                                      provider.id, model, provider.format, quota_key(provider.id, account.api_key)))
        if not upstreams:
            raise ResolveError(400, f"No {provider.name} account has an API key. Add the key in Quotagate's "
                                    f"Providers window.", "no_active_account")
        return Route(provider.id, model, requested, tuple(upstreams))

    def _endpoint_route(self, endpoint: CustomEndpoint, model: str, requested: str) -> Route:
        headers = dict(endpoint.headers)
        if endpoint.api_format == "anthropic":
            headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
        if endpoint.api_key:
            headers.update(_endpoint_auth(endpoint.api_format, endpoint.api_key))
        upstream = Upstream(None, endpoint.name, self._rewrite_url(endpoint.base_url), headers,
                            self._proxies.for_account(endpoint.prefix, None), endpoint.prefix, model, endpoint.api_format)
        return Route(endpoint.prefix, model, requested, (upstream,))

    def _available(self) -> str:
        prefixes = [catalog.get_provider(p).prefix for p in self.accounts if catalog.get_provider(p)]
        prefixes += list(self.endpoints)
        if not prefixes and not self.aliases:
            return "No provider is connected yet."
        parts = []
        if prefixes:
            parts.append("Connected prefixes: " + ", ".join(sorted(prefixes)))
        if self.aliases:
            parts.append("aliases: " + ", ".join(sorted(self.aliases)))
        return "; ".join(parts) + ". GET /v1/models lists every model."

    def _example(self) -> str:
        for provider_id in self.accounts:
            provider = catalog.get_provider(provider_id)
            if provider and provider.models:
                return f"'{provider.prefix}/{provider.models[0].id}'"
        return "'openai/gpt-4.1'"


def subscription_quota_key(account: Account) -> str | None:
    """The quota snapshot key of a stored subscription account. Its secret (the token bundle) changes at
    every renewal, so it is the key its sign-in recorded (see core.subscriptions.quota)."""
    return sign_in_quota_key(account)


def _endpoint_auth(api_format: str, key: str) -> dict[str, str]:
    """How a custom endpoint of `api_format` takes its key: as the vendor of that format expects it."""
    if api_format == "anthropic":
        return {"x-api-key": key}
    if api_format == "gemini":
        return {"x-goog-api-key": key}
    return {"authorization": f"Bearer {key}"}
