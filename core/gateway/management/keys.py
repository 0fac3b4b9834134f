"""`/api/keys*`: client API keys for IDE tools. The plaintext is in the creation answer only; lists show a
prefix. A new or revoked key takes effect on `/v1` at once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway import client_keys
from core.gateway.management.common import configuration, off_loop, read_object, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def key_routes(context: "GatewayContext") -> list[Route]:
    async def list_keys(request: Request) -> Response:
        keys = await off_loop(client_keys.list_keys)
        return JSONResponse({"keys": keys, "total": len(keys)})

    async def create_key(request: Request) -> Response:
        body = await read_object(request, allow_empty=True)
        created = await configuration(context).create_key(body.get("name"), body.get("limits"))
        log.info("Client API key %d created (%s)", created.id, created.name)
        return JSONResponse({"key": created.key, "id": created.id, "name": created.name}, status_code=201)

    async def revoke_key(request: Request) -> Response:
        key_id = request.path_params["id"]
        await configuration(context).revoke_key(key_id)
        log.info("Client API key %d revoked", key_id)
        return JSONResponse({"message": "Key revoked", "id": key_id})

    async def update_key(request: Request) -> Response:
        key_id = request.path_params["id"]
        body = await read_object(request)
        await configuration(context).update_key(key_id, body.get("name"), body.get("limits"))
        log.info("Client API key %d changed (%s)", key_id, ", ".join(sorted(body)) or "nothing")
        keys = await off_loop(client_keys.list_keys)
        return JSONResponse({"key": next(k for k in keys if k["id"] == key_id)})

    return [
        resource("/api/keys", GET=list_keys, POST=create_key),
        resource("/api/keys/{id:id}", PUT=update_key, PATCH=update_key, DELETE=revoke_key),
    ]
