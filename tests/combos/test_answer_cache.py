"""The exact cache for deterministic requests and idempotent retries."""

from __future__ import annotations

import asyncio

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
EXACT = {**CHAT, "temperature": 0}


async def connect(services, openai_via_fake, key: str = "sk-ok") -> None:
    await openai_via_fake(services, key)


async def test_a_deterministic_request_is_answered_from_the_cache_the_second_time(
        services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake)
    first = await client.post("/v1/chat/completions", json=EXACT)
    second = await client.post("/v1/chat/completions", json={"temperature": 0, **CHAT})  # key order differs
    assert (first.headers["x-quotagate-cache"], second.headers["x-quotagate-cache"]) == ("MISS", "HIT")
    assert second.json() == first.json() and len(upstream.requests) == 1
    assert second.headers["x-quotagate-provider"] == "openai"


async def test_a_request_with_temperature_is_never_cached(services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake)
    for _ in range(2):
        response = await client.post("/v1/chat/completions", json={**CHAT, "temperature": 0.7})
        assert "x-quotagate-cache" not in response.headers
    assert len(upstream.requests) == 2


async def test_the_no_cache_header_goes_to_the_provider(services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake)
    await client.post("/v1/chat/completions", json=EXACT)
    await client.post("/v1/chat/completions", json=EXACT, headers={"X-Quotagate-No-Cache": "true"})
    assert len(upstream.requests) == 2


async def test_errors_are_not_cached(services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake, "sk-status-400")
    for _ in range(2):
        assert (await client.post("/v1/chat/completions", json=EXACT)).status_code == 400
    assert len(upstream.requests) == 2


async def test_the_cache_is_shown_and_cleared(services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake)
    await client.post("/v1/chat/completions", json=EXACT)
    await client.post("/v1/chat/completions", json=EXACT)
    stats = (await client.get("/api/cache")).json()
    assert stats["semanticCache"]["memorySize"] == 1 and stats["semanticCache"]["hitRate"] == 0.5
    assert (await client.delete("/api/cache")).json()["semanticCache"]["memorySize"] == 0
    await client.post("/v1/chat/completions", json=EXACT)
    assert len(upstream.requests) == 2


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
        services, client, upstream, openai_via_fake) -> None:
    await connect(services, openai_via_fake)
    headers = {"Idempotency-Key": "retry-1"}
    first = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    second = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert second.headers["x-quotagate-idempotent"] == "true" and second.json() == first.json()
    assert len(upstream.requests) == 1
    other = await client.post("/v1/chat/completions", json=CHAT, headers={"X-Request-Id": "another"})
    assert "x-quotagate-idempotent" not in other.headers and len(upstream.requests) == 2


async def test_a_retry_arriving_while_the_first_runs_waits_for_it(services, client, upstream,
                                                                   openai_via_fake) -> None:
    await connect(services, openai_via_fake, "sk-slow")  # answers after 2 s
    headers = {"Idempotency-Key": "double-click"}
    first, second = await asyncio.gather(
        client.post("/v1/chat/completions", json=CHAT, headers=headers),
        client.post("/v1/chat/completions", json=CHAT, headers=headers))
    assert first.status_code == second.status_code == 200 and len(upstream.requests) == 1
    assert "true" in (first.headers.get("x-quotagate-idempotent"), second.headers.get("x-quotagate-idempotent"))
