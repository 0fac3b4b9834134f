"""The gateway's front door, an ASGI middleware in front of every route (and of the management guard):

- the IP filter, for `/v1`, `/v1beta`, the Ollama paths and `/api/*` (loopback always passes);
- the global request-rate limit, for the model paths (all clients together);
- the in-flight registry: one session per model request, with the bytes sent back;
- management requests run as changes "from the API" in the audit log.

Refusals are JSON in the path's error shape, sent before the request's body is read.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import audit
from core.gateway import dialects, sessions
from core.gateway.management.common import error_response
from core.gateway.management.guard import is_gateway_path, is_management_path
from core.i18n import tr

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext


class GatewayDoor:
    def __init__(self, app: ASGIApp, context: "GatewayContext") -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        management = is_management_path(path)
        if not management and not is_gateway_path(path):
            await self.app(scope, receive, send)
            return
        runtime = self.context.runtime
        rules = runtime.config.rules
        if rules.ip_filter.active:
            client = scope.get("client")
            refusal = rules.ip_filter.refusal(client[0] if client else None)
            if refusal is not None:
                await _refuse(scope, send, 403, refusal, "ip_blocked")
                return
        if management:
            with audit.changes_from("api"):
                await self.app(scope, receive, send)
            return
        if rules.requests_per_minute is not None:
            wait = runtime.request_window.admit(time.monotonic(), rules.requests_per_minute)
            if wait is not None:
                seconds = max(1, math.ceil(wait))
                await _refuse(scope, send, 429, tr("This gateway takes at most {count} requests per minute from all "
                                                   "clients together; try again in {seconds} s.",
                                                   count=rules.requests_per_minute, seconds=seconds),
                              "rate_limit_exceeded", {"retry-after": str(seconds)})
                return
        registry = runtime.sessions
        session = registry.open(path)
        token = sessions.entered(session)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.body":
                session.bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:
            sessions.left(token)
            registry.close(session)


async def _refuse(scope: Scope, send: Send, status: int, message: str, code: str,
                  headers: dict[str, str] | None = None) -> None:
    path = scope["path"]
    if is_management_path(path):
        response = error_response(status, message, headers)
    else:
        response = JSONResponse(dialects.for_path(path).error_body(status, message, code), status_code=status,
                                headers=headers)

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, no_body, send)
