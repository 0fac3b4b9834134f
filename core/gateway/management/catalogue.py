"""`/api/providers/validate` (test a key or an endpoint before saving it), `/api/provider-models` (models a
user adds to a catalogue provider) and `/api/pricing` (the price table with the user's overrides applied)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.configuration import catalogue_provider
from core.gateway import provider_models
from core.gateway.accounts import Account, CustomEndpoint, unsaved_endpoint
from core.gateway.checks import check_connection
from core.gateway.management.common import (
    ManagementError,
    configuration,
    off_loop,
    read_object,
    resource,
    scrub,
)
from core.gateway.management.endpoints import _new_endpoint
from core.gateway.routing import ProxySettings
from core.i18n import translatable
from core.net.proxies import proxy_url
from core.providers import catalog
from core.settings import ConfigError, Conflict, NotFound

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def catalogue_routes(context: "GatewayContext") -> list[Route]:
    async def validate(request: Request) -> Response:
        body = await read_object(request)
        target = _unsaved_target(body)
        proxies = ProxySettings.from_setting(await off_loop(context.store.get_setting, settings.KEY_PROXY))
        result = await check_connection(target, context.runtime.clients, proxies)
        proxy = proxies.for_account(target.provider, target.options.get("proxy")) \
            if isinstance(target, Account) else proxies.for_account(target.prefix, None)
        answer = result.public()
        secrets = [target.api_key, proxy, urlsplit(proxy).password if proxy else None]
        if isinstance(target, CustomEndpoint):
            secrets += list(target.headers.values())
        answer["message"] = scrub(result.message, *secrets)
        if not result.ok:
            answer["error"] = answer["message"]
        return JSONResponse(answer)

    async def list_models(request: Request) -> Response:
        wanted = request.query_params.get("provider", "").strip()
        stored = await off_loop(context.store.get_setting, settings.KEY_PROVIDER_MODELS, {})
        if wanted:
            provider = _provider(wanted)
            stored = {provider.id: stored.get(provider.id, [])}
        models = [_public(provider_id, entry) for provider_id, entries in stored.items() for entry in entries]
        return JSONResponse({"models": models, "total": len(models)})

    async def add_model(request: Request) -> Response:
        body = await read_object(request)
        provider = _provider(body.get("provider"))
        entry = provider_models.model_entry({"id": body.get("modelId", body.get("id")),
                                             "name": body.get("modelName", body.get("name"))})
        if provider.model(entry["id"]) is not None:
            raise Conflict(f"{provider.name} already lists “{entry['id']}” in the catalogue; it needs no adding.")

        def added(current: Any) -> dict[str, Any]:
            current = dict(current or {})
            entries = list(current.get(provider.id, []))
            if any(e.get("id") == entry["id"] for e in entries):
                raise Conflict(f"“{provider.id}/{entry['id']}” was already added.")
            current[provider.id] = [*entries, entry]
            return current

        await configuration(context).edit_setting(settings.KEY_PROVIDER_MODELS, added, translatable("adding a provider model"),
                                                  {"provider": provider.id, "model": entry["id"]})
        log.info("Model %s/%s added", provider.id, entry["id"])
        return JSONResponse({"model": _public(provider.id, entry)}, status_code=201)

    async def delete_model(request: Request) -> Response:
        body = await read_object(request, allow_empty=True)
        provider = _provider(request.query_params.get("provider") or body.get("provider"))
        model_id = request.query_params.get("model") or request.query_params.get("modelId") \
            or body.get("modelId") or body.get("model")
        if not isinstance(model_id, str) or not model_id.strip():
            raise ManagementError(400, "Say which model to remove: `?provider=…&model=…`.")
        model_id = model_id.strip()

        def removed(current: Any) -> dict[str, Any]:
            current = dict(current or {})
            entries = current.get(provider.id, [])
            if not any(e.get("id") == model_id for e in entries):
                raise NotFound(f"“{provider.id}/{model_id}” is not an added model; GET /api/provider-models lists "
                               f"them.")
            current[provider.id] = [e for e in entries if e.get("id") != model_id]
            return current

        await configuration(context).edit_setting(settings.KEY_PROVIDER_MODELS, removed, translatable("removing a provider model"),
                                                  {"provider": provider.id, "model": model_id})
        log.info("Model %s/%s removed", provider.id, model_id)
        return JSONResponse({"message": "Model removed", "provider": provider.id, "model": model_id})

    async def pricing(request: Request) -> Response:
        config = context.runtime.config
        return JSONResponse({"currency": "USD", "unit": "per 1M tokens",
                             "pricing": price_table(config.price_overrides, config.rules.provider_models)})

    return [
        resource("/api/providers/validate", POST=validate),
        resource("/api/provider-models", GET=list_models, POST=add_model, DELETE=delete_model),
        resource("/api/pricing", GET=pricing),
    ]


def price_table(overrides: dict[str, Any], added: dict[str, tuple[str, ...]]) -> dict[str, dict[str, Any]]:
    """`provider/model` -> prices (USD per 1M tokens) for every catalogue model, every added model and every
    overridden one (a custom endpoint's, say), and whether an override changed it."""
    table: dict[str, dict[str, Any]] = {}

    def put(provider_id: str, model_id: str) -> None:
        base = catalog.price_for(provider_id, model_id)
        try:
            price = catalog.price_for(provider_id, model_id, overrides)
        except ValueError:  # a malformed stored override: the catalogue's price applies, as for usage
            price = base
        table[f"{provider_id}/{model_id}"] = {"input": price.input, "output": price.output,
                                              "cachedInput": price.cached_input, "overridden": price != base}

    for provider in catalog.providers():
        for model in provider.models:
            put(provider.id, model.id)
        for model_id in added.get(provider.id, ()):
            put(provider.id, model_id)
    for key in overrides:
        head, _, model_id = key.partition("/")
        provider = catalog.get_provider(head)
        provider_id = provider.id if provider else head.strip().lower()
        if f"{provider_id}/{model_id}" not in table:
            put(provider_id, model_id)
    return table


def _unsaved_target(body: dict[str, Any]) -> Account | CustomEndpoint:
    """What the body describes: a custom endpoint (`baseUrl`, `apiType`, `headers`, `apiKey`) or a catalogue
    provider's key (`provider`, `apiKey`, `proxy`), checked like the real thing but not stored."""
    if body.get("baseUrl") is not None:
        return unsaved_endpoint(**_new_endpoint(body))
    provider = catalogue_provider(body.get("provider"))
    api_key = body.get("apiKey")
    if api_key is not None and not isinstance(api_key, str):
        raise ManagementError(400, "`apiKey` must be a string.")
    if not api_key and provider.auth != "none":
        raise ManagementError(400, f"`apiKey` is required to validate {provider.name}.")
    proxy = body.get("proxy")
    options = {"proxy": proxy_url(proxy, "proxy")} if proxy else {}
    return Account(0, provider.id, str(body.get("name") or provider.name)[:200], api_key or None, options=options)


def _provider(value: Any) -> catalog.Provider:
    try:
        return provider_models.provider_named(value)
    except ConfigError as exc:
        raise ManagementError(400, str(exc)) from None


def _public(provider_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    provider = catalog.get_provider(provider_id)
    prefix = provider.prefix if provider else provider_id
    return {"provider": provider_id, "id": entry.get("id"), "name": entry.get("name"),
            "fullId": f"{prefix}/{entry.get('id')}"}
