"""Answers reshaped to the plain wire format: Codex's stream collected for a client that did not stream,
Cloud Code's envelope taken off (also for a Gemini client streaming without `alt=sse`), and the model list
showing each connected subscription's models."""

from __future__ import annotations

import json

import httpx
import pytest

from core.gateway.executors.codex import codex_body, collected
from core.gateway.executors.claude import merged_betas

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


async def test_codex_answers_a_plain_request_by_collecting_its_stream(subscriptions, client) -> None:
    await subscriptions.add("codex")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "cx/gpt-5.1-codex"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["choices"][0]["message"]["content"] == "Hello from codex"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["prompt_tokens"] == 12 and answer["usage"]["completion_tokens"] == 6
    assert subscriptions.fakes["codex"].requests[-1].body["stream"] is True


async def test_codex_collects_the_output_items_when_the_final_event_leaves_output_empty(subscriptions,
                                                                                      client) -> None:
    await subscriptions.add("codex")
    subscriptions.fakes["codex"].empty_completed_output = True
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "cx/gpt-5", "tools": tools})
    assert response.status_code == 200, response.text
    call = response.json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert call["id"] == subscriptions.fakes["codex"].issued_call_ids[0]


async def test_a_responses_client_that_does_not_stream_gets_the_one_response_object(subscriptions, client) -> None:
    await subscriptions.add("codex")
    response = await client.post("/v1/responses", json={"model": "codex/gpt-5.1-codex-mini", "input": "hi",
                                                        "instructions": "Be brief.", "max_output_tokens": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["output"][0]["content"][0]["text"] == "Hello from codex"
    sent = subscriptions.fakes["codex"].requests[-1].body
    assert sent["instructions"] == "Be brief." and "max_output_tokens" not in sent
    assert sent["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]


def test_a_codex_stream_that_ends_before_its_final_event_is_a_broken_answer() -> None:
    started = b'event: response.created\ndata: {"type":"response.created","response":{"id":"r","output":[]}}\n\n'
    with pytest.raises(httpx.RemoteProtocolError, match="ended before response.completed"):
        collected(started)


def test_a_codex_error_event_becomes_a_failed_response() -> None:
    raw = b'event: error\ndata: {"type":"error","error":{"message":"usage limit reached","code":"usage_limit"}}\n\n'
    answer = json.loads(collected(raw))
    assert answer["status"] == "failed" and answer["error"]["message"] == "usage limit reached"


def test_codex_body_moves_system_turns_to_developer_and_drops_stored_references() -> None:
    body = codex_body({"model": "gpt-5", "input": [{"type": "message", "role": "system", "content": "rules"},
                                                   {"type": "item_reference", "id": "msg_1"}],
                       "reasoning": {"effort": "high"}, "truncation": "auto", "user": "u"})
    assert body["input"] == [{"type": "message", "role": "developer", "content": "rules"}]
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["instructions"] and body["stream"] is True and body["store"] is False
    assert not {"truncation", "user"} & set(body)


def test_the_oauth_beta_flag_leads_and_client_flags_follow_once() -> None:
    assert merged_betas(None) == "oauth-2025-04-20"
    assert merged_betas("a-1, oauth-2025-04-20,b-2,a-1") == "oauth-2025-04-20,a-1,b-2"


async def test_cloud_code_answers_lose_their_envelope(subscriptions, client) -> None:
    await subscriptions.add("gemini-cli")
    response = await client.post("/v1beta/models/gemini-cli/gemini-2.5-pro:generateContent",
                                 json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "response" not in body and body["candidates"][0]["content"]["parts"] == [{"text": "Hello from gemini-cli"}]
    assert body["usageMetadata"]["promptTokenCount"] == 12


async def test_a_gemini_client_streaming_without_sse_gets_a_json_array(subscriptions, client) -> None:
    await subscriptions.add("antigravity")
    response = await client.post("/v1beta/models/agy/gemini-3-pro-low:streamGenerateContent",
                                 json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    chunks = json.loads(response.content)
    assert "".join(part["text"] for chunk in chunks for part in chunk["candidates"][0]["content"]["parts"]) \
        == "Hello from antigravity"
    assert all("response" not in chunk for chunk in chunks)
    assert subscriptions.fakes["antigravity"].requests[-1].path == "/v1internal:streamGenerateContent?alt=sse"


async def test_the_model_list_shows_each_connected_subscriptions_models(subscriptions, client) -> None:
    await subscriptions.add("claude")
    await subscriptions.add("github")
    listed = {model["id"] for model in (await client.get("/v1/models")).json()["data"]}
    assert {"cc/claude-sonnet-4-5-20250929", "gh/gpt-4.1", "gh/claude-sonnet-4.5"} <= listed
    assert not any(model.startswith(("cx/", "agy/", "gemini-cli/")) for model in listed)  # not connected
