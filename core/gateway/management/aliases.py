"""`/api/models/alias`: bare model names (`fast`, `gpt-4.1`) that stand for `prefix/model`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.accounts import AccountStore
from core.gateway.management.common import ManagementError, account_store, configuration, off_loop, read_object, \
    resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def alias_routes(context: "GatewayContext") -> list[Route]:
    def accounts() -> AccountStore:
        return account_store(context)

    async def list_aliases(request: Request) -> Response:
        return JSONResponse({"aliases": await off_loop(accounts().aliases)})

    async def set_alias(request: Request) -> Response:
        body = await read_object(request)
        created, aliases = await configuration(context).set_alias(body.get("alias"), body.get("model"))
        alias, model = body["alias"].strip(), body["model"].strip()
        log.info("Model alias %s -> %s %s", alias, model, "added" if created else "changed")
        return JSONResponse({"alias": alias, "model": model, "aliases": aliases}, status_code=201 if created else 200)

    async def delete_alias(request: Request) -> Response:
        alias = request.query_params.get("alias", "").strip()
        if not alias:
            raise ManagementError(400, "Name the alias to delete: DELETE /api/models/alias?alias=<name>.")
        await configuration(context).delete_alias(alias)
        log.info("Model alias %s deleted", alias)
        return JSONResponse({"message": "Alias deleted", "alias": alias})

    return [resource("/api/models/alias", GET=list_aliases, POST=set_alias, PUT=set_alias, DELETE=delete_alias)]
