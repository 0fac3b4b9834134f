"""`/api/settings/system-prompt` and `/api/settings/thinking-budget`: what the gateway adds to every chat
request (see `core.gateway.request_defaults`). A PUT may send some fields only; the rest keep their stored
values. Checked by the settings' rules and written through `core.configuration`, as the settings window does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.gateway.management.common import configuration, off_loop, read_object, resource
from core.gateway.request_defaults import stored_value
from core.i18n import translatable

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)

_SETTINGS = {  # path -> (setting key, what the audit log and the snapshots call a change)
    "/api/settings/system-prompt": (settings.KEY_SYSTEM_PROMPT, translatable("changing the global system prompt")),
    "/api/settings/thinking-budget": (settings.KEY_THINKING_BUDGET,
                                      translatable("changing the default thinking budget")),
}


def request_settings_routes(context: "GatewayContext") -> list[Route]:
    def routes_for(path: str) -> Route:
        key, reason = _SETTINGS[path]

        async def get(request: Request) -> Response:
            return JSONResponse(await off_loop(stored_value, context.store, key))

        async def put(request: Request) -> Response:
            body = await read_object(request)
            current = await off_loop(stored_value, context.store, key)
            saved = await configuration(context).update_settings(
                {key: {**current, **body}}, {key: path.rsplit("/", 1)[-1]}, reason=reason)
            log.info("Done: %s", reason)
            return JSONResponse(saved[key])

        return resource(path, GET=get, PUT=put, PATCH=put)

    return [routes_for(path) for path in _SETTINGS]
