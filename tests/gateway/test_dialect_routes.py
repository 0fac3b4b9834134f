"""Each dialect's routes: errors in the client's own shape, model lists, token counts, and the request
path's edges (Retry-After, echoed keys, a stalled first byte, what cannot be translated)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core import settings
from tests.fakes.server import ThreadedServer

ECHOED_KEY = "sk-echo-1234567890abcdefghij"


class QuirkyOpenAI:
    """An OpenAI-format provider whose behaviour is chosen by the key: sk-retry answers 429 with
    Retry-After, sk-echo a 401 that echoes the key, sk-stall sends headers but no first byte for 5 s, sk-empty
    streams nothing, sk-hang
    answers after 5 s (and counts callers that hang up before)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.abandoned = 0  # sk-hang calls whose caller went away before the answer

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self.chat, methods=["POST"])])

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.bodies.append(body)
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key == "sk-retry":
            return JSONResponse({"error": {"message": "Rate limit reached", "type": "requests", "code": None}},
                                status_code=429, headers={"retry-after": "7"})
        if key.startswith("sk-echo"):
            return JSONResponse({"error": {"message": f"Incorrect API key provided: {key}.",
                                           "type": "invalid_request_error", "code": "invalid_api_key"}},
                                status_code=401)
        if key == "sk-hang":  # uvicorn does not cancel a handler whose caller left: look for it
            for _ in range(100):
                await asyncio.sleep(0.05)
                if await request.is_disconnected():
                    self.abandoned += 1
                    return Response(status_code=499)
        if key == "sk-empty" and body.get("stream"):
            return Response(b"", media_type="text/event-stream")
        if body.get("stream"):
            return StreamingResponse(self._stream(body["model"], stall=key == "sk-stall"),
                                     media_type="text/event-stream")
        return JSONResponse({"id": "chatcmpl-q", "object": "chat.completion", "created": 1, "model": body["model"],
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                          "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})

    async def _stream(self, model: str, stall: bool) -> AsyncIterator[bytes]:
        if stall:
            await asyncio.sleep(5)
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                 "choices": [{"index": 0, "delta": {"role": "assistant", "content": "streamed"},
                              "finish_reason": None}]}
        end = {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode()


@pytest.fixture
def quirky(monkeypatch: pytest.MonkeyPatch):
    fake = QuirkyOpenAI()
    with ThreadedServer(fake.app()) as server:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.openai.com={server.url}")
        yield fake


async def connect(services, *keys: str) -> None:
    for priority, key in enumerate(keys):
        services.accounts.create_account("openai", f"account-{priority}", key, priority=priority)
    await services.reload_gateway_config()


ANTHROPIC_ASK = {"model": "openai/gpt-4.1", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


# --- errors in the client's own shape ------------------------------------------------------------------


def anthropic_error(response) -> dict[str, Any]:
    body = response.json()
    assert body["type"] == "error" and set(body["error"]) >= {"type", "message"}
    return body["error"]


def gemini_error(response) -> dict[str, Any]:
    error = response.json()["error"]
    assert error["code"] == response.status_code and isinstance(error["status"], str)
    return error


async def test_a_malformed_anthropic_request_gets_an_anthropic_error_naming_the_field(services, client) -> None:
    response = await client.post("/v1/messages", json={"model": "openai/gpt-4.1", "messages": []})
    assert response.status_code == 400
    error = anthropic_error(response)
    assert error["type"] == "invalid_request_error" and "max_tokens" in error["message"]


async def test_invalid_json_on_the_messages_route_is_an_anthropic_error(services, client) -> None:
    response = await client.post("/v1/messages", content=b"{not json")
    assert response.status_code == 400 and "not valid JSON" in anthropic_error(response)["message"]


async def test_a_malformed_gemini_request_gets_a_google_error_naming_the_field(services, client) -> None:
    response = await client.post("/v1beta/models/openai/gpt-4.1:generateContent", json={"contents": "hi"})
    assert response.status_code == 400
    error = gemini_error(response)
    assert error["status"] == "INVALID_ARGUMENT" and "contents" in error["message"]


async def test_a_malformed_ollama_request_gets_an_ollama_error(services, client) -> None:
    response = await client.post("/api/chat", json={"model": "openai/gpt-4.1", "messages": "hi"})
    assert response.status_code == 400
    assert "messages" in response.json()["error"]


async def test_a_malformed_responses_request_gets_an_openai_error_naming_the_field(services, client) -> None:
    response = await client.post("/v1/responses", json={"model": "openai/gpt-4.1", "input": 42})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "input" in error["message"]


async def test_previous_response_id_is_refused_saying_to_send_the_whole_conversation(services, client) -> None:
    response = await client.post("/v1/responses", json={"model": "openai/gpt-4.1", "input": "hi",
                                                        "previous_response_id": "resp_1"})
    assert response.status_code == 400
    assert "previous_response_id" in response.json()["error"]["message"]


async def test_an_unknown_model_is_refused_in_each_dialects_shape(services, client) -> None:
    anthropic = await client.post("/v1/messages", json={**ANTHROPIC_ASK, "model": "nope/x"})
    assert anthropic.status_code == 404 and "nope" in anthropic_error(anthropic)["message"]
    gemini = await client.post("/v1beta/models/nope/x:generateContent",
                               json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert gemini.status_code == 404 and gemini_error(gemini)["status"] == "NOT_FOUND"
    ollama = await client.post("/api/chat", json={"model": "nope/x", "messages": [{"role": "user", "content": "hi"}]})
    assert ollama.status_code == 404 and "nope" in ollama.json()["error"]


async def test_an_unknown_gemini_method_is_a_google_404(services, client) -> None:
    response = await client.post("/v1beta/models/openai/gpt-4.1:embedEverything", json={})
    assert response.status_code == 404 and gemini_error(response)["status"] == "NOT_FOUND"


async def test_a_model_name_with_a_line_break_is_refused_before_any_provider_is_called(services, client,
                                                                                      quirky) -> None:
    await connect(services, "sk-ok")
    response = await client.post("/v1/chat/completions",
                                 json={"model": "openai/a\r\nb", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_model"
    assert quirky.bodies == []


async def test_a_model_name_that_cannot_be_a_header_still_gets_its_answer(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    response = await client.post("/v1/chat/completions",
                                 json={"model": "openai/模型", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and response.json()["model"] == "openai/模型"
    assert quirky.bodies[-1]["model"] == "模型"
    assert response.headers["x-quotagate-model"] == "??"


# --- the request path's edges --------------------------------------------------------------------------


async def test_retry_after_reaches_the_client_in_its_own_dialect(services, client, quirky) -> None:
    await connect(services, "sk-retry")
    response = await client.post("/v1/messages", json=ANTHROPIC_ASK)
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    error = anthropic_error(response)
    assert error["type"] == "rate_limit_error" and "Rate limit reached" in error["message"]


async def test_retry_after_survives_when_every_account_is_limited(services, client, quirky) -> None:
    await connect(services, "sk-retry", "sk-retry")
    response = await client.post("/v1/chat/completions",
                                 json={"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    assert response.headers["retry-after"] == "7"


async def test_a_key_the_provider_echoes_back_is_masked(services, client, quirky) -> None:
    await connect(services, ECHOED_KEY)
    for path, body in (("/v1/chat/completions", {"model": "openai/gpt-4.1",
                                                 "messages": [{"role": "user", "content": "hi"}]}),
                       ("/v1/messages", ANTHROPIC_ASK)):
        services.runtime.resilience.reset()  # a 401 marks the account; this test is about the words
        response = await client.post(path, json=body)
        assert response.status_code == 401
        assert ECHOED_KEY not in response.text and "Incorrect API key provided" in response.text


async def test_a_stream_whose_first_byte_stalls_falls_back_to_the_next_account(services, client, quirky) -> None:
    services.store.set_setting(settings.KEY_FIRST_BYTE_TIMEOUT, 1)  # sk-stall waits 5 s
    await connect(services, "sk-stall", "sk-ok")
    response = await client.post("/v1/chat/completions", json={"model": "openai/gpt-4.1", "stream": True,
                                                               "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and "streamed" in response.text
    assert response.headers["x-quotagate-account"] == "account-1"


async def test_an_empty_stream_falls_back_to_the_next_account(services, client, quirky) -> None:
    await connect(services, "sk-empty", "sk-ok")
    response = await client.post("/v1/chat/completions", json={"model": "openai/gpt-4.1", "stream": True,
                                                               "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and "streamed" in response.text
    assert response.headers["x-quotagate-failures"] == "account-0: answered an empty stream"


async def test_a_client_that_abandons_a_plain_request_cancels_the_upstream_call(services, client, quirky) -> None:
    await connect(services, "sk-hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v1/chat/completions", timeout=0.5,
                          json={"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    for _ in range(100):
        if quirky.abandoned:
            break
        await asyncio.sleep(0.05)
    assert quirky.abandoned == 1


async def test_quit_does_not_wait_for_a_request_whose_client_left(services, client, quirky, caplog) -> None:
    await connect(services, "sk-hang")
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v1/chat/completions", timeout=0.3,
                          json={"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    started = time.perf_counter()
    await services.stop()
    assert time.perf_counter() - started < 2  # the upstream call was cancelled, nothing left to drain
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_a_built_in_tool_offer_is_left_out_for_another_format_and_said_so(services, client,
                                                                                quirky) -> None:
    await connect(services, "sk-ok")
    tools = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
             {"name": "read_file", "description": "Read a file", "input_schema": {"type": "object"}}]
    response = await client.post("/v1/messages", json={**ANTHROPIC_ASK, "tools": tools})
    assert response.status_code == 200 and response.headers["x-quotagate-dropped-tools"] == "web_search"
    assert [tool["function"]["name"] for tool in quirky.bodies[-1]["tools"]] == ["read_file"]


async def test_a_document_the_other_format_cannot_carry_is_refused_not_dropped(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "contract"}}
    response = await client.post("/v1/messages", json={**ANTHROPIC_ASK, "messages": [
        {"role": "user", "content": [document, {"type": "text", "text": "Summarise"}]}]})
    assert response.status_code == 400
    assert "document" in anthropic_error(response)["message"]
    assert quirky.bodies == []


async def test_an_anthropic_client_reaches_an_openai_provider(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    response = await client.post("/v1/messages", json={**ANTHROPIC_ASK, "system": "Be brief."})
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "message" and answer["model"] == "openai/gpt-4.1"
    assert answer["content"] == [{"type": "text", "text": "ok"}]
    assert answer["usage"]["input_tokens"] == 3 and answer["usage"]["output_tokens"] == 1
    sent = quirky.bodies[-1]
    assert sent["model"] == "gpt-4.1" and sent["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_an_anthropic_client_streams_from_an_openai_provider(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    response = await client.post("/v1/messages", json={**ANTHROPIC_ASK, "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [line.removeprefix("event: ") for line in response.text.split("\n") if line.startswith("event: ")]
    assert events == ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                      "message_delta", "message_stop"]
    assert '"text":"streamed"' in response.text.replace(" ", "")


# --- model lists and token counts ----------------------------------------------------------------------


async def test_gemini_and_ollama_model_lists_show_the_routable_models(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    services.accounts.set_alias("fast", "openai/gpt-4.1-mini")
    await services.reload_gateway_config()
    gemini = {m["name"]: m for m in (await client.get("/v1beta/models")).json()["models"]}
    assert "generateContent" in gemini["models/openai/gpt-4.1"]["supportedGenerationMethods"]
    assert gemini["models/openai/text-embedding-3-small"]["supportedGenerationMethods"] == ["embedContent"]
    tags = {m["name"] for m in (await client.get("/api/tags")).json()["models"]}
    assert "openai/gpt-4.1" in tags and "fast" in tags
    assert not any("embedding" in name for name in tags)
    assert (await client.get("/api/version")).json()["version"]


async def test_one_gemini_model_can_be_looked_up(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    found = await client.get("/v1beta/models/openai/gpt-4.1")
    assert found.status_code == 200 and found.json()["name"] == "models/openai/gpt-4.1"
    missing = await client.get("/v1beta/models/openai/none")
    assert missing.status_code == 404 and gemini_error(missing)["status"] == "NOT_FOUND"


async def test_count_tokens_estimates_without_calling_the_provider(services, client, quirky) -> None:
    await connect(services, "sk-ok")
    short = await client.post("/v1/messages/count_tokens",
                              json={"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    long = await client.post("/v1/messages/count_tokens",
                             json={"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi " * 400}]})
    assert short.status_code == 200 and 0 < short.json()["input_tokens"] < long.json()["input_tokens"]
    gemini = await client.post("/v1beta/models/openai/gpt-4.1:countTokens",
                               json={"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]})
    assert gemini.status_code == 200 and gemini.json()["totalTokens"] > 0
    assert quirky.bodies == []
