"""`/api/oauth/{provider}/{action}`: signing in to a subscription (Claude, Codex, GitHub Copilot, Antigravity,
Gemini CLI) and importing the sign-ins the official CLIs hold.

- `POST authorize` starts a PKCE sign-in: `{flowId, url, redirectUri, expiresIn}`; open `url` in a browser.
  The browser returns to Quotagate's one-shot listener, which finishes the sign-in by itself.
- `POST exchange` `{flowId?, code, state}` finishes it with a code pasted by hand.
- `POST device-code` starts GitHub's device flow: `{flowId, userCode, verificationUri, interval}`.
- `POST poll` `{flowId}` asks once whether the code was entered (`status` waiting/done/failed/expired).
- `GET status?flowId=`, `POST cancel` `{flowId}`: a flow's progress; stop it (its listener is released).
- `GET import`: where the CLIs' files are and whether they exist; `POST import` `{source?}` copies them in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.management.common import ManagementError, read_object, resource
from core.subscriptions.providers import PROVIDERS
from core.subscriptions.service import SHARED_SESSION_WARNING, Subscriptions
from core.subscriptions.signin import SignInError
from core.i18n import tr

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)


def oauth_routes(context: "GatewayContext") -> list[Route]:
    def service() -> Subscriptions:
        if context.subscriptions is None:
            raise ManagementError(503, "Subscription sign-in is not available in this process.")
        return context.subscriptions

    async def authorize(request: Request, provider: str) -> dict[str, Any]:
        return await service().flows.authorize(provider)

    async def exchange(request: Request, provider: str) -> dict[str, Any]:
        body = await read_object(request)
        return await service().flows.exchange(body.get("flowId"), body.get("code"), body.get("state"))

    async def device_code(request: Request, provider: str) -> dict[str, Any]:
        return await service().flows.device_code(provider)

    async def poll(request: Request, provider: str) -> dict[str, Any]:
        body = await read_object(request, allow_empty=True)
        return await service().flows.poll(body.get("flowId") or request.query_params.get("flowId"))

    async def status(request: Request, provider: str) -> dict[str, Any]:
        return service().flows.status(request.query_params.get("flowId"))

    async def cancel(request: Request, provider: str) -> dict[str, Any]:
        body = await read_object(request, allow_empty=True)
        return await service().flows.cancel(body.get("flowId") or request.query_params.get("flowId"))

    async def import_sources(request: Request, provider: str) -> dict[str, Any]:
        return {"provider": provider, "sources": await service().import_choices(provider),
                "warning": tr(SHARED_SESSION_WARNING)}

    async def import_files(request: Request, provider: str) -> dict[str, Any]:
        body = await read_object(request, allow_empty=True)
        source = body.get("source")
        if source is not None and not isinstance(source, str):
            raise ManagementError(400, "`source` must be a string.")
        accounts = await service().import_from(provider, source)
        log.info("Imported %d %s sign-in(s)", len(accounts), provider)
        return {"connections": [a.public() for a in accounts], "warning": tr(SHARED_SESSION_WARNING)}

    actions = {("authorize", "POST"): authorize, ("exchange", "POST"): exchange,
               ("device-code", "POST"): device_code, ("poll", "POST"): poll, ("poll", "GET"): poll,
               ("status", "GET"): status, ("cancel", "POST"): cancel, ("import", "GET"): import_sources,
               ("import", "POST"): import_files}

    async def dispatch(request: Request) -> Response:
        provider, action = request.path_params["provider"], request.path_params["action"]
        if provider not in PROVIDERS:
            raise ManagementError(404, f"Unknown subscription {provider[:40]!r}. Subscriptions: "
                                       f"{', '.join(PROVIDERS)}.")
        method = "GET" if request.method == "HEAD" else request.method
        handler = actions.get((action, method))
        if handler is None:
            allowed = sorted({m for (a, m) in actions if a == action})
            if allowed:
                raise ManagementError(405, f"{action} takes {', '.join(allowed)}.", {"Allow": ", ".join(allowed)})
            raise ManagementError(404, f"Unknown sign-in action {action[:40]!r}. Actions: authorize, exchange, "
                                       f"device-code, poll, status, cancel, import.")
        try:
            return JSONResponse(await handler(request, provider))
        except SignInError as exc:
            raise ManagementError(exc.status, str(exc)) from None

    return [resource("/api/oauth/{provider}/{action}", GET=dispatch, POST=dispatch)]
