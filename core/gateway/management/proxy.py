"""`/api/settings/proxy`: the global and per-provider outbound proxies, and their Test button.

Stored under `settings.KEY_PROXY` as `{"global": url|null, "providers": {providerId: url}}`, sealed with the
machine's key at rest. Proxy URLs may carry a password, so answers show `scheme://•••@host:port`; a masked
URL sent back means "keep it". Changes go through `core.configuration` (one proxy rule for everyone).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.configuration import stored_proxies
from core.gateway.checks import check_proxy
from core.gateway.management.common import (
    ManagementError,
    configuration,
    is_masked,
    off_loop,
    read_object,
    resource,
    scrub,
)
from core.net.proxies import mask_proxy, proxy_url
from core.settings import SettingError

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def proxy_routes(context: "GatewayContext") -> list[Route]:
    async def get_proxy(request: Request) -> Response:
        return JSONResponse(_public(await off_loop(stored_proxies, context.store)))

    async def put_proxy(request: Request) -> Response:
        saved = await configuration(context).set_proxies(await read_object(request))
        log.info("Proxy settings changed (global %s, %d per provider)",
                 "set" if saved["global"] else "none", len(saved["providers"]))
        return JSONResponse(_public(saved))

    async def delete_proxy(request: Request) -> Response:
        cleared = await configuration(context).set_proxies({"global": None, "providers": {}})
        log.info("Proxy settings cleared")
        return JSONResponse(cleared)

    async def test_proxy(request: Request) -> Response:
        body = await read_object(request)
        value = body.get("proxy")
        if is_masked(value):
            value = _unmasked(value, await off_loop(stored_proxies, context.store))
        try:
            url = proxy_url(value, "proxy")
        except SettingError as exc:
            raise ManagementError(400, str(exc)) from None
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


def _unmasked(value: str, stored: dict[str, Any]) -> str:
    for candidate in [stored["global"], *stored["providers"].values()]:
        if candidate and mask_proxy(candidate) == value:
            return candidate
    raise ManagementError(400, "`proxy` looks masked but matches no stored proxy; send the full URL.")


def _public(value: dict[str, Any]) -> dict[str, Any]:
    return {"global": mask_proxy(value["global"]) or None,
            "providers": {k: mask_proxy(v) for k, v in value["providers"].items()}}
