"""`/api/settings/ip-filter`, `/api/rate-limit` and `/api/policies`: the gateway-wide rules, each a setting
checked by its rule in `core.settings` and changed through the configuration service (so the windows, the
API and the audit log agree)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.gateway import client_keys
from core.gateway.management.common import ManagementError, configuration, off_loop, read_object, resource
from core.gateway.policies import policy_from
from core.i18n import translatable
from core.settings import NotFound

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)

IP_FILTER_READ_ONLY = {"active", "enforced", "note"}
RATE_LIMIT_READ_ONLY = {"enabled", "lastMinute"}


def rule_routes(context: "GatewayContext") -> list[Route]:
    async def get_ip_filter(request: Request) -> Response:
        return JSONResponse(await _ip_filter())

    async def put_ip_filter(request: Request) -> Response:
        body = {k: v for k, v in (await read_object(request)).items() if k not in IP_FILTER_READ_ONLY}
        await configuration(context).update_settings({settings.KEY_IP_FILTER: body},
                                                     {settings.KEY_IP_FILTER: "ip-filter"},
                                                     reason=translatable("changing the IP filter"))
        log.info("IP filter changed")
        return JSONResponse(await _ip_filter())

    async def _ip_filter() -> dict[str, Any]:
        stored = await off_loop(context.store.get_setting, settings.KEY_IP_FILTER)
        stored = stored if isinstance(stored, dict) else {"allow": [], "block": []}
        host = context.address()[0]
        return {**stored, "active": bool(stored.get("allow") or stored.get("block")),
                "enforced": not settings.is_loopback_host(host),
                "note": "This machine (127.0.0.0/8, ::1) is always allowed. The lists matter when the gateway "
                        "listens on the network."}

    async def get_rate_limit(request: Request) -> Response:
        return JSONResponse(_rate_limit())

    async def put_rate_limit(request: Request) -> Response:
        body = await read_object(request)
        unknown = set(body) - {"requestsPerMinute"} - RATE_LIMIT_READ_ONLY
        if unknown:
            raise ManagementError(400, f"Unknown field(s) {', '.join(sorted(unknown))[:200]}; send "
                                       f"`requestsPerMinute` (a number, or null for no limit).")
        rpm = body.get("requestsPerMinute")
        if rpm is None and body.get("enabled") is True:
            raise ManagementError(400, "Give `requestsPerMinute` to turn the global rate limit on.")
        value = None if rpm is None or body.get("enabled") is False else {"requestsPerMinute": rpm}
        await configuration(context).update_settings({settings.KEY_RATE_LIMIT: value},
                                                     {settings.KEY_RATE_LIMIT: "rate-limit"},
                                                     reason=translatable("changing the global rate limit"))
        log.info("Global rate limit set to %s", rpm if value else "none")
        return JSONResponse(_rate_limit())

    def _rate_limit() -> dict[str, Any]:
        runtime = context.runtime
        rpm = runtime.config.rules.requests_per_minute
        return {"requestsPerMinute": rpm, "enabled": rpm is not None,
                "lastMinute": runtime.request_window.count(time.monotonic())}

    async def list_policies(request: Request) -> Response:
        stored = await off_loop(context.store.get_setting, settings.KEY_POLICIES, [])
        return JSONResponse({"policies": stored, "total": len(stored)})

    async def add_policy(request: Request) -> Response:
        policy = policy_from(await read_object(request)).public()
        active_keys = {k["id"] for k in await off_loop(client_keys.list_keys) if not k["revoked"]}
        unknown = [k for k in policy["keys"] if k not in active_keys]
        if unknown:
            raise ManagementError(400, f"Policy “{policy['name']}” names API key(s) {', '.join(map(str, unknown))} "
                                       f"that do not exist or were revoked; GET /api/keys lists them.")
        replaced = False

        def upserted(current: Any) -> list[dict[str, Any]]:
            nonlocal replaced
            current = list(current or [])
            replaced = any(p.get("name") == policy["name"] for p in current)
            return [policy if p.get("name") == policy["name"] else p for p in current] + ([] if replaced else [policy])

        await configuration(context).edit_setting(settings.KEY_POLICIES, upserted, translatable("saving a routing policy"),
                                                  {"policy": policy})
        log.info("Routing policy %r saved", policy["name"])
        return JSONResponse({"policy": policy}, status_code=200 if replaced else 201)

    async def delete_policy(request: Request) -> Response:
        body = await read_object(request, allow_empty=True)
        name = request.query_params.get("name") or body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ManagementError(400, "Say which policy to delete: `?name=…`.")
        name = name.strip()

        def removed(current: Any) -> list[dict[str, Any]]:
            current = list(current or [])
            if not any(p.get("name") == name for p in current):
                raise NotFound(f"No routing policy named “{name[:100]}”; GET /api/policies lists them.")
            return [p for p in current if p.get("name") != name]

        await configuration(context).edit_setting(settings.KEY_POLICIES, removed, translatable("deleting a routing policy"),
                                                  {"name": name})
        log.info("Routing policy %r deleted", name)
        return JSONResponse({"message": "Policy deleted", "name": name})

    return [
        resource("/api/settings/ip-filter", GET=get_ip_filter, PUT=put_ip_filter),
        resource("/api/rate-limit", GET=get_rate_limit, PUT=put_rate_limit),
        resource("/api/policies", GET=list_policies, POST=add_policy, DELETE=delete_policy),
    ]

