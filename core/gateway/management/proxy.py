"""`/api/settings/proxy`: the global and per-provider outbound proxies, and their Test button.

Stored under `settings.KEY_PROXY` as `{"global": url|null, "providers": {providerId: url}}`. Proxy URLs may
carry a password, so answers show `scheme://•••@host:port`; a masked URL sent back means "keep it".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.gateway.checks import check_proxy
from core.gateway.management.common import (
    ManagementError,
    is_masked,
    off_loop,
    read_object,
    resource,
    scrub,
)
from core.providers import catalog
from core.secrets import mask_url_credentials

if TYPE_CHECKING:
    from core.gateway.accounts import AccountStore
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)

mask_proxy = mask_url_credentials  # the name the management modules use

SCHEMES = ("http", "https", "socks5", "socks5h")
_FIELDS = {"global", "providers"}


def proxy_url(value: Any, name: str) -> str:
    """A usable proxy URL, or a 400 naming the field (never echoing the URL: it may hold a password)."""
    example = "such as http://127.0.0.1:8080 or socks5://user:pass@127.0.0.1:1080"
    if not isinstance(value, str) or not value.strip():
        raise ManagementError(400, f"`{name}` must be a proxy URL {example}.")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ManagementError(400, f"`{name}` must use one of the schemes {', '.join(SCHEMES)}, "
                                   f"{example}.")
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise ManagementError(400, f"`{name}` has an invalid port; use a URL {example}.") from None
    if not host or parts.path or parts.query or parts.fragment:
        raise ManagementError(400, f"`{name}` must be scheme://[user:password@]host:port with no path, {example}.")
    return url


def proxy_routes(context: "GatewayContext") -> list[Route]:
    async def get_proxy(request: Request) -> Response:
        return JSONResponse(_public(await off_loop(stored_proxies, context.store)))

    async def put_proxy(request: Request) -> Response:
        body = await read_object(request)
        unknown = set(body) - _FIELDS
        if unknown:
            raise ManagementError(400, f"Unknown field(s) {', '.join(sorted(unknown))}; send `global` "
                                       f"and/or `providers`.")
        wanted: dict[str, Any] = {}
        if "global" in body:
            wanted["global"] = _checked(body["global"], "global")
        if "providers" in body:
            providers = body["providers"]
            if providers is not None and not isinstance(providers, dict):
                raise ManagementError(400, "`providers` must be an object of provider id to proxy URL.")
            wanted["providers"] = {key: _checked(url, f"providers.{key}") for key, url in (providers or {}).items()}
        await context.prepare_change("changing proxy settings")
        saved = await off_loop(_save, context.store, context.accounts, wanted)
        await context.apply_changes()
        log.info("Proxy settings changed (global %s, %d per provider)",
                 "set" if saved["global"] else "none", len(saved["providers"]))
        return JSONResponse(_public(saved))

    async def delete_proxy(request: Request) -> Response:
        cleared = {"global": None, "providers": {}}
        await context.prepare_change("clearing proxy settings")
        await off_loop(context.store.set_setting, settings.KEY_PROXY, cleared)
        await context.apply_changes()
        log.info("Proxy settings cleared")
        return JSONResponse(cleared)

    async def test_proxy(request: Request) -> Response:
        body = await read_object(request)
        value = body.get("proxy")
        if is_masked(value):
            value = _unmasked(value, await off_loop(stored_proxies, context.store))
        url = proxy_url(value, "proxy")
        result = await check_proxy(url, context.runtime.clients)
        answer = result.public()
        answer["message"] = scrub(result.message, url, urlsplit(url).password)
        if not result.ok:
            answer["error"] = answer["message"]
        return JSONResponse({**answer, "proxy": mask_proxy(url)})

    return [
        resource("/api/settings/proxy", GET=get_proxy, PUT=put_proxy, DELETE=delete_proxy),
        resource("/api/settings/proxy/test", POST=test_proxy),
    ]


def stored_proxies(store: "Store") -> dict[str, Any]:
    """The stored setting in its canonical shape, whatever was saved."""
    value = store.get_setting(settings.KEY_PROXY)
    value = value if isinstance(value, dict) else {}
    providers = value.get("providers") if isinstance(value.get("providers"), dict) else {}
    return {"global": value.get("global") or None,
            "providers": {k: v for k, v in providers.items() if isinstance(v, str) and v}}


def _checked(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    return value if is_masked(value) else proxy_url(value, name)


def _save(store: "Store", accounts: "AccountStore | None", wanted: dict[str, Any]) -> dict[str, Any]:
    with store.db.atomic():
        current = stored_proxies(store)
        result = dict(current)
        if "global" in wanted:
            result["global"] = _restored(wanted["global"], current["global"], "global")
        if "providers" in wanted:
            prefixes = {node.prefix for node in accounts.nodes()} if accounts else set()
            providers: dict[str, str] = {}
            for key, url in wanted["providers"].items():
                target = _proxy_target(key, prefixes)
                restored = _restored(url, current["providers"].get(target), f"providers.{key}")
                if restored:
                    providers[target] = restored
            result["providers"] = providers
        store.set_setting(settings.KEY_PROXY, result)
    return result


def _proxy_target(key: str, prefixes: set[str]) -> str:
    provider = catalog.get_provider(key)
    if provider is not None:
        return provider.id
    if key.strip().lower() in prefixes:
        return key.strip().lower()
    valid = ", ".join([p.id for p in catalog.providers()] + sorted(prefixes))
    raise ManagementError(400, f"`providers` names unknown provider '{key}'. Valid: {valid}.")


def _restored(value: str | None, stored: str | None, name: str) -> str | None:
    if value is None or not is_masked(value):
        return value
    if stored and mask_proxy(stored) == value:
        return stored
    raise ManagementError(400, f"`{name}` looks masked but matches no stored proxy; send the full URL.")


def _unmasked(value: str, stored: dict[str, Any]) -> str:
    for candidate in [stored["global"], *stored["providers"].values()]:
        if candidate and mask_proxy(candidate) == value:
            return candidate
    raise ManagementError(400, "`proxy` looks masked but matches no stored proxy; send the full URL.")


def _public(value: dict[str, Any]) -> dict[str, Any]:
    return {"global": mask_proxy(value["global"]),
            "providers": {k: mask_proxy(v) for k, v in value["providers"].items()}}
