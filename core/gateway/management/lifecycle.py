"""`/api/init` (first-run state) and `/api/restart`, `/api/shutdown` (graceful; the management guard already
keeps them to this machine's programs and behind the login when it is on). The answer goes out first; the
program installed in `core.lifecycle` then restarts or quits itself cleanly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import __version__, lifecycle
from core.gateway import client_keys
from core.gateway.management.common import ManagementError, off_loop, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext


def lifecycle_routes(context: "GatewayContext") -> list[Route]:
    async def init(request: Request) -> Response:
        health = await off_loop(context.store.health)
        accounts = await off_loop(context.accounts.accounts) if context.accounts is not None else []
        endpoints = await off_loop(context.accounts.endpoints) if context.accounts is not None else []
        keys = [k for k in await off_loop(client_keys.list_keys) if not k["revoked"]]
        login = await context.auth.state(context.store)
        configured = bool(accounts or endpoints)
        return JSONResponse({
            "initialized": health.get("status") == "ok",
            "store": {"ready": health.get("status") == "ok", "schemaVersion": health.get("schema_version")},
            "accountsConfigured": configured, "accounts": len(accounts), "customEndpoints": len(endpoints),
            "apiKeys": len(keys), "login": login.public(), "version": __version__,
            "firstRun": not configured and not keys,
        })

    def _asked(action: str, words: str) -> Response:
        if not lifecycle.can(action):
            # 409: nothing is wrong with the gateway; this process (embedded, a test) has no way to do it
            raise ManagementError(409, f"This Quotagate process cannot {action} itself; stop it the way it was "
                                       f"started.")
        async def ask() -> None:  # on the loop: a sync task would run in a worker thread, and the programs'
            lifecycle.request(action)  # hooks set asyncio events, which only the loop's own thread may set

        return JSONResponse({"message": words}, status_code=202, background=BackgroundTask(ask))

    async def restart(request: Request) -> Response:
        return _asked("restart", "Restarting: requests in flight finish first.")

    async def shutdown(request: Request) -> Response:
        return _asked("shutdown", "Shutting down: requests in flight finish first.")

    return [
        resource("/api/init", GET=init),
        resource("/api/restart", POST=restart),
        resource("/api/shutdown", POST=shutdown),
    ]
