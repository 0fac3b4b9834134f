"""`/api/provider-nodes*`: custom endpoints — any OpenAI- or Anthropic-compatible base URL with its own model
prefix, extra headers and key. Header values and keys are masked in answers (they are often credentials)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.accounts import API_FORMATS, AccountStore
from core.gateway.management.common import (
    ManagementError,
    account_store,
    configuration,
    off_loop,
    read_object,
    resource,
)

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)

_TYPES = {"openai-compatible": "openai", "anthropic-compatible": "anthropic"}  # the reference's `type` field


def endpoint_routes(context: "GatewayContext") -> list[Route]:
    def accounts() -> AccountStore:
        return account_store(context)

    async def list_endpoints(request: Request) -> Response:
        endpoints = await off_loop(accounts().endpoints)
        return JSONResponse({"nodes": [n.public() for n in endpoints], "total": len(endpoints)})

    async def create_endpoint(request: Request) -> Response:
        body = await read_object(request)
        endpoint = await configuration(context).add_endpoint(_new_endpoint(body))
        log.info("Custom endpoint %d added (prefix %s)", endpoint.id, endpoint.prefix)
        return JSONResponse({"node": endpoint.public()}, status_code=201)

    async def get_endpoint(request: Request) -> Response:
        endpoint = await off_loop(configuration(context).endpoint, request.path_params["id"])
        return JSONResponse({"node": endpoint.public()})

    async def update_endpoint(request: Request) -> Response:
        endpoint_id = request.path_params["id"]
        body = await read_object(request)
        changes = _endpoint_changes(body)
        endpoint = await configuration(context).update_endpoint(endpoint_id, changes)
        log.info("Custom endpoint %d changed (%s)", endpoint.id, ", ".join(sorted(changes)) or "nothing")
        return JSONResponse({"node": endpoint.public()})

    async def delete_endpoint(request: Request) -> Response:
        endpoint_id = request.path_params["id"]
        await configuration(context).delete_endpoint(endpoint_id)
        log.info("Custom endpoint %d deleted", endpoint_id)
        return JSONResponse({"message": "Node deleted successfully", "id": endpoint_id})

    return [
        resource("/api/provider-nodes", GET=list_endpoints, POST=create_endpoint),
        resource("/api/provider-nodes/{id:id}", GET=get_endpoint, PUT=update_endpoint, PATCH=update_endpoint,
                 DELETE=delete_endpoint),
    ]


# --- validation ----------------------------------------------------------------------------------


def _new_endpoint(body: dict[str, Any]) -> dict[str, Any]:
    """The API's fields as `Configuration.add_endpoint` fields (the core checks them)."""
    prefix = body.get("prefix")
    return {
        "prefix": prefix,
        "name": body["name"] if body.get("name") is not None else prefix,
        "base_url": body.get("baseUrl"),
        "api_format": _api_type(body),
        "headers": _headers_field(body),
        "api_key": body.get("apiKey") or None,
    }


def _endpoint_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "prefix" in body:
        changes["prefix"] = body["prefix"]
    if "name" in body:
        changes["name"] = body["name"]
    if "baseUrl" in body:
        changes["base_url"] = body["baseUrl"]
    if "apiType" in body or "type" in body:
        changes["api_format"] = _api_type(body)
    if "headers" in body or "customHeaders" in body:
        changes["headers"] = _headers_field(body)
    if body.get("apiKey") not in (None, ""):
        changes["api_key"] = body["apiKey"]
    return changes


def _api_type(body: dict[str, Any]) -> str:
    value = body.get("apiType")
    if value is None and body.get("type") is not None:
        value = _TYPES.get(body["type"], body["type"]) if isinstance(body["type"], str) else body["type"]
    value = "openai" if value is None else value
    if value not in API_FORMATS:
        raise ManagementError(400, f"`apiType` must be one of {', '.join(API_FORMATS)}.")
    return value


def _headers_field(body: dict[str, Any]) -> Any:
    return body["headers"] if "headers" in body else body.get("customHeaders")
