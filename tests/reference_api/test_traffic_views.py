"""`/api/rate-limit` (one request-rate limit for every client together), `/api/sessions` (requests and
streams in flight) and `/api/rate-limits` (per account: the upstream's own `x-ratelimit-*` figures, cooldowns,
marks, breakers, and the keys' budgets)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core import settings
from tests.fakes.server import ThreadedServer
from tests.reference_api.conftest import CHAT, chat

RATE_HEADERS = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "497",
                "x-ratelimit-reset-requests": "120ms", "x-ratelimit-remaining-tokens": "29000"}


async def test_the_global_limit_is_off_until_set_and_refuses_nonsense(client, services) -> None:
    assert (await client.get("/api/rate-limit")).json() == {"requestsPerMinute": None, "enabled": False,
                                                            "lastMinute": 0}
    for bad in (0, -5, 2.5, "100", True):
        response = await client.put("/api/rate-limit", json={"requestsPerMinute": bad})
        assert response.status_code == 400 and "requestsPerMinute" in response.json()["error"]
    assert (await client.put("/api/rate-limit", json={"perHour": 5})).status_code == 400
    assert (await client.put("/api/rate-limit", json={"enabled": True})).status_code == 400
    assert services.store.get_setting(settings.KEY_RATE_LIMIT) is None


async def test_the_global_limit_counts_every_client_together(services, client, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    one = await services.configuration.create_key("one")
    two = await services.configuration.create_key("two")
    response = await client.put("/api/rate-limit", json={"requestsPerMinute": 2})
    assert response.json()["requestsPerMinute"] == 2 and response.json()["enabled"] is True
    url = services.gateway_state.url
    assert (await chat(url, one.key)).status_code == 200
    assert (await chat(url, two.key)).status_code == 200
    refused = await chat(url, one.key)
    assert refused.status_code == 429
    assert "at most 2 requests per minute from all clients together" in refused.json()["error"]["message"]
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    assert (await client.get("/api/rate-limit")).json()["lastMinute"] == 2
    assert (await client.put("/api/rate-limit", json={"requestsPerMinute": None})).json()["enabled"] is False
    assert (await chat(url, one.key)).status_code == 200


async def test_the_management_api_is_not_counted_by_the_global_limit(client) -> None:
    await client.put("/api/rate-limit", json={"requestsPerMinute": 1})
    for _ in range(3):
        assert (await client.get("/api/rate-limit")).status_code == 200


async def test_a_request_in_flight_is_listed_with_key_model_target_and_age(services, client, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-slow")  # the fake waits 2 s before answering
    key = await services.configuration.create_key("Cursor")
    pending = asyncio.ensure_future(chat(services.gateway_state.url, key.key))

    async def listed() -> list[dict]:
        return (await client.get("/api/sessions")).json()["sessions"]

    for _ in range(100):
        sessions = await listed()
        if sessions and sessions[0]["target"]:
            break
        await asyncio.sleep(0.02)
    [session] = sessions
    assert session["apiKeyId"] == key.id and session["model"] == "openai/gpt-4.1"
    assert session["path"] == "/v1/chat/completions"
    assert session["target"] == {"provider": "openai", "model": "gpt-4.1", "accountId": session["target"]["accountId"],
                                 "account": "account-0"}
    assert session["ageSeconds"] >= 0 and session["bytes"] == 0
    assert (await pending).status_code == 200
    assert await listed() == []  # gone once answered


async def test_a_stream_in_flight_counts_the_bytes_sent_so_far(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    upstream.chunk_delay = 0.3
    body = {**CHAT, "stream": True}
    async with httpx.AsyncClient(base_url=services.gateway_state.url, timeout=10) as http:
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            chunks = response.aiter_bytes()
            first = await chunks.__anext__()
            sessions = (await client.get("/api/sessions")).json()["sessions"]
            assert len(sessions) == 1 and sessions[0]["bytes"] >= len(first) > 0
            async for _ in chunks:
                pass
    for _ in range(100):  # the server side ends a moment after the client read the last byte
        if (await client.get("/api/sessions")).json()["sessions"] == []:
            break
        await asyncio.sleep(0.02)
    assert (await client.get("/api/sessions")).json()["total"] == 0


@pytest.fixture
def rate_limited_upstream(monkeypatch: pytest.MonkeyPatch):
    """An OpenAI-format provider that reports its own rate limits, as OpenAI does."""
    async def answer(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"id": "c", "object": "chat.completion", "created": 1, "model": body["model"],
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}},
                            headers=RATE_HEADERS)

    with ThreadedServer(Starlette(routes=[Route("/v1/chat/completions", answer, methods=["POST"])])) as server:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.openai.com={server.url}")
        yield server


async def test_rate_limits_show_the_upstreams_own_figures_per_account(services, client, rate_limited_upstream) -> None:
    account = services.accounts.create_account("openai", "work", "sk-work")
    idle = services.accounts.create_account("openai", "spare", "sk-spare", priority=5)
    await services.reload_gateway_config()
    assert (await chat(services.gateway_state.url)).status_code == 200
    answer = (await client.get("/api/rate-limits")).json()
    by_id = {a["connectionId"]: a for a in answer["accounts"]}
    assert by_id[account.id]["upstream"] == {"limit-requests": "500", "remaining-requests": "497",
                                             "reset-requests": "120ms", "remaining-tokens": "29000"}
    assert by_id[account.id]["seenAt"] is not None and by_id[account.id]["cooldowns"] == []
    assert by_id[idle.id]["upstream"] is None  # never asked yet
    assert answer["global"] == {"requestsPerMinute": None}
    assert "budgets" in answer and answer["breakers"] == []


async def test_rate_limits_show_cooldowns_and_marks(services, client, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-429", "sk-status-401")
    assert (await chat(services.gateway_state.url)).status_code in (429, 502)
    accounts = {a["name"]: a for a in (await client.get("/api/rate-limits")).json()["accounts"]}
    [cooldown] = accounts["account-0"]["cooldowns"]
    assert cooldown["model"] == "gpt-4.1" and "429" in cooldown["reason"] and cooldown["seconds"] > 0
    assert "401" in accounts["account-1"]["marked"]
