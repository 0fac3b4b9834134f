"""`/api/cli-tools/*`: find the coding tools on this machine, point them at the gateway, undo it, try it.

`GET /api/cli-tools` lists every tool, `GET /api/cli-tools/<tool>-settings` answers one (the reference
gateway's shape — installed, runnable, command, commandPath, runtimeMode, reason — plus connected, managed,
configPath, baseUrl, model, error), `POST` connects it (`{"model"|"combo", "smallModel", "apiKey"}`, all optional
unless the gateway requires a client key), `DELETE` disconnects it. `POST /api/cli-tools/<tool>-settings/try`
sends one real request through the gateway as the connected tool would and answers `{ok, answer, error, status,
seconds, model, url, dialect}` (200 whatever the gateway said; 409 when the tool is not connected).
`GET /api/cli-tools/snippets` gives copy-paste settings for Cursor, Cline, Continue and Zed. The base URL is the
gateway's live address. The settings window calls the same `ToolsService`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.cli_tools import Choice, ToolFileError, snippets
from core.cli_tools.service import ToolsService
from core.gateway.management.common import ManagementError, optional_text, read_object, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)
T = TypeVar("T")


def cli_tool_routes(context: GatewayContext) -> list[Route]:
    tools = ToolsService(lambda: context.runtime, context.address, lambda: context.store.path.parent)

    async def run(work: Awaitable[T]) -> T:
        try:
            return await work
        except ToolFileError as exc:
            raise ManagementError(exc.status, exc.message) from None

    def tool_id(request: Request) -> str:
        return request.path_params["tool"]

    async def list_tools(request: Request) -> Response:
        return JSONResponse({"tools": await run(tools.states())})

    async def show(request: Request) -> Response:
        return JSONResponse(await run(tools.state(tool_id(request))))

    async def connect(request: Request) -> Response:
        body = await read_object(request, allow_empty=True)
        choice = Choice(
            model=optional_text(body.get("combo"), "combo") or optional_text(body.get("model"), "model"),
            small_model=optional_text(body.get("smallModel"), "smallModel"),
            api_key=optional_text(body.get("apiKey"), "apiKey", max_length=500))
        answer = await run(tools.connect(tool_id(request), choice))
        log.info("Connected %s to the gateway (%s)", answer["name"], answer["configPath"])
        return JSONResponse(answer)

    async def disconnect(request: Request) -> Response:
        answer = await run(tools.disconnect(tool_id(request)))
        log.info("Disconnected %s from the gateway", answer["name"])
        return JSONResponse(answer)

    async def try_it(request: Request) -> Response:
        result = await run(tools.try_it(tool_id(request)))
        return JSONResponse(result.public())

    async def list_snippets(request: Request) -> Response:
        try:
            gateway = tools.gateway()
        except ToolFileError as exc:
            raise ManagementError(exc.status, exc.message) from None
        choice = Choice(model=request.query_params.get("model") or None)
        return JSONResponse({"baseUrl": gateway.base_url, "snippets": snippets(gateway, choice)})

    return [
        resource("/api/cli-tools", GET=list_tools),
        resource("/api/cli-tools/snippets", GET=list_snippets),
        resource("/api/cli-tools/{tool}-settings", GET=show, POST=connect, DELETE=disconnect),
        resource("/api/cli-tools/{tool}-settings/try", POST=try_it),
    ]
