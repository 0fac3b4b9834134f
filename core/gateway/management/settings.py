"""`/api/settings`: the gateway's general settings, whitelisted and typed, plus read-only facts about the
running program. A PUT is checked whole before anything is written, then written in one transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import __version__, settings
from core.gateway.management.common import (
    ManagementError,
    boolean,
    off_loop,
    positive_number,
    read_object,
    resource,
)
from core.gateway.runtime import DEFAULT_MAX_BODY_MB
from core.gateway.upstream import DEFAULT_READ_TIMEOUT
from core.providers import catalog

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)


def _price_overrides(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManagementError(400, f"`{name}` must be an object such as "
                                   f"{{\"openai/gpt-4.1\": {{\"input\": 2.0, \"output\": 8.0}}}}.")
    for key, fields in value.items():
        try:
            catalog.validate_price_override(key, fields)
        except ValueError as exc:
            raise ManagementError(400, f"`{name}`: {exc}.") from None
    return value


# camelCase field -> (setting key, check, default shown when unset or unusable)
WRITABLE: dict[str, tuple[str, Callable[[Any, str], Any], Any]] = {
    "requireApiKey": (settings.KEY_REQUIRE_API_KEY, boolean, False),
    "maxBodyMb": (settings.KEY_MAX_BODY_MB, positive_number, DEFAULT_MAX_BODY_MB),
    "upstreamReadTimeoutS": (settings.KEY_UPSTREAM_TIMEOUT, positive_number, DEFAULT_READ_TIMEOUT),
    "priceOverrides": (settings.KEY_PRICE_OVERRIDES, _price_overrides, {}),
}
READ_ONLY = frozenset({"port", "host", "version", "dataDir", "apiKeysEnforced", "requireLogin"})


def settings_routes(context: "GatewayContext") -> list[Route]:
    async def get_settings(request: Request) -> Response:
        return JSONResponse(await _answer(await off_loop(stored_settings, context.store)))

    async def put_settings(request: Request) -> Response:
        body = await read_object(request)
        unknown = set(body) - set(WRITABLE) - READ_ONLY
        if unknown:
            raise ManagementError(400, f"Unknown setting(s) {', '.join(sorted(unknown))}; writable settings are "
                                       f"{', '.join(WRITABLE)}.")
        changes = {name: WRITABLE[name][1](value, name) for name, value in body.items() if name in WRITABLE}
        await context.prepare_change("changing settings")
        saved = await off_loop(_save, context.store, changes)
        await context.apply_changes()
        log.info("Settings changed: %s", ", ".join(sorted(changes)) or "nothing")
        return JSONResponse(await _answer(saved))

    async def _answer(values: dict[str, Any]) -> dict[str, Any]:
        host, port = context.address()
        login = await context.auth.state(context.store)
        return {**values, "apiKeysEnforced": context.runtime.config.require_keys, "requireLogin": login.required,
                "host": host, "port": port, "version": __version__, "dataDir": str(context.store.path.parent)}

    return [resource("/api/settings", GET=get_settings, PUT=put_settings, PATCH=put_settings)]


def stored_settings(store: "Store") -> dict[str, Any]:
    """The writable settings as stored; a missing or unusable value shows as its default."""
    values = {}
    for name, (key, check, default) in WRITABLE.items():
        try:
            values[name] = check(store.get_setting(key, default), name)
        except ManagementError:
            values[name] = default
    return values


def _save(store: "Store", changes: dict[str, Any]) -> dict[str, Any]:
    with store.db.atomic():
        for name, value in changes.items():
            store.set_setting(WRITABLE[name][0], value)
    return stored_settings(store)
