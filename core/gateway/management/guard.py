"""Who may drive the management API: this machine's own programs, never a web page.

Every `/api/*` request, wherever its route is registered, passes here first:
- the connection must come from a loopback address (the API stays local even when the gateway listens
  on the network for `/v1`);
- `Host` must name a loopback host, so a DNS-rebinding page (evil.example resolving to 127.0.0.1) is
  refused even though the browser connects to us;
- an `Origin`, when sent, must be the gateway itself, and `Sec-Fetch-Site`, when sent, must not say
  cross-site: a page on another origin cannot change settings (CSRF). Requests without them — curl, SDKs,
  the desktop — are fine;
- when the user requires login, a session token (see `auth`).
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from core.gateway.management.auth import PUBLIC, login_required_message
from core.gateway.management.common import error_response

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)

_REFUSED_FETCH_SITES = {"cross-site", "same-site"}


def is_management_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def loopback_host(host_header: str) -> bool:
    """`localhost`, 127.0.0.0/8 or [::1], with or without a port."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return False
    else:
        name, colon, port = host.partition(":")
        if colon and not port.isdigit():
            return False
    return name == "localhost" or _loopback_address(name)


def own_origins(port: int) -> set[str]:
    suffix = "" if port == 80 else f":{port}"
    return {f"http://127.0.0.1{suffix}", f"http://localhost{suffix}", f"http://[::1]{suffix}"}


class ManagementGuard:
    """ASGI middleware; everything outside `/api/*` passes straight through."""

    def __init__(self, app: ASGIApp, context: "GatewayContext") -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not is_management_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # the management API has none; refuse before anything else runs
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            log.info("Management API refused %s %s: %s", request.method, request.url.path, refusal)
            await error_response(403, refusal)(scope, receive, send)
            return
        if (request.method, request.url.path) not in PUBLIC:
            auth = self.context.auth
            state = await auth.state(self.context.store)
            if state.required and not auth.authorized(request):
                await error_response(401, login_required_message(),
                                     headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> str | None:
        port = self.context.address()[1]
        peer = request.client.host if request.client else None
        if peer is not None and not _loopback_address(peer):
            return "The management API answers only programs on this machine."
        host = request.headers.get("host", "")
        if not loopback_host(host):
            return (f"The management API answers only requests addressed to this machine (Host localhost, "
                    f"127.0.0.1 or [::1]), not {host[:100]!r}. Use http://127.0.0.1:{port}/api/….")
        origin = request.headers.get("origin")
        if origin is not None and origin.strip().lower().rstrip("/") not in own_origins(port):
            return (f"The management API does not answer web pages of other origins ({origin[:100]!r}); only "
                    f"Quotagate itself (http://127.0.0.1:{port}) may call it from a browser.")
        if request.headers.get("sec-fetch-site", "").strip().lower() in _REFUSED_FETCH_SITES:
            return "The management API does not answer requests made by pages of other sites."
        return None


def _loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or ip).is_loopback
