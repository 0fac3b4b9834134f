"""`/api/combos*`: combos — one model name routed over several targets by a strategy (see core.gateway.combos)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway import combos
from core.gateway.management.common import configuration, off_loop, read_object, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def combo_routes(context: "GatewayContext") -> list[Route]:
    async def list_combos(request: Request) -> Response:
        found = await off_loop(combos.load_combos)
        return JSONResponse({"combos": [combo.public() for combo in found], "total": len(found),
                             "strategies": list(combos.STRATEGIES),
                             "accountSelections": list(combos.ACCOUNT_SELECTIONS)})

    async def create_combo(request: Request) -> Response:
        combo = await configuration(context).add_combo(await read_object(request))
        log.info("Combo %r added (%s, %d targets)", combo.name, combo.strategy, len(combo.targets))
        return JSONResponse({"combo": combo.public()}, status_code=201)

    async def get_combo(request: Request) -> Response:
        return JSONResponse({"combo": (await off_loop(combos.get_combo, request.path_params["id"])).public()})

    async def update_combo(request: Request) -> Response:
        combo = await configuration(context).update_combo(request.path_params["id"], await read_object(request))
        log.info("Combo %r changed", combo.name)
        return JSONResponse({"combo": combo.public()})

    async def delete_combo(request: Request) -> Response:
        combo_id = request.path_params["id"]
        await configuration(context).delete_combo(combo_id)
        log.info("Combo %d deleted", combo_id)
        return JSONResponse({"message": "Combo deleted", "id": combo_id})

    return [
        resource("/api/combos", GET=list_combos, POST=create_combo),
        resource("/api/combos/{id:id}", GET=get_combo, PUT=update_combo, PATCH=update_combo, DELETE=delete_combo),
    ]
