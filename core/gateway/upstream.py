"""Pooled keep-alive clients to providers, one per proxy.

Direct traffic uses httpx over the aiohttp transport: httpx's own pool is the bottleneck under concurrency
(DESIGN.md measures ~4x). Proxied traffic (http, https, socks5) and traffic that the environment's
HTTP(S)_PROXY/NO_PROXY may govern use httpx's own transport, which understands all of those.
"""

from __future__ import annotations

import asyncio
import os
import urllib.request

import httpx
from httpx_aiohttp import AiohttpTransport

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 300.0  # gap between two reads; long generations stream slowly but steadily
_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=128, keepalive_expiry=60)


def environment_has_proxy() -> bool:
    return bool(urllib.request.getproxies_environment().keys() - {"no"})


class UpstreamClients:
    def __init__(self, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 read_timeout: float = DEFAULT_READ_TIMEOUT) -> None:
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self._env_proxy = environment_has_proxy()
        self._clients: dict[str | None, httpx.AsyncClient] = {}

    def set_read_timeout(self, seconds: float) -> None:
        """New requests use the new timeout (httpx applies the client's timeout per request)."""
        self.timeout = httpx.Timeout(seconds, connect=self.timeout.connect, pool=self.timeout.pool)
        for client in self._clients.values():
            client.timeout = self.timeout

    def client_for(self, proxy: str | None) -> httpx.AsyncClient:
        """The shared client for `proxy` (None: direct, or the environment's proxy when one is set)."""
        client = self._clients.get(proxy)
        if client is None:
            client = self._clients[proxy] = self._make(proxy)
        return client

    def _make(self, proxy: str | None) -> httpx.AsyncClient:
        if proxy:
            return httpx.AsyncClient(proxy=proxy, timeout=self.timeout, limits=_LIMITS, trust_env=False)
        if self._env_proxy:
            return httpx.AsyncClient(timeout=self.timeout, limits=_LIMITS, trust_env=True)
        return httpx.AsyncClient(transport=AiohttpTransport(limits=_LIMITS), timeout=self.timeout,
                                 trust_env=False)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def describe_proxy_from_environment() -> str | None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        if os.environ.get(name):
            return name
    return None


def is_timeout(exc: httpx.HTTPError) -> bool:
    """Whether a transport error was a timeout. The aiohttp transport maps every connection error to
    ConnectTimeout, so the original exception decides where there is one."""
    cause = exc.__cause__
    if cause is not None and not isinstance(cause, httpx.HTTPError):
        return isinstance(cause, (asyncio.TimeoutError, TimeoutError))
    return isinstance(exc, httpx.TimeoutException)


def describe_transport_error(exc: httpx.HTTPError) -> str:
    """Words for the log and the client: 'timed out', or what the network said."""
    if is_timeout(exc):
        return "timed out"
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
