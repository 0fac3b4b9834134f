"""What every request goes through before its first attempt: the client key's limits, the routing policies, and
the attempt plan with what resilience and the quota gate leave of it.

Chat (every dialect), embeddings, images and transcription all call these two functions, so a rule added here
applies to every kind of request.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from core.gateway import sessions
from core.gateway.errors import GatewayError
from core.gateway.resilience import Skipped, describe_wait
from core.gateway.routing import ResolveError, Route, RoutingTable, Upstream

if TYPE_CHECKING:
    from core.gateway.runtime import GatewayRuntime


def route_for(runtime: "GatewayRuntime", key_id: int | None, model: str) -> Route:
    """The route a client key may take for `model`: its limits checked, the policies applied before combos
    and strategies; a GatewayError in words otherwise."""
    runtime.limiter.check(key_id, model)
    sessions.requested(key_id, model)
    return runtime.config.rules.policies.apply(key_id, resolve(runtime.config.table, model))


def resolve(table: RoutingTable, model: str) -> Route:
    """The route of a model name, or the routing's refusal as the client's error."""
    try:
        return table.resolve(model)
    except ResolveError as exc:
        raise GatewayError(exc.status, exc.message, exc.code) from None


def attempts_for(runtime: "GatewayRuntime", route: Route) -> tuple[list[Upstream], list[Skipped]]:
    """This request's attempts in order (the combo's strategy, the account selection), and the targets left
    out (cooling down, marked, breaker open, quota used up or below the combo's reserve)."""
    plan = runtime.config.table.plan(route, runtime.stats, runtime.rng, runtime.quota_gate.headroom)
    attempts, cooling = runtime.resilience.usable(plan)
    threshold = route.combo.quota_threshold if route.combo is not None else 0.0
    attempts, out_of_quota = runtime.quota_gate.usable(attempts, threshold)
    skipped = cooling + out_of_quota
    if not attempts:
        raise nothing_to_try(route.requested, skipped)
    return attempts, skipped


def nothing_to_try(requested: str, skipped: list[Skipped]) -> GatewayError:
    """Every target is cooling down, marked or behind an open breaker: say which, and when to come back
    (429 when they are all rate-limited, else 503)."""
    reasons = "; ".join(f"{s.target.provider}/{s.target.model} ({s.target.account_name}): {s.reason}, "
                        f"{describe_wait(s.seconds)}" for s in skipped)
    waits = [s.seconds for s in skipped if s.seconds is not None]
    headers = {"retry-after": str(max(1, math.ceil(min(waits))))} if waits else None
    status = 429 if all(s.rate_limited for s in skipped) else 503
    return GatewayError(status, f"No target of '{requested}' can take a request now: {reasons}.",
                        "rate_limited" if status == 429 else "no_target_available", headers)
