"""`/api/cache`: the exact cache's and idempotency's state (reference shape), and clearing them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.management.common import resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def cache_routes(context: "GatewayContext") -> list[Route]:
    async def stats(request: Request) -> Response:
        return JSONResponse(context.runtime.answers.stats())

    async def clear(request: Request) -> Response:
        context.runtime.answers.clear()
        log.info("Answer cache cleared")
        return JSONResponse({"message": "Cache cleared", **context.runtime.answers.stats()})

    return [resource("/api/cache", GET=stats, DELETE=clear)]
