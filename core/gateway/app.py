"""The gateway's ASGI application: routes, and the guarantee that every answer is JSON, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from core import __version__
from core.gateway.context import GatewayContext
from core.gateway import dialects
from core.gateway.door import GatewayDoor
from core.gateway.errors import GatewayError
from core.gateway.management import (
    ManagementError,
    ManagementGuard,
    error_response,
    is_management_path,
    management_routes,
)
from core.gateway.model_lists import model_list_routes
from core.gateway.transcription import transcription_routes
from core.gateway.proxy_routes import proxy_routes

log = logging.getLogger(__name__)


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

    model_routes = proxy_routes(lambda: context.runtime, lambda: context.credentials)
    routes = [
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        *model_routes,
        *model_list_routes(lambda: context.runtime),
        *transcription_routes(lambda: context.runtime),
        Route("/api/monitoring/health", monitoring_health, methods=["GET"]),
        *management_routes(context),
    ]
    # The guard covers every /api/* path, whichever module registers the route.
    middleware = [Middleware(GatewayDoor, context=context), Middleware(ManagementGuard, context=context),
                  Middleware(DirectModelRoutes, routes=model_routes)]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={
        GatewayError: _gateway_error,
        ManagementError: _management_error,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    })


class DirectModelRoutes:
    """The model routes at fixed paths (`POST /v1/chat/completions`, …), called without Starlette's router,
    exception middleware and per-route wrappers: on the busiest path those layers cost more CPU than the
    gateway's own work. The handler's errors are answered exactly as the app's handlers answer them; an
    error while the answer is being sent goes on to the outer error middleware, as it would in Starlette.
    Every other request, and these paths with another method, go through the router as before."""

    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self.app = app
        self.endpoints = {route.path: route.endpoint for route in routes
                          if "POST" in (route.methods or ()) and "{" not in route.path}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except GatewayError as exc:
            response = await _gateway_error(request, exc)
        except HTTPException as exc:
            response = await _http_error(request, exc)
        await response(scope, receive, send)


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return client_error(request, exc.status, exc.message, exc.code, exc.headers)


def client_error(request: Request, status: int, message: str, code: str,
                 headers: dict[str, str] | None = None) -> Response:
    """An error in the shape of the dialect the client speaks on this path (and a log line: a user
    debugging a tool's setup needs to see what the gateway refused)."""
    log.info("%s %s -> %d %s: %s", request.method, request.url.path, status, code, message[:500])
    body = dialects.for_path(request.url.path).error_body(status, message, code)
    return JSONResponse(body, status_code=status, headers=headers)


async def _management_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ManagementError)
    return error_response(exc.status, exc.message, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    management = is_management_path(request.url.path)
    if exc.status_code == 404:
        message = f"No route for {request.method} {request.url.path}. See the README for the gateway's paths."
        return error_response(404, message) if management else client_error(request, 404, message, "not_found")
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}."
        if management:
            return error_response(405, message, headers=exc.headers)
        return client_error(request, 405, message, "method_not_allowed", exc.headers)
    if management:
        return error_response(exc.status_code, str(exc.detail), headers=exc.headers)
    return client_error(request, exc.status_code, str(exc.detail), "http_error", exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = "Quotagate hit an internal error; details are in its log file."
    if is_management_path(request.url.path):
        return error_response(500, message)
    return client_error(request, 500, message, "internal_error")
