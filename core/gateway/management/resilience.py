"""`/api/resilience`: what the gateway remembers about failing targets (cooldowns, account marks, breakers),
and a reset for when the user knows a provider is back."""

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


def resilience_routes(context: "GatewayContext") -> list[Route]:
    async def state(request: Request) -> Response:
        return JSONResponse(context.runtime.resilience.state())

    async def reset(request: Request) -> Response:
        context.runtime.resilience.reset()
        log.info("Cooldowns, account marks and breakers reset")
        return JSONResponse({"message": "Cooldowns, account marks and breakers cleared",
                             **context.runtime.resilience.state()})

    return [resource("/api/resilience", GET=state), resource("/api/resilience/reset", POST=reset)]
