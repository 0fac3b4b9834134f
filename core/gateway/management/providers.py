"""`/api/providers*`: the user's provider accounts ("connections"), their Test button and model list, and
the read-only catalogue of providers Quotagate knows. Keys are masked in every answer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.gateway.accounts import Account, AccountStore
from core.gateway.checks import CheckResult, check_connection
from core.gateway.management.common import (
    ManagementError,
    account_store,
    configuration,
    off_loop,
    query_int,
    read_object,
    resource,
    scrub,
)
from core.gateway.routing import ProxySettings
from core.providers import catalog

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)


def provider_routes(context: "GatewayContext") -> list[Route]:
    def accounts() -> AccountStore:
        return account_store(context)

    async def list_connections(request: Request) -> Response:
        wanted = request.query_params.get("provider", "").strip()
        limit = query_int(request, "limit", 0, minimum=0, maximum=10_000)
        offset = query_int(request, "offset", 0, minimum=0, maximum=10**9)
        found = await off_loop(_listed, accounts(), wanted)
        page = found[offset:offset + limit] if limit else found[offset:]
        return JSONResponse({"connections": [a.public() for a in page], "total": len(found)})

    async def create_connection(request: Request) -> Response:
        body = await read_object(request)
        account = await configuration(context).add_account(**_new_connection(body))
        log.info("Provider connection %d added (%s)", account.id, account.provider)
        return JSONResponse({"connection": account.public()}, status_code=201)

    async def get_connection(request: Request) -> Response:
        account = await _account(request)
        return JSONResponse({"connection": account.public()})

    async def update_connection(request: Request) -> Response:
        account_id = request.path_params["id"]
        body = await read_object(request)
        changes = _connection_changes(body)
        account = await configuration(context).update_account(account_id, changes, body.get("provider"))
        log.info("Provider connection %d changed (%s)", account.id, ", ".join(sorted(changes)) or "nothing")
        return JSONResponse({"connection": account.public()})

    async def delete_connection(request: Request) -> Response:
        account_id = request.path_params["id"]
        await configuration(context).delete_account(account_id)
        log.info("Provider connection %d deleted", account_id)
        return JSONResponse({"message": "Connection deleted successfully", "id": account_id})

    async def test_connection(request: Request) -> Response:
        account = await _account(request)
        result, proxy = await _check(account)
        answer = _result(result, account, proxy)
        return JSONResponse({"connectionId": account.id, "provider": account.provider, **answer})

    async def connection_models(request: Request) -> Response:
        account = await _account(request)
        provider = catalog.get_provider(account.provider)
        if provider is not None and not provider.models_endpoint:
            live: dict[str, Any] = {"valid": None, "message": f"{provider.name} does not list models; these are "
                                                              f"the catalogue's.", "latencyMs": None}
            live_ids: list[str] = []
        else:
            result, proxy = await _check(account)
            live = {k: v for k, v in _result(result, account, proxy).items() if k in ("valid", "message", "latencyMs")}
            live_ids = result.models
        overrides = context.runtime.config.price_overrides
        return JSONResponse({"connectionId": account.id, "provider": account.provider,
                             "models": _merged_models(provider, live_ids, overrides), "live": live})

    async def list_catalog(request: Request) -> Response:
        overrides = context.runtime.config.price_overrides
        entries = [catalog_entry(p, overrides) for p in catalog.providers()]
        return JSONResponse({"providers": entries, "total": len(entries)})

    async def _account(request: Request) -> Account:
        account_id = request.path_params["id"]
        account = await off_loop(accounts().get_account, account_id)
        if account is None:
            raise _not_found(account_id)
        return account

    async def _check(account: Account) -> tuple[CheckResult, str | None]:
        """The check's result, and the proxy it went through (its URL may hold a password to scrub)."""
        proxies = await off_loop(_proxy_settings, context.store)
        result = await check_connection(account, context.runtime.clients, proxies)
        return result, proxies.for_account(account.provider, account.options.get("proxy"))

    return [
        resource("/api/providers", GET=list_connections, POST=create_connection),
        resource("/api/providers/catalog", GET=list_catalog),
        resource("/api/models/catalog", GET=list_catalog),
        resource("/api/providers/{id:id}", GET=get_connection, PUT=update_connection, PATCH=update_connection,
                 DELETE=delete_connection),
        resource("/api/providers/{id:id}/test", POST=test_connection),
        resource("/api/providers/{id:id}/models", GET=connection_models),
    ]


