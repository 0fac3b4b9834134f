"""`/api/cli-tools/*`: find the coding tools on this machine, point them at the gateway, undo it.

`GET /api/cli-tools` lists every tool, `GET /api/cli-tools/<tool>-settings` answers one (the reference
gateway's shape — installed, runnable, command, commandPath, runtimeMode, reason — plus connected,
configPath, baseUrl, model), `POST` connects it (`{"model"|"combo", "smallModel", "apiKey"}`, all optional
unless the gateway requires a client key), `DELETE` disconnects it. `GET /api/cli-tools/snippets` gives
copy-paste settings for Cursor, Cline, Continue and Zed. The base URL is the gateway's live address."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import cli_tools
from core.gateway import client_keys
from core.gateway.management.common import (
    ManagementError,
    off_loop,
    optional_text,
    read_object,
    resource,
)
from core.i18n import tr

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def cli_tool_routes(context: GatewayContext) -> list[Route]:
    def gateway() -> cli_tools.Gateway:
        host, port = context.address()
        config = context.runtime.config
        models = tuple(m["id"] for m in config.table.model_ids(context.runtime.endpoint_models.ids)
                       if m.get("kind") in ("chat", "alias", "combo") and not m["id"].endswith("/*"))
        return cli_tools.Gateway(base_url(host, port), requires_key=config.require_keys, models=models)

    def data_folder() -> Path:
        return context.store.path.parent

    async def run(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await off_loop(fn, *args)
        except cli_tools.ToolFileError as exc:
            raise ManagementError(exc.status, exc.message) from None

    def tool_id(request: Request) -> str:
        return request.path_params["tool"]

    async def list_tools(request: Request) -> Response:
        return JSONResponse({"tools": await run(cli_tools.states, gateway(), data_folder())})

    async def show(request: Request) -> Response:
        return JSONResponse(await run(cli_tools.state, tool_id(request), gateway(), data_folder()))

    async def connect(request: Request) -> Response:
        body = await read_object(request, allow_empty=True)
        current = gateway()
        choice = cli_tools.Choice(
            model=optional_text(body.get("combo"), "combo") or optional_text(body.get("model"), "model"),
            small_model=optional_text(body.get("smallModel"), "smallModel"),
            api_key=optional_text(body.get("apiKey"), "apiKey", max_length=500))
        if choice.api_key and current.requires_key \
                and client_keys.hash_key(choice.api_key) not in context.runtime.config.key_hashes:
            raise ManagementError(400, tr("`apiKey` is not an active client key of this gateway; create one in "
                                          "Settings › API keys."))
        answer = await run(cli_tools.connect, tool_id(request), current, choice, data_folder())
        log.info("Connected %s to the gateway (%s)", answer["name"], answer["configPath"])
        return JSONResponse(answer)

    async def disconnect(request: Request) -> Response:
        answer = await run(cli_tools.disconnect, tool_id(request), gateway(), data_folder())
        log.info("Disconnected %s from the gateway", answer["name"])
        return JSONResponse(answer)

    async def list_snippets(request: Request) -> Response:
        current = gateway()
        choice = cli_tools.Choice(model=request.query_params.get("model") or None)
        return JSONResponse({"baseUrl": current.base_url, "snippets": cli_tools.snippets(current, choice)})

    return [
        resource("/api/cli-tools", GET=list_tools),
        resource("/api/cli-tools/snippets", GET=list_snippets),
        resource("/api/cli-tools/{tool}-settings", GET=show, POST=connect, DELETE=disconnect),
    ]


def base_url(host: str, port: int) -> str:
    """The address a tool on this machine reaches the gateway at (a wildcard listener is reached on loopback)."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass
    return f"http://{host}:{port}"
