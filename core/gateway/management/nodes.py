"""`/api/provider-nodes*`: custom endpoints — any OpenAI- or Anthropic-compatible base URL with its own model
prefix, extra headers and key. Header values and keys are masked in answers (they are often credentials)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.accounts import API_FORMATS, AccountStore, Node
from core.gateway.management.common import (
    ManagementError,
    account_store,
    is_masked,
    off_loop,
    optional_text,
    read_object,
    resource,
    string_map,
    text,
)
from core.providers import catalog
from core.secrets import mask

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-type"}
_TYPES = {"openai-compatible": "openai", "anthropic-compatible": "anthropic"}  # the reference's `type` field


def node_routes(context: "GatewayContext") -> list[Route]:
    def accounts() -> AccountStore:
        return account_store(context)

    async def list_nodes(request: Request) -> Response:
        nodes = await off_loop(accounts().nodes)
        return JSONResponse({"nodes": [n.public() for n in nodes], "total": len(nodes)})

    async def create_node(request: Request) -> Response:
        body = await read_object(request)
        fields = _new_node(body)
        await context.prepare_change("adding a custom endpoint")
        node = await off_loop(_create, context.store, accounts(), fields)
        await context.apply_changes()
        log.info("Custom endpoint %d added (prefix %s)", node.id, node.prefix)
        return JSONResponse({"node": node.public()}, status_code=201)

    async def get_node(request: Request) -> Response:
        node_id = request.path_params["id"]
        node = await off_loop(_find, accounts(), node_id)
        if node is None:
            raise _not_found(node_id)
        return JSONResponse({"node": node.public()})

    async def update_node(request: Request) -> Response:
        node_id = request.path_params["id"]
        body = await read_object(request)
        changes = _node_changes(body)
        await context.prepare_change("changing a custom endpoint")
        node = await off_loop(_update, context.store, accounts(), node_id, changes)
        await context.apply_changes()
        log.info("Custom endpoint %d changed (%s)", node.id, ", ".join(sorted(changes)) or "nothing")
        return JSONResponse({"node": node.public()})

    async def delete_node(request: Request) -> Response:
        node_id = request.path_params["id"]
        await context.prepare_change("deleting a custom endpoint")
        if not await off_loop(accounts().delete_node, node_id):
            raise _not_found(node_id)
        await context.apply_changes()
        log.info("Custom endpoint %d deleted", node_id)
        return JSONResponse({"message": "Node deleted successfully", "id": node_id})

    return [
        resource("/api/provider-nodes", GET=list_nodes, POST=create_node),
        resource("/api/provider-nodes/{id:int}", GET=get_node, PUT=update_node, PATCH=update_node,
                 DELETE=delete_node),
    ]


# --- validation ----------------------------------------------------------------------------------


def _new_node(body: dict[str, Any]) -> dict[str, Any]:
    prefix = text(body.get("prefix"), "prefix", max_length=32).lower()
    return {
        "prefix": prefix,
        "name": text(body["name"], "name") if body.get("name") is not None else prefix,
        "base_url": text(body.get("baseUrl"), "baseUrl", max_length=2000),
        "api_format": _api_type(body),
        "headers": _headers(_headers_field(body)),
        "api_key": optional_text(body.get("apiKey"), "apiKey", max_length=4096),
    }


def _node_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "prefix" in body:
        changes["prefix"] = text(body["prefix"], "prefix", max_length=32).lower()
    if "name" in body:
        changes["name"] = text(body["name"], "name")
    if "baseUrl" in body:
        changes["base_url"] = text(body["baseUrl"], "baseUrl", max_length=2000)
    if "apiType" in body or "type" in body:
        changes["api_format"] = _api_type(body)
    if "headers" in body or "customHeaders" in body:
        changes["headers"] = _headers(_headers_field(body), allow_masked=True)
    if body.get("apiKey") not in (None, ""):
        key = body["apiKey"]
        changes["api_key"] = key if is_masked(key) else text(key, "apiKey", max_length=4096)
    return changes


def _api_type(body: dict[str, Any]) -> str:
    value = body.get("apiType")
    if value is None and body.get("type") is not None:
        value = _TYPES.get(body["type"], body["type"])
    value = "openai" if value is None else value
    if value not in API_FORMATS:
        raise ManagementError(400, f"`apiType` must be one of {', '.join(API_FORMATS)}.")
    return value


def _headers_field(body: dict[str, Any]) -> Any:
    return body["headers"] if "headers" in body else body.get("customHeaders")


def _headers(value: Any, allow_masked: bool = False) -> dict[str, str]:
    if value is None:
        return {}
    headers = string_map(value, "headers")
    for name, content in headers.items():
        if not _HEADER_NAME.match(name):
            raise ManagementError(400, f"`headers`: '{name[:60]}' is not a valid header name.")
        if name.lower() in _RESERVED_HEADERS:
            raise ManagementError(400, f"`headers`: '{name}' is set by the gateway and cannot be overridden.")
        if "\r" in content or "\n" in content:
            raise ManagementError(400, f"`headers`: the value of '{name}' contains a line break.")
        if is_masked(content) and not allow_masked:
            raise ManagementError(400, f"`headers`: the value of '{name}' looks masked; send the real value.")
    return headers


def _reserved_prefix(prefix: str) -> None:
    provider = catalog.get_provider(prefix)
    if provider is not None:
        raise ManagementError(409, f"Prefix '{prefix}' already names the catalogue provider {provider.name}; "
                                   f"choose another prefix for the custom endpoint.")


def _taken_prefix(accounts: AccountStore, prefix: str, node_id: int | None) -> None:
    if any(n.prefix == prefix and n.id != node_id for n in accounts.nodes()):
        raise ManagementError(409, f"Prefix '{prefix}' is already used by another custom endpoint; choose "
                                   f"another (GET /api/provider-nodes lists them).")


def _create(store: "Store", accounts: AccountStore, fields: dict[str, Any]) -> Node:
    _reserved_prefix(fields["prefix"])
    with store.db.atomic():
        _taken_prefix(accounts, fields["prefix"], None)
        return accounts.create_node(**fields)


def _update(store: "Store", accounts: AccountStore, node_id: int, changes: dict[str, Any]) -> Node:
    """Apply a PUT in one transaction; masked values sent back mean "keep what is stored"."""
    with store.db.atomic():
        current = _find(accounts, node_id)
        if current is None:
            raise _not_found(node_id)
        changes = dict(changes)
        if "prefix" in changes and changes["prefix"] != current.prefix:
            _reserved_prefix(changes["prefix"])
            _taken_prefix(accounts, changes["prefix"], node_id)
        if "api_key" in changes and is_masked(changes["api_key"]):
            if changes["api_key"] != mask(current.api_key):
                raise ManagementError(400, "`apiKey` looks masked but is not this endpoint's key; send the full "
                                           "key, or leave it out to keep the stored one.")
            del changes["api_key"]
        if "headers" in changes:
            changes["headers"] = {name: _unmasked_header(name, value, current) for name, value in
                                  changes["headers"].items()}
        updated = accounts.update_node(node_id, **changes)
        assert updated is not None
        return updated


def _unmasked_header(name: str, value: str, current: Node) -> str:
    if not is_masked(value):
        return value
    stored = current.headers.get(name)
    if stored is not None and mask(stored) == value:
        return stored
    raise ManagementError(400, f"`headers`: the value of '{name}' looks masked but is not the stored one; "
                               f"send the real value.")


def _find(accounts: AccountStore, node_id: int) -> Node | None:
    return next((n for n in accounts.nodes() if n.id == node_id), None)


def _not_found(node_id: int) -> ManagementError:
    return ManagementError(404, f"No custom endpoint with id {node_id}; GET /api/provider-nodes lists them.")