# --- validation ----------------------------------------------------------------------------------


def _new_connection(body: dict[str, Any]) -> dict[str, Any]:
    """The API's fields as `Configuration.add_account` arguments (it checks them)."""
    names = {"provider": "provider", "name": "name", "apiKey": "api_key", "priority": "priority",
             "isActive": "active", "defaultModel": "default_model", "proxy": "proxy"}
    fields = {names[k]: v for k, v in body.items() if k in names and v is not None}
    fields.setdefault("provider", None)
    if fields.get("api_key") == "":
        del fields["api_key"]
    return fields


def _connection_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The changes a PUT asks for. Absent fields stay; an empty or masked `apiKey` keeps the stored key."""
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = body["name"]
    if body.get("apiKey") not in (None, ""):
        changes["api_key"] = body["apiKey"]
    if "priority" in body:
        changes["priority"] = body["priority"]
    if "isActive" in body:
        changes["active"] = body["isActive"]
    if "defaultModel" in body:
        changes["default_model"] = body["defaultModel"]
    if "proxy" in body:
        changes["proxy"] = body["proxy"]
    return changes


def _listed(accounts: AccountStore, wanted: str) -> list[Account]:
    every = accounts.accounts()
    if not wanted:
        return every
    provider = catalog.get_provider(wanted)
    provider_id = provider.id if provider else wanted.lower()
    return [a for a in every if a.provider == provider_id]


def _proxy_settings(store: "Store") -> ProxySettings:
    return ProxySettings.from_setting(store.get_setting(settings.KEY_PROXY))


def _not_found(account_id: int) -> ManagementError:
    return ManagementError(404, f"No provider connection with id {account_id}; GET /api/providers lists them.")


# --- answers -------------------------------------------------------------------------------------


def _result(result: CheckResult, account: Account, proxy: str | None) -> dict[str, Any]:
    """The check as an answer, without anything secret a provider or proxy error may have echoed."""
    answer = result.public()
    answer["message"] = scrub(result.message, account.api_key, proxy, urlsplit(proxy).password if proxy else None)
    if not result.ok:
        answer["error"] = answer["message"]
    return answer


def _price(price: catalog.ModelPrice) -> dict[str, float | None]:
    return {"input": price.input, "output": price.output, "cachedInput": price.cached_input}


def catalog_entry(provider: catalog.Provider, overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": provider.id, "name": provider.name, "prefix": provider.prefix, "aliases": list(provider.aliases),
        "format": provider.format, "baseUrl": provider.base_url, "local": provider.local,
        "needsKey": provider.auth != "none", "keyUrl": provider.key_url, "listsModels": provider.models_endpoint,
        "models": [_catalog_model(provider, m, overrides) for m in provider.models],
    }


def _catalog_model(provider: catalog.Provider, model: catalog.CatalogModel,
                   overrides: dict[str, Any]) -> dict[str, Any]:
    try:
        price = catalog.price_for(provider.id, model.id, overrides)
    except ValueError:
        price = model.price
    return {"id": model.id, "fullId": f"{provider.prefix}/{model.id}", "kind": model.kind,
            "context": model.context, "price": _price(price)}


def _merged_models(provider: catalog.Provider | None, live_ids: list[str],
                   overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The catalogue's models (marked when the provider listed them too), then models only the provider listed."""
    live = set(live_ids)
    merged = []
    known = set()
    if provider is not None:
        for model in provider.models:
            merged.append({**_catalog_model(provider, model, overrides), "catalog": True, "live": model.id in live})
            known.add(model.id)
    prefix = provider.prefix if provider else ""
    for model_id in live_ids:
        if model_id not in known:
            merged.append({"id": model_id, "fullId": f"{prefix}/{model_id}" if prefix else model_id, "kind": None,
                           "context": None, "price": None, "catalog": False, "live": True})
    return merged
