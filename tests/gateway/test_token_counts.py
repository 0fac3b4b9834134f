"""Token counts: the provider's own count where its API counts (Anthropic, Gemini), else the estimate."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer


class CountingProvider:
    """Anthropic's count_tokens and Gemini's countTokens, counting one token per character of the JSON."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.failing = False

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages/count_tokens", self.anthropic, methods=["POST"]),
                                 Route("/v1beta/models/{target:path}", self.gemini, methods=["POST"])])

    async def anthropic(self, request: Request) -> Response:
        body = await request.json()
        self.received.append((request.url.path, body, dict(request.headers)))
        if self.failing or "max_tokens" in body or "stream" in body:  # the real API refuses these here
            return JSONResponse({"type": "error", "error": {"type": "invalid_request_error", "message": "no"}},
                                status_code=400)
        return JSONResponse({"input_tokens": 4242})

    async def gemini(self, request: Request) -> Response:
        body = await request.json()
        self.received.append((request.url.path, body, dict(request.headers)))
        return JSONResponse({"totalTokens": 777})


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch):
    fake = CountingProvider()
    with ThreadedServer(fake.app()) as server:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.anthropic.com={server.url},"
                                                 f"generativelanguage.googleapis.com={server.url}")
        yield fake


async def connect(services) -> None:
    services.accounts.create_account("anthropic", "claude", "sk-ant-count")
    services.accounts.create_account("gemini", "google", "gemini-count")
    await services.reload_gateway_config()


ASK = {"messages": [{"role": "user", "content": "How many tokens is this?"}], "system": "Be brief."}


async def test_an_anthropic_count_comes_from_anthropic_without_generation_fields(services, client,
                                                                                 counting) -> None:
    await connect(services)
    response = await client.post("/v1/messages/count_tokens",
                                 json={**ASK, "model": "anthropic/claude-sonnet-4-5-20250929"})
    assert response.status_code == 200 and response.json() == {"input_tokens": 4242}
    path, body, headers = counting.received[-1]
    assert body["model"] == "claude-sonnet-4-5-20250929" and body["system"] == "Be brief."
    assert headers["x-api-key"] == "sk-ant-count"


async def test_a_count_for_a_gemini_model_asked_in_anthropic_form_comes_from_gemini(services, client,
                                                                                    counting) -> None:
    await connect(services)
    response = await client.post("/v1/messages/count_tokens", json={**ASK, "model": "gemini/gemini-2.5-flash"})
    assert response.json() == {"input_tokens": 777}
    path, body, _ = counting.received[-1]
    assert path == "/v1beta/models/gemini-2.5-flash:countTokens"
    assert body["generateContentRequest"]["model"] == "models/gemini-2.5-flash"
    assert body["generateContentRequest"]["contents"][0]["parts"] == [{"text": "How many tokens is this?"}]


async def test_a_gemini_client_count_comes_from_anthropic_when_the_model_is_claude(services, client,
                                                                                   counting) -> None:
    await connect(services)
    response = await client.post("/v1beta/models/anthropic/claude-sonnet-4-5-20250929:countTokens",
                                 json={"contents": [{"role": "user", "parts": [{"text": "hello"}]}]})
    assert response.json() == {"totalTokens": 4242}


async def test_a_failing_provider_count_falls_back_to_the_estimate(services, client, counting) -> None:
    await connect(services)
    counting.failing = True
    response = await client.post("/v1/messages/count_tokens",
                                 json={**ASK, "model": "anthropic/claude-sonnet-4-5-20250929"})
    assert response.status_code == 200
    assert 0 < response.json()["input_tokens"] < 100  # the estimate of a short question, not 4242
