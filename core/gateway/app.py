"""The gateway's ASGI application: routes, and the guarantee that every answer is JSON, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import psutil
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core import __version__
from core.gateway.errors import openai_error
from core.gateway.openai_routes import openai_routes
from core.gateway.requests import GatewayError
from core.gateway.runtime import GatewayRuntime
from core.store import Store

log = logging.getLogger(__name__)


@dataclass
class GatewayContext:
    """What the routes need from the running program."""

    store: Store
    address: Callable[[], tuple[str, int]]
    runtime: GatewayRuntime
    started_monotonic: float = field(default_factory=time.monotonic)
    process: psutil.Process = field(default_factory=psutil.Process)


def build_app(context: GatewayContext) -> Starlette:
    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def monitoring_health(request: Request) -> Response:
        loop = asyncio.get_running_loop()
        database = await loop.run_in_executor(None, context.store.health)
        host, port = context.address()
        memory = context.process.memory_info()
        return JSONResponse({
            "status": "ok" if database.get("status") == "ok" else "degraded",
            "version": __version__,
            "uptime_seconds": round(time.monotonic() - context.started_monotonic, 3),
            "memory": {"rss_bytes": memory.rss, "rss_mib": round(memory.rss / 2**20, 1)},
            "database": database,
            "gateway": {"host": host, "port": port},
        })

    async def telemetry_summary(request: Request) -> Response:
        return JSONResponse(context.runtime.usage.telemetry_summary())

    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/api/monitoring/health", monitoring_health, methods=["GET"]),
        Route("/api/telemetry/summary", telemetry_summary, methods=["GET"]),
        *openai_routes(lambda: context.runtime),
    ]
    return Starlette(routes=routes, exception_handlers={
        GatewayError: _gateway_error,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    })


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return openai_error(exc.status, exc.message, code=exc.code, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"No route for {request.method} {request.url.path}. See the README for the gateway's paths."
        return openai_error(404, message, code="not_found")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}."
        return openai_error(405, message, code="method_not_allowed", headers=exc.headers)
    return openai_error(exc.status_code, str(exc.detail), headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return openai_error(500, "Quotagate hit an internal error; details are in its log file.",
                        code="internal_error")
