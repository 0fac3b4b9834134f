"""The one factory for outbound `httpx.AsyncClient`s.

Every outbound request of Quotagate is built here so that `QUOTAGATE_HOST_MAP` applies to all of them
(tests and mirrors redirect a host once, for the whole program) and every request identifies itself and
times out the same way.

The host map is applied by a request event hook rather than a transport wrapper: httpx runs request hooks
before it picks a transport, so a rewritten URL still goes through the proxy (or no proxy) that its *new*
origin calls for, and redirects are rewritten too because hooks run for every hop. Callers can still pass
their own transport (e.g. the faster aiohttp one for the gateway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from core import __version__
from core.net.host_map import HostMap

DEFAULT_TIMEOUT = 10.0
USER_AGENT = f"Quotagate/{__version__}"

RequestHook = Callable[[httpx.Request], Awaitable[None]]


def create_client(
    *,
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    host_map: HostMap | None = None,
    headers: Mapping[str, str] | None = None,
    event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    """An `AsyncClient` whose requests follow the host map (from the environment unless given).

    Extra keyword arguments go to `httpx.AsyncClient` unchanged (transport, limits, follow_redirects, …).
    Raises `HostMapError` when `QUOTAGATE_HOST_MAP` is malformed: a silent fallback would send test or
    mirror traffic to the real service.
    """
    mapping = HostMap.from_environment() if host_map is None else host_map
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
    if mapping:
        hooks["request"].append(host_map_hook(mapping))
    for name, extra in (event_hooks or {}).items():
        hooks.setdefault(name, []).extend(extra)
    merged_headers = {"User-Agent": USER_AGENT, **dict(headers or {})}
    return httpx.AsyncClient(timeout=timeout, headers=merged_headers, event_hooks=hooks, **kwargs)


def host_map_hook(mapping: HostMap) -> RequestHook:
    """A request hook that points requests for mapped hosts at their replacement origin."""

    async def rewrite(request: httpx.Request) -> None:
        url = request.url
        target = mapping.target_for(url.host, url.port, url.scheme)
        if target is None:
            return
        original_host = request.headers.get("Host", url.netloc.decode("ascii"))
        request.url = url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
        request.headers["Host"] = target.netloc
        request.headers["X-Forwarded-Host"] = original_host

    return rewrite
