"""`/api/evals`: evaluation suites and runs (`core.evals`). `GET` lists the suites and the latest runs,
`GET /api/evals/{id}` one run with every case, `POST` runs a suite against models or combos and answers the
run once it is done."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.evals.service import Evaluations
from core.gateway.management.common import ManagementError, configuration, read_object, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext


def evals_routes(context: "GatewayContext") -> list[Route]:
    def evaluations() -> Evaluations:
        return Evaluations(configuration(context), context.address, lambda: context.runtime.config.price_overrides)

    async def overview(request: Request) -> Response:
        limit = request.query_params.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 200:
            raise ManagementError(400, "`limit` must be a whole number from 1 to 200.")
        return JSONResponse(await evaluations().overview(int(limit)))

    async def run(request: Request) -> Response:
        return JSONResponse(await evaluations().run(await read_object(request)))

    async def detail(request: Request) -> Response:
        return JSONResponse(await evaluations().run_detail(request.path_params["id"]))

    return [resource("/api/evals", GET=overview, POST=run), resource("/api/evals/{id:id}", GET=detail)]
