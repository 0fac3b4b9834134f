"""Fuzzing every route of the running gateway (CI size, well under a minute): hostile bodies, headers, query
strings, path ids, methods and content types, plus raw malformed HTTP over a socket. No answer of our own
making is a 5xx, every error is JSON in its route's shape, the process lives on and its memory stays bounded.
The long run is `python -m tests.bench.fuzz`."""

from __future__ import annotations

import gc

import httpx
import psutil

from core.services import CoreServices
from tests.fuzz.engine import Fuzzer, routes_of

REQUESTS = 1200
RSS_GROWTH_LIMIT = 150 * 2**20


async def test_every_route_survives_fuzzed_requests(services: CoreServices) -> None:
    process = psutil.Process()
    gc.collect()
    before = process.memory_info().rss
    fuzzer = Fuzzer(services.gateway_state.url, routes_of(services.gateway.app), seed=15)
    result = await fuzzer.run(REQUESTS, concurrency=8)
    await fuzzer.raw()
    assert result.failures == [], "\n".join(map(str, result.failures[:15]))
    assert result.requests == REQUESTS and result.raw_requests > 0
    assert len([s for s in result.statuses if s < 300]) > 0  # it reached real work, not only refusals
    async with httpx.AsyncClient(base_url=services.gateway_state.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/api/settings")).status_code in (200, 401)
    gc.collect()
    assert process.memory_info().rss - before < RSS_GROWTH_LIMIT
