"""Which targets could serve a model or combo right now, and for every other one why not (`/api/models/
availability`): blocked by a routing policy, the account marked (key rejected, no credit), cooling down until,
the provider's circuit breaker open until, the quota window used up until, the account switched off or
without a key, or the target not reachable at all (no account, unknown provider).

Read-only: it looks at the same state the request path uses (the routing snapshot, the policies, the
resilience state and the quota gate) without changing any of it — no half-open probe is started here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from core.gateway.accounts import Account
from core.gateway.combos import MAX_DEPTH, ComboRef
from core.gateway.routing import ResolveError, RoutingTable, Upstream
from core.i18n import Phrase, translatable
from core.providers import catalog

if TYPE_CHECKING:
    from core.gateway.runtime import GatewayRuntime


def availability(runtime: "GatewayRuntime", requested: str, accounts: Iterable[Account] = (),
                 key_id: int | None = None) -> dict[str, Any]:
    """`accounts`: every stored account (read off the loop), to name the ones switched off or without a key."""
    config = runtime.config
    table = config.table
    now = time.time()
    targets: list[dict[str, Any]] = []
    try:
        route = table.resolve(requested)
    except ResolveError as exc:
        route = None
        targets.append(_unreachable(requested, exc.message))
    if route is not None:
        blocked = _blocking_state(runtime, now)
        threshold = route.combo.quota_threshold if route.combo is not None else 0.0
        for upstream in route.upstreams:
            policy = config.rules.policies.blocked_by(key_id, route.requested, upstream)
            if policy is not None:
                why = Phrase(translatable("blocked by routing policy “{policy}”"), policy=policy)
                targets.append(_target(upstream, "policy", why))
                continue
            targets.append(_checked(upstream, blocked, runtime, threshold, now))
        targets += _unresolved_combo_targets(table, requested.strip())
    providers = _providers_named(table, requested.strip())
    targets += [_idle(account) for account in accounts if account.provider in providers and _is_idle(account, table)]
    return {"model": requested, "available": any(t["available"] for t in targets),
            "kind": "combo" if requested.strip() in table.combos else "model", "targets": targets}


def all_models(table: RoutingTable) -> list[str]:
    """Every name `/v1/models` lists that can be asked about (not a custom endpoint's `prefix/*`)."""
    return [m["id"] for m in table.model_ids() if not m["id"].endswith("/*")]


def _blocking_state(runtime: "GatewayRuntime", now: float) -> dict[str, dict[Any, Any]]:
    state = runtime.resilience.state()
    return {
        "marks": {(m["provider"], m["accountId"]): m["reason"] for m in state["marks"]},
        "cooldowns": {(c["provider"], c["accountId"], c["model"]): c for c in state["cooldowns"]},
        "breakers": {b["provider"]: b for b in state["breakers"] if b["state"] != "closed"},
    }


def _checked(upstream: Upstream, blocked: dict[str, dict[Any, Any]], runtime: "GatewayRuntime",
             threshold: float, now: float) -> dict[str, Any]:
    mark = blocked["marks"].get((upstream.provider, upstream.account_id))
    if mark is not None:
        return _target(upstream, "account", Phrase(translatable("the account {reason}; skipped until its "
                                                                "configuration changes"), reason=Phrase.of(mark)))
    cooldown = blocked["cooldowns"].get((upstream.provider, upstream.account_id, upstream.model))
    if cooldown is not None:
        return _target(upstream, "cooldown", Phrase(translatable("cooling down: {reason}"),
                                                    reason=Phrase.of(cooldown["reason"])), now + cooldown["seconds"])
    breaker = blocked["breakers"].get(upstream.provider)
    if breaker is not None and breaker["state"] == "open":
        return _target(upstream, "breaker", Phrase(translatable("{provider}'s circuit breaker is open after "
                                                                "{failures} failures"), provider=upstream.provider,
                                                   failures=breaker["failures"]), now + breaker["seconds"])
    _, out_of_quota = runtime.quota_gate.usable([upstream], threshold)
    if out_of_quota:
        skipped = out_of_quota[0]
        return _target(upstream, "quota", skipped.reason,
                       now + skipped.seconds if skipped.seconds is not None else None)
    target = _target(upstream, None, None)
    if breaker is not None:  # half-open: the next request is the probe
        target["note"] = Phrase(translatable("{provider} is recovering: the next request tests it"),
                                provider=upstream.provider)
    return target


def _target(upstream: Upstream, kind: str | None, reason: str | None, until: float | None = None) -> dict[str, Any]:
    return {"provider": upstream.provider, "model": upstream.model, "accountId": upstream.account_id,
            "account": upstream.account_name, "available": kind is None, "kind": kind, "reason": reason,
            "until": round(until, 3) if until is not None else None}


def _unreachable(model: str, reason: str) -> dict[str, Any]:
    provider, _, model_id = model.partition("/")
    return {"provider": provider if model_id else None, "model": model_id or model, "accountId": None,
            "account": None, "available": False, "kind": "unreachable", "reason": reason, "until": None}


def _unresolved_combo_targets(table: RoutingTable, name: str, depth: int = 0) -> list[dict[str, Any]]:
    """A combo's targets that resolve to nothing (no account, unknown provider, a missing nested combo): the
    route leaves them out silently, availability names them."""
    combo = table.combos.get(name)
    if combo is None or depth > MAX_DEPTH:
        return []
    found: list[dict[str, Any]] = []
    for target in combo.targets:
        if isinstance(target, ComboRef):
            if target.name in table.combos:
                found += _unresolved_combo_targets(table, target.name, depth + 1)
            else:
                found.append(_unreachable(target.name, f"“{target.name}” is not a combo (any more)"))
            continue
        try:
            upstreams = table.resolve(target.model).upstreams
        except ResolveError as exc:
            found.append(_unreachable(target.model, exc.message))
            continue
        if target.account_id is not None and not any(u.account_id == target.account_id for u in upstreams):
            found.append(_unreachable(target.model, f"account {target.account_id} is switched off, has no key or "
                                                    f"is gone"))
    return found


def _providers_named(table: RoutingTable, name: str, depth: int = 0) -> set[str]:
    """The catalogue providers a model name or combo (with its nested combos) refers to."""
    combo = table.combos.get(name)
    if combo is not None and depth <= MAX_DEPTH:
        found: set[str] = set()
        for target in combo.targets:
            found |= _providers_named(table, target.name if isinstance(target, ComboRef) else target.model,
                                      depth + 1)
        return found
    if name in table.aliases and depth < 5:
        return _providers_named(table, table.aliases[name], depth + 1)
    provider = catalog.get_provider(name.partition("/")[0]) if "/" in name else None
    return {provider.id} if provider else set()


def _is_idle(account: Account, table: RoutingTable) -> bool:
    """Switched off, or unable to send: the routing snapshot leaves such accounts out."""
    provider = catalog.get_provider(account.provider)
    keyless = not account.api_key and provider is not None and provider.auth != "none"
    return keyless or all(a.id != account.id for a in table.accounts.get(account.provider, []))


def _idle(account: Account) -> dict[str, Any]:
    reason = (translatable("switched off") if not account.active else
              translatable("its key cannot be read here (restored from another machine): enter it again")
              if account.needs_key else translatable("it has no API key"))
    return {"provider": account.provider, "model": None, "accountId": account.id, "account": account.name,
            "available": False, "kind": "inactive" if not account.active else "no_key", "reason": reason,
            "until": None}
