"""Pooled keep-alive clients to providers, one per proxy.

Direct traffic uses httpx over the aiohttp transport: httpx's own pool is the bottleneck under concurrency
(DESIGN.md measures ~4x). Proxied traffic (http, https, socks5) and traffic that the environment's
HTTP(S)_PROXY/NO_PROXY may govern use httpx's own transport, which understands all of those.

The relay's own requests go through `sender_for()`. For direct traffic that is aiohttp with no httpx in
between: httpx's request/response objects, cookie jar, auth and redirect layers cost as much CPU per
request as the rest of the gateway (docs/BENCHMARKS.md). Its answers and errors look like httpx's
(`status_code`, `headers`, `aread`, `aiter_bytes`, `aclose`; `httpx.HTTPError`), so the relay does not care.
"""

from __future__ import annotations

import asyncio
import os
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from core.net.client import USER_AGENT

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 300.0  # gap between two reads; long generations stream slowly but steadily
_LIMITS = httpx.Limits(max_connections=512, max_keepalive_connections=128, keepalive_expiry=60)


def environment_has_proxy() -> bool:
    return bool(urllib.request.getproxies_environment().keys() - {"no"})


class UpstreamResponse(Protocol):
    status_code: int
    headers: Mapping[str, str]

    async def aread(self) -> bytes: ...
    def aiter_bytes(self) -> AsyncIterator[bytes]: ...
    async def aclose(self) -> None: ...


class UpstreamClients:
    def __init__(self, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
                 read_timeout: float = DEFAULT_READ_TIMEOUT) -> None:
        self.timeout = httpx.Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout)
        self._env_proxy = environment_has_proxy()
        self._clients: dict[str | None, httpx.AsyncClient] = {}
        self._direct: _AiohttpSender | None = None

    def set_timeouts(self, connect: float, read: float) -> None:
        """New requests use the new timeouts (httpx applies the client's timeout per request)."""
        self.timeout = httpx.Timeout(read, connect=connect, pool=connect)
        for client in self._clients.values():
            client.timeout = self.timeout
        if self._direct is not None:
            self._direct.timeout = self.timeout

    def client_for(self, proxy: str | None) -> httpx.AsyncClient:
        """The shared client for `proxy` (None: direct, or the environment's proxy when one is set)."""
        client = self._clients.get(proxy)
        if client is None:
            client = self._clients[proxy] = self._make(proxy)
        return client

    def sender_for(self, proxy: str | None) -> "_AiohttpSender | _HttpxSender":
        """What the relay sends a provider request with: bare aiohttp when nothing may proxy it."""
        if proxy or self._env_proxy:
            return _HttpxSender(self.client_for(proxy))
        if self._direct is None:
            self._direct = _AiohttpSender(self.timeout)
        return self._direct

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
        if self._direct is not None:
            direct, self._direct = self._direct, None
            await direct.aclose()


class _HttpxSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> UpstreamResponse:
        request = self.client.build_request("POST", url, content=body, headers=headers)
        return await self.client.send(request, stream=True)


class _AiohttpSender:
    """POSTs straight through aiohttp's pool; no cookies are kept (accounts must not share them)."""

    def __init__(self, timeout: httpx.Timeout) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> UpstreamResponse:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=_LIMITS.max_connections or 0, limit_per_host=0,
                                             keepalive_timeout=_LIMITS.keepalive_expiry or 15)
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                                  headers={"User-Agent": USER_AGENT})
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout.connect, sock_read=self.timeout.read)
        try:
            response = await self._session.post(url, data=body, headers=headers, timeout=timeout,
                                                allow_redirects=False)
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except asyncio.TimeoutError as exc:  # no answer within the read timeout
            raise httpx.ReadTimeout(str(exc)) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc)) from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class _AiohttpResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout("the provider stopped sending") from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc)) from exc

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout("the provider stopped sending") from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc)) from exc

    async def aclose(self) -> None:
        self._response.release()


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
