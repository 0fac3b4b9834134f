"""`/api/settings`: the gateway's general settings, whitelisted and typed, plus read-only facts about the
running program. A PUT is checked whole before anything is written, then written in one transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import __version__, settings
from core.gateway.management.common import ManagementError, configuration, off_loop, read_object, resource
from core.gateway.runtime import DEFAULT_MAX_BODY_MB
from core.gateway.relay import Timeouts
from core.gateway.upstream import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from core.store.retention import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_ROWS

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)

# camelCase field -> (setting key, default shown when unset); each value is checked by the key's rule
# in core.settings (types, ranges, finite numbers, sizes) before anything is written.
WRITABLE: dict[str, tuple[str, Any]] = {
    "requireApiKey": (settings.KEY_REQUIRE_API_KEY, False),
    "maxBodyMb": (settings.KEY_MAX_BODY_MB, DEFAULT_MAX_BODY_MB),
    "upstreamReadTimeoutS": (settings.KEY_UPSTREAM_TIMEOUT, DEFAULT_READ_TIMEOUT),
    "upstreamConnectTimeoutS": (settings.KEY_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT),
    "upstreamFirstByteTimeoutS": (settings.KEY_FIRST_BYTE_TIMEOUT, Timeouts.first_byte),
    "upstreamAnswerTimeoutS": (settings.KEY_ANSWER_TIMEOUT, Timeouts.answer),
    "priceOverrides": (settings.KEY_PRICE_OVERRIDES, {}),
    "allowedHosts": (settings.KEY_ALLOWED_HOSTS, []),
    "requestLogDays": (settings.KEY_REQUEST_LOG_DAYS, DEFAULT_MAX_AGE_DAYS),
    "requestLogRows": (settings.KEY_REQUEST_LOG_ROWS, DEFAULT_MAX_ROWS),
    "accountSelection": (settings.KEY_ACCOUNT_SELECTION, "fill-first"),
}
READ_ONLY = frozenset({"port", "host", "version", "dataDir", "apiKeysEnforced", "requireLogin"})


def settings_routes(context: "GatewayContext") -> list[Route]:
    async def get_settings(request: Request) -> Response:
        return JSONResponse(await _answer(await off_loop(stored_settings, context.store)))

    async def put_settings(request: Request) -> Response:
        body = await read_object(request)
        unknown = set(body) - set(WRITABLE) - READ_ONLY
        if unknown:
            raise ManagementError(400, f"Unknown setting(s) {', '.join(sorted(unknown)[:20])[:500]}; writable "
                                       f"settings are {', '.join(WRITABLE)}.")
        changes = {WRITABLE[name][0]: value for name, value in body.items() if name in WRITABLE}
        fields = {WRITABLE[name][0]: f"`{name}`" for name in WRITABLE}
        await configuration(context).update_settings(changes, fields)
        log.info("Settings changed: %s", ", ".join(sorted(changes)) or "nothing")
        return JSONResponse(await _answer(await off_loop(stored_settings, context.store)))

    async def _answer(values: dict[str, Any]) -> dict[str, Any]:
        host, port = context.address()
        login = await context.auth.state(context.store)
        return {**values, "apiKeysEnforced": context.runtime.config.require_keys, "requireLogin": login.required,
                "host": host, "port": port, "version": __version__, "dataDir": str(context.store.path.parent)}

    return [resource("/api/settings", GET=get_settings, PUT=put_settings, PATCH=put_settings)]


def stored_settings(store: "Store") -> dict[str, Any]:
    """The writable settings as stored; a missing or unusable value shows as its default."""
    return {name: store.get_setting(key, default) for name, (key, default) in WRITABLE.items()}
