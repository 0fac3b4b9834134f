"""Routing policies: rules the user sets over every request, applied before combos and strategies order
anything. A policy applies to the client keys it names (or to every request when it names none) and may

- block providers: their targets are taken out of every route (a combo keeps its other targets); a request
  with nothing left is refused with 403 naming the policy;
- allow models: a request for any other model name (patterns such as `openai/*` allowed) is a 403 naming it.

Policies are one setting (`gateway.policies`), changed through the configuration service like any other.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from typing import Any

from core.gateway.errors import GatewayError
from core.gateway.routing import ComboNode, Route, Upstream
from core.i18n import tr
from core.providers import catalog
from core.settings import SettingError

MAX_POLICIES = 100
MAX_ITEMS = 200
FIELDS = {"name", "blockProviders", "allowModels", "keys"}


@dataclass(frozen=True)
class Policy:
    name: str
    block_providers: frozenset[str] = frozenset()
    allow_models: tuple[str, ...] = ()
    keys: frozenset[int] = frozenset()  # empty: every request, with or without a key

    def applies(self, key_id: int | None) -> bool:
        return not self.keys or key_id in self.keys

    def allows_model(self, model: str) -> bool:
        return not self.allow_models or any(fnmatch.fnmatchcase(model, p) for p in self.allow_models)

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "blockProviders": sorted(self.block_providers),
                "allowModels": list(self.allow_models), "keys": sorted(self.keys)}


def policies_setting(value: Any, field: str) -> list[dict[str, Any]]:
    """The stored list, each policy checked and in its canonical shape; names are unique."""
    if not isinstance(value, list) or len(value) > MAX_POLICIES:
        raise SettingError(tr("{field} must be a list of at most {count} policies.", field=field, count=MAX_POLICIES))
    checked = [policy_from(item).public() for item in value]
    names = [p["name"] for p in checked]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise SettingError(tr("{field}: two policies are named “{name}”; names must be unique.", field=field,
                              name=duplicate))
    return checked


def policy_from(value: Any) -> Policy:
    """One policy as the API sends it: `{name, blockProviders?, allowModels?, keys?}`."""
    if not isinstance(value, dict) or set(value) - FIELDS:
        raise SettingError(tr("A policy is an object with `name` and `blockProviders`, `allowModels` and/or `keys`."))
    name = value.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise SettingError(tr("A policy's `name` must be a non-empty string of at most 100 characters."))
    name = name.strip()
    providers = _strings(value.get("blockProviders"), name, "blockProviders")
    models = _strings(value.get("allowModels"), name, "allowModels")
    if not providers and not models:
        raise SettingError(tr("Policy “{name}” blocks no provider and restricts no model; give `blockProviders` "
                              "or `allowModels`.", name=name))
    keys = value.get("keys") or []
    if not isinstance(keys, list) or len(keys) > MAX_ITEMS or not all(
            isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in keys):
        raise SettingError(tr("Policy “{name}”: `keys` must be a list of API key ids (GET /api/keys lists them); "
                              "leave it empty to apply the policy to every request.", name=name))
    return Policy(name, frozenset(_provider_id(p) for p in providers), tuple(models), frozenset(keys))


def _strings(value: Any, name: str, field: str) -> list[str]:
    value = value or []
    if not isinstance(value, list) or len(value) > MAX_ITEMS or not all(
            isinstance(v, str) and v.strip() and len(v) <= 400 for v in value):
        raise SettingError(tr("Policy “{name}”: `{field}` must be a list of at most {count} names.", name=name,
                              field=field, count=MAX_ITEMS))
    return [v.strip() for v in value]


def _provider_id(name: str) -> str:
    """A catalogue provider by any of its names, or a custom endpoint's prefix as given."""
    provider = catalog.get_provider(name)
    return provider.id if provider else name.lower()


class Policies:
    """The policies in force, read from the setting at every configuration reload."""

    def __init__(self, policies: tuple[Policy, ...] = ()) -> None:
        self.policies = policies

    @classmethod
    def from_setting(cls, value: Any) -> "Policies":
        try:
            return cls(tuple(policy_from(item) for item in policies_setting(value, "policies")))
        except SettingError:  # a stored list no rule accepts is repaired at start; until then: none
            return cls()

    def __bool__(self) -> bool:
        return bool(self.policies)

    def apply(self, key_id: int | None, route: Route) -> Route:
        """`route` without the targets a policy blocks for this key, or a 403 naming the policy."""
        if not self.policies:
            return route
        blocked: dict[str, Policy] = {}
        for policy in self.policies:
            if not policy.applies(key_id):
                continue
            if not policy.allows_model(route.requested):
                raise GatewayError(403, tr("Routing policy “{name}” allows only {models}; '{model}' is not among "
                                           "them.", name=policy.name, models=", ".join(policy.allow_models),
                                           model=route.requested), "policy_blocked")
            blocked.update({provider: policy for provider in policy.block_providers})
        if not blocked or not any(u.provider in blocked for u in route.upstreams):
            return route
        kept = tuple(u for u in route.upstreams if u.provider not in blocked)
        if not kept:
            names = sorted({blocked[u.provider].name for u in route.upstreams})
            providers = sorted({u.provider for u in route.upstreams})
            raise GatewayError(403, tr("Routing policy “{names}” blocks {providers}, so '{model}' has no target "
                                       "left.", names="”, “".join(names), providers=", ".join(providers),
                                       model=route.requested), "policy_blocked")
        combo = _pruned(route.combo, blocked) if route.combo is not None else None
        return dataclasses.replace(route, upstreams=kept, combo=combo)

    def blocked_by(self, key_id: int | None, requested: str, upstream: Upstream) -> str | None:
        """The name of the policy that keeps `upstream` from serving `requested`, if any (for availability)."""
        for policy in self.policies:
            if policy.applies(key_id) and (not policy.allows_model(requested)
                                           or upstream.provider in policy.block_providers):
                return policy.name
        return None


def _pruned(node: ComboNode, blocked: dict[str, Policy]) -> ComboNode:
    children: list[tuple[float, tuple[Upstream, ...] | ComboNode]] = []
    for weight, child in node.children:
        if isinstance(child, ComboNode):
            children.append((weight, _pruned(child, blocked)))
            continue
        kept = tuple(u for u in child if u.provider not in blocked)
        if kept:
            children.append((weight, kept))
    return dataclasses.replace(node, children=tuple(children))
