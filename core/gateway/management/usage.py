"""`/api/usage/*` and `/api/telemetry/summary`: recorded usage read back (off the loop) for dashboards, and what
the usage takes on disk (`/api/usage/storage`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway import usage_queries
from core.gateway.management.common import (
    ManagementError,
    off_loop,
    query_int,
    query_time,
    resource,
)

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

_STATUS = re.compile(r"^(ok|error|[1-5]\d\d)$")


def usage_routes(context: GatewayContext) -> list[Route]:
    async def history(request: Request) -> Response:
        since, until = _window(request)
        bucket = request.query_params.get("bucket", "hour").strip() or "hour"
        if bucket not in usage_queries.BUCKETS:
            raise ManagementError(400, f"`bucket` must be one of {', '.join(usage_queries.BUCKETS)}.")
        return JSONResponse(await off_loop(usage_queries.history, since, until, bucket))

    async def logs(request: Request) -> Response:
        since, until = _window(request)
        status = request.query_params.get("status", "").strip().lower() or None
        if status is not None and not _STATUS.match(status):
            raise ManagementError(400, "`status` must be ok, error or an HTTP status code such as 429.")
        page = await off_loop(
            usage_queries.logs,
            provider=request.query_params.get("provider", "").strip() or None,
            model=request.query_params.get("model", "").strip() or None,
            status=status,
            search=request.query_params.get("search", "").strip() or None,
            since=since, until=until,
            limit=query_int(request, "limit", 50, minimum=1, maximum=500),
            offset=query_int(request, "offset", 0, minimum=0, maximum=10**9),
            before=query_int(request, "before", 0, minimum=1, maximum=2**63 - 1) or None,
        )
        return JSONResponse(page)

    async def telemetry_summary(request: Request) -> Response:
        return JSONResponse(await off_loop(usage_queries.telemetry))

    async def storage(request: Request) -> Response:
        store = context.store
        days, rows = await off_loop(store.retention_limits)
        return JSONResponse({**await off_loop(store.space), "requestLogDays": days, "requestLogRows": rows})

    return [
        resource("/api/usage/history", GET=history),
        resource("/api/usage/logs", GET=logs),
        resource("/api/usage/request-logs", GET=logs),
        resource("/api/usage/storage", GET=storage),
        resource("/api/telemetry/summary", GET=telemetry_summary),
    ]


def _window(request: Request) -> tuple[float | None, float | None]:
    since, until = query_time(request, "since"), query_time(request, "until")
    if since is not None and until is not None and since >= until:
        raise ManagementError(400, "`since` must be earlier than `until`.")
    return since, until
