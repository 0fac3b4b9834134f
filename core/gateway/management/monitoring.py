"""What the gateway is doing and may do: `/api/sessions` (requests in flight), `/api/rate-limits` (per account:
the upstream's own rate-limit figures, cooldowns, marks), `/api/usage/budget` (the client keys' budgets),
`/api/usage/{connectionId}` (one account's usage), `/api/models/availability` and
`/api/compliance/audit-log`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import audit
from core.gateway import client_keys
from core.gateway.account_usage import account_usage
from core.gateway.availability import all_models, availability
from core.gateway.management.common import (
    ManagementError,
    account_store,
    configuration,
    off_loop,
    query_int,
    read_object,
    resource,
    text,
)

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def monitoring_routes(context: "GatewayContext") -> list[Route]:
    async def in_flight(request: Request) -> Response:
        listed = context.runtime.sessions.listed()
        return JSONResponse({"sessions": listed, "total": len(listed)})

    async def rate_limits(request: Request) -> Response:
        runtime = context.runtime
        accounts = await off_loop(account_store(context).accounts)
        seen = {(s["provider"], s["accountId"]): s for s in runtime.sessions.rate_limits_seen()}
        state = runtime.resilience.state()
        listed = []
        for account in accounts:
            mine = (account.provider, account.id)
            upstream = seen.get(mine)
            marks = [m["reason"] for m in state["marks"] if (m["provider"], m["accountId"]) == mine]
            listed.append({
                "connectionId": account.id, "provider": account.provider, "name": account.name,
                "upstream": upstream["headers"] if upstream else None,
                "seenAt": upstream["seenAt"] if upstream else None,
                "cooldowns": [{k: c[k] for k in ("model", "reason", "failures", "seconds")}
                              for c in state["cooldowns"] if (c["provider"], c["accountId"]) == mine],
                "marked": marks[0] if marks else None,
            })
        rules = runtime.config.rules
        return JSONResponse({"accounts": listed, "breakers": state["breakers"],
                             "global": {"requestsPerMinute": rules.requests_per_minute},
                             "budgets": await budgets()})

    async def get_budgets(request: Request) -> Response:
        return JSONResponse({"budgets": await budgets()})

    async def set_budget(request: Request) -> Response:
        body = await read_object(request)
        unknown = set(body) - {"keyId", "limit", "period"}
        if unknown:
            raise ManagementError(400, f"Unknown field(s) {', '.join(sorted(unknown))[:200]}; send `keyId`, "
                                       f"`limit` (USD, or null to remove) and `period` (daily or monthly).")
        key_id = body.get("keyId")
        if isinstance(key_id, str) and key_id.strip().isdigit():  # ids arrive as strings from some clients
            key_id = int(key_id)
        await configuration(context).set_budget(key_id, body.get("period"), body.get("limit"))
        log.info("Budget of API key %s set: %s %s", key_id, body.get("period"), body.get("limit"))
        mine = [b for b in await budgets() if b["keyId"] == key_id]
        return JSONResponse({"budget": mine[0] if mine else None})

    async def budgets() -> list[dict[str, Any]]:
        """Every active key's daily and monthly budget: limit, spent, remaining, when it resets."""
        limiter = context.runtime.limiter
        day_reset, month_reset = limiter.resets()
        listed = []
        for key in await off_loop(client_keys.list_keys):
            if key["revoked"]:
                continue
            spent_day, spent_month = limiter.spent(key["id"])
            entry = {"keyId": key["id"], "name": key["name"]}
            for period, cap, spent, resets in (("daily", key["limits"]["dailyUsd"], spent_day, day_reset),
                                               ("monthly", key["limits"]["monthlyUsd"], spent_month, month_reset)):
                entry[period] = {"limit": cap, "spent": round(spent, 6),
                                 "remaining": None if cap is None else round(max(0.0, cap - spent), 6),
                                 "exceeded": cap is not None and spent >= cap, "resetsAt": resets}
            listed.append(entry)
        return listed

    async def connection_usage(request: Request) -> Response:
        account_id = request.path_params["id"]
        account = await off_loop(account_store(context).get_account, account_id)
        if account is None:
            raise ManagementError(404, f"No provider connection with id {account_id}; GET /api/providers lists "
                                       f"them.")
        days = query_int(request, "days", 30, minimum=1, maximum=366)
        usage = await off_loop(account_usage, account_id, days)
        return JSONResponse({"connectionId": account.id, "provider": account.provider, "name": account.name,
                             **usage})

    async def all_availability(request: Request) -> Response:
        table = context.runtime.config.table
        accounts = await off_loop(account_store(context).accounts)
        models = [availability(context.runtime, name, accounts) for name in all_models(table)]
        return JSONResponse({"models": models, "total": len(models)})

    async def one_availability(request: Request) -> Response:
        body = await read_object(request)
        model = text(body.get("model"), "model", max_length=256)
        key_id = body.get("keyId")
        if key_id is not None and (isinstance(key_id, bool) or not isinstance(key_id, int)):
            raise ManagementError(400, "`keyId` must be an API key id, to apply that key's routing policies.")
        accounts = await off_loop(account_store(context).accounts)
        return JSONResponse(availability(context.runtime, model, accounts, key_id))

    async def audit_log(request: Request) -> Response:
        limit = query_int(request, "limit", 100, minimum=1, maximum=audit.MAX_LIMIT)
        entries = await off_loop(audit.recent, limit)
        return JSONResponse({"entries": entries, "total": len(entries)})

    return [
        resource("/api/sessions", GET=in_flight),
        resource("/api/rate-limits", GET=rate_limits),
        resource("/api/usage/budget", GET=get_budgets, POST=set_budget, PUT=set_budget),
        resource("/api/usage/{id:id}", GET=connection_usage),
        resource("/api/models/availability", GET=all_availability, POST=one_availability),
        resource("/api/compliance/audit-log", GET=audit_log),
    ]
