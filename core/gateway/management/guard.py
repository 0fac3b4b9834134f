"""Who may talk to the gateway while it listens on loopback: this machine's own programs, never a web page.

Every `/api/*` management request, wherever its route is registered, passes here first:
- the connection must come from a loopback address (the API stays local even when the gateway listens
  on the network for `/v1`);
- `Host` must name a loopback host (or one on the `gateway.allowed_hosts` list), so a DNS-rebinding page
  (evil.example resolving to 127.0.0.1) is refused even though the browser connects to us;
- an `Origin`, when sent, must be the gateway itself (or on the list), and `Sec-Fetch-Site`, when sent,
  must not say cross-site or same-site: a page on another origin cannot change settings (CSRF). Requests
  without them — curl, SDKs, the desktop — are fine;
- when the user requires login, a session token (see `auth`).

The gateway's own paths (`/v1`, `/v1beta`, and the Ollama paths `/api/chat`, `/api/tags`, …) get the same
Host rule while the gateway is bound to loopback, and refuse browser-style cross-site requests (an Origin
not allowed, or `Sec-Fetch-Site: cross-site`) unless they carry a valid client key: otherwise any web page
could spend the user's subscriptions with a text/plain POST. Their refusals are in the client's dialect.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import settings
from core.gateway import dialects
from core.gateway.management.auth import PUBLIC, login_required_message
from core.gateway.management.common import error_response
from core.gateway.requests import client_key_id

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)

_REFUSED_FETCH_SITES = {"cross-site", "same-site"}
# Ollama's API lives under /api too; these are gateway paths (no management login, the gateway's errors).
OLLAMA_PATHS = frozenset({"/api/chat", "/api/generate", "/api/tags", "/api/version", "/api/show", "/api/ps",
                          "/api/embed", "/api/embeddings"})


def is_management_path(path: str) -> bool:
    return (path == "/api" or path.startswith("/api/")) and path not in OLLAMA_PATHS


def is_gateway_path(path: str) -> bool:
    return path in OLLAMA_PATHS or path in ("/v1", "/v1beta") or path.startswith(("/v1/", "/v1beta/"))


def loopback_host(host_header: str) -> bool:
    """`localhost`, 127.0.0.0/8 or [::1], with or without a port."""
    name = _host_name(host_header)
    return name is not None and (name == "localhost" or _loopback_address(name))


def own_origins(port: int) -> set[str]:
    suffix = "" if port == 80 else f":{port}"
    return {f"http://127.0.0.1{suffix}", f"http://localhost{suffix}", f"http://[::1]{suffix}"}


class ManagementGuard:
    """ASGI middleware; paths that are neither management nor gateway paths (`/healthz`) pass through."""

    def __init__(self, app: ASGIApp, context: "GatewayContext") -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if is_management_path(path):
            await self._management(scope, receive, send)
        elif is_gateway_path(path) and settings.is_loopback_host(self.context.address()[0]):
            await self._gateway(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _management(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = await self._checked(scope, send, self._refusal, lambda message: error_response(403, message))
        if request is None:
            return
        if (request.method, request.url.path) not in PUBLIC:
            auth = self.context.auth
            state = await auth.state(self.context.store)
            if state.required and not auth.authorized(request):
                await error_response(401, login_required_message(),
                                     headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _gateway(self, scope: Scope, receive: Receive, send: Send) -> None:
        def refused(message: str) -> JSONResponse:
            body = dialects.for_path(scope["path"]).error_body(403, message, "forbidden_origin")
            return JSONResponse(body, status_code=403)

        if await self._checked(scope, send, self._gateway_refusal, refused) is not None:
            await self.app(scope, receive, send)

    async def _checked(self, scope: Scope, send: Send, refusal_of: Callable[[Request], str | None],
                       answer: Callable[[str], JSONResponse]) -> Request | None:
        """The request when the rules let it through; None when it was refused here (and answered)."""
        if scope["type"] == "websocket":  # neither API has one; refuse before anything else runs
            await send({"type": "websocket.close", "code": 1008})
            return None
        request = Request(scope)
        refusal = refusal_of(request)
        if refusal is None:
            return request
        log.info("Refused %s %s: %s", request.method, request.url.path, refusal)

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await answer(refusal)(scope, no_body, send)
        return None

    def _refusal(self, request: Request) -> str | None:
        port = self.context.address()[1]
        peer = request.client.host if request.client else None
        if peer is not None and not _loopback_address(peer):
            return "The management API answers only programs on this machine."
        host = request.headers.get("host", "")
        if not self._allowed_host(host):
            return (f"The management API answers only requests addressed to this machine (Host localhost, "
                    f"127.0.0.1 or [::1]), not {host[:100]!r}. Use http://127.0.0.1:{port}/api/….")
        origin = request.headers.get("origin")
        if origin is not None and not self._allowed_origin(origin, port):
            return (f"The management API does not answer web pages of other origins ({origin[:100]!r}); only "
                    f"Quotagate itself (http://127.0.0.1:{port}) may call it from a browser.")
        if request.headers.get("sec-fetch-site", "").strip().lower() in _REFUSED_FETCH_SITES:
            return "The management API does not answer requests made by pages of other sites."
        return None

    def _gateway_refusal(self, request: Request) -> str | None:
        port = self.context.address()[1]
        host = request.headers.get("host", "")
        if not self._allowed_host(host):
            return (f"This gateway listens on this machine only and answers requests addressed to it (Host "
                    f"localhost, 127.0.0.1 or [::1]), not {host[:100]!r}. Use http://127.0.0.1:{port}, or add the "
                    f"name to the allowedHosts setting (PUT /api/settings) if another server fronts the gateway.")
        origin = request.headers.get("origin")
        cross_site = (origin is not None and not self._allowed_origin(origin, port)) or \
            request.headers.get("sec-fetch-site", "").strip().lower() == "cross-site"
        if cross_site and not self._has_valid_key(request):
            return (f"Requests from web pages of other sites ({(origin or 'cross-site')[:100]!r}) need a client API "
                    f"key (Authorization: Bearer <key>), or the page's origin in the allowedHosts setting; a page "
                    f"must not spend your subscriptions on its own.")
        return None

    def _allowed_host(self, host_header: str) -> bool:
        if loopback_host(host_header):
            return True
        allowed = self.context.allowed_hosts
        host = host_header.strip().lower()
        return bool(allowed) and (host in allowed or _host_name(host) in allowed)

    def _allowed_origin(self, origin: str, port: int) -> bool:
        origin = origin.strip().lower().rstrip("/")
        if origin in own_origins(port):
            return True
        allowed = self.context.allowed_hosts
        return bool(allowed) and (origin in allowed or urlsplit(origin).netloc in allowed)

    def _has_valid_key(self, request: Request) -> bool:
        try:
            return client_key_id(request, self.context.runtime.config.key_hashes, False) is not None
        except Exception:  # a malformed credential is no credential
            return False


def _host_name(host_header: str) -> str | None:
    """The name part of a Host header (`[::1]:80` -> `::1`), or None when it is malformed."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return name
    name, colon, port = host.partition(":")
    if colon and not port.isdigit():
        return None
    return name


def _loopback_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return (mapped or ip).is_loopback
