"""The real model ids of custom endpoints, read from each endpoint's own model list.

`/v1/models` would otherwise list a custom endpoint as `prefix/*`. Lists are fetched in the background when
the configuration changes (never on the request path), kept while the endpoint's address, format and key
stay the same, and a failed read keeps the last good list.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from core.gateway.accounts import CustomEndpoint
from core.gateway.checks import model_ids, models_path
from core.gateway.routing import RoutingTable, Upstream
from core.gateway.upstream import UpstreamClients, describe_transport_error

log = logging.getLogger(__name__)

LIST_TIMEOUT = 10.0


class EndpointModels:
    def __init__(self, clients: UpstreamClients) -> None:
        self._clients = clients
        self._ids: dict[str, list[str]] = {}
        self._read_for: dict[str, tuple[object, ...]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def ids(self, prefix: str) -> list[str] | None:
        """The endpoint's model ids, or None while unknown."""
        return self._ids.get(prefix)

    def refresh(self, table: RoutingTable) -> None:
        """Read the lists of endpoints that are new or changed (call on the event loop)."""
        for prefix in list(self._ids):
            if prefix not in table.endpoints:
                self._ids.pop(prefix, None)
                self._read_for.pop(prefix, None)
        for prefix, endpoint in table.endpoints.items():
            fingerprint = _fingerprint(endpoint)
            if self._read_for.get(prefix) == fingerprint:
                continue
            self._read_for[prefix] = fingerprint
            upstream = table.resolve(f"{prefix}/-").upstreams[0]
            task = asyncio.get_running_loop().create_task(self._read(prefix, upstream))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until every pending read has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _read(self, prefix: str, upstream: Upstream) -> None:
        client = self._clients.client_for(upstream.proxy)
        try:
            response = await client.get(upstream.base_url + models_path(upstream.wire_format),
                                        headers=upstream.headers, timeout=LIST_TIMEOUT)
        except httpx.HTTPError as exc:
            log.info("Custom endpoint %r: could not list its models: %s", prefix, describe_transport_error(exc))
            return
        if response.status_code >= 400:
            log.info("Custom endpoint %r: its model list answered HTTP %d", prefix, response.status_code)
            return
        ids = model_ids(response)
        if ids:
            self._ids[prefix] = ids


def _fingerprint(endpoint: CustomEndpoint) -> tuple[object, ...]:
    return (endpoint.base_url, endpoint.api_format, endpoint.api_key, tuple(sorted(endpoint.headers.items())))
