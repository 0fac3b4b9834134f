"""/v1/chat/completions and /v1/embeddings through the gateway to a real fake provider on loopback."""

from __future__ import annotations

import asyncio
import json
import time


from core import settings
from core.store.models import UsageRow
from tests.fakes.openai_upstream import STREAM_WORDS

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]


async def test_a_completion_passes_through_with_the_model_renamed_to_what_was_asked(
        services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "openai/gpt-4.1"
    assert body["choices"][0]["message"]["content"] == "".join(STREAM_WORDS)
    assert body["system_fingerprint"] == "fp_fake"  # fields the gateway does not know come back untouched
    assert upstream.requests[-1].body["model"] == "gpt-4.1"
    assert upstream.requests[-1].headers["authorization"] == "Bearer sk-ok"
    assert response.headers["x-quotagate-provider"] == "openai"
    assert response.headers["x-quotagate-account"] == "account-0"


async def test_unknown_request_fields_reach_the_provider_untouched(services, client, upstream,
                                                                    openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    extra = {"temperature": 0.2, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
             "vendor_extension": {"nested": [1, "two", None]}, "seed": 7}
    await client.post("/v1/chat/completions", json={**CHAT, **extra})
    sent = upstream.requests[-1].body
    for key, value in extra.items():
        assert sent[key] == value


async def test_a_stream_passes_through_whole_events_in_order(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    async with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = (await response.aread()).decode()
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == "".join(STREAM_WORDS)
    assert {c["model"] for c in chunks} == {"openai/gpt-4.1"}
    assert text.count("\n\n") == len(payloads)  # every event whole, none merged or split


async def test_a_stream_is_relayed_as_it_arrives_not_buffered(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    upstream.chunk_delay = 0.25
    started = time.perf_counter()
    arrivals = []
    async with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                arrivals.append(time.perf_counter() - started)
    assert arrivals[0] < 0.25 * len(STREAM_WORDS) / 2
    assert arrivals[-1] - arrivals[0] >= 0.25 * (len(STREAM_WORDS) - 1) * 0.8


async def test_a_client_that_disconnects_cancels_the_upstream_stream(services, client, upstream,
                                                                     openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    upstream.chunk_delay = 0.3
    async with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                break  # the user pressed stop
    deadline = time.monotonic() + 5
    while upstream.closed_early_count == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert upstream.closed_early_count == 1


async def test_an_upstream_stream_broken_midway_ends_with_an_error_event(services, client, upstream,
                                                                         openai_via_fake) -> None:
    await openai_via_fake(services, "sk-break")
    response = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert error["code"] == "stream_interrupted"
    assert "incomplete" in error["message"]
    assert len(payloads) == 2 + 2  # the two chunks sent before the break, the error, [DONE]


async def test_a_provider_rejection_is_returned_as_the_provider_sent_it(services, client, upstream,
                                                                        openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-400", "sk-ok")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "fake_400"
    assert len(upstream.requests) == 1  # a malformed request is not retried on another account


async def test_a_plain_text_provider_error_becomes_an_openai_shaped_error(services, client, upstream,
                                                                          openai_via_fake) -> None:
    await openai_via_fake(services, "sk-text-502")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    error = response.json()["error"]
    assert "upstream exploded" in error["message"]
    assert (error["type"], error["code"]) == ("api_error", "upstream_502")


async def test_a_rate_limited_account_falls_back_to_the_next_one(services, client, upstream,
                                                                 openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-429", "sk-ok")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert response.headers["x-quotagate-account"] == "account-1"
    assert [r.headers["authorization"] for r in upstream.requests] == ["Bearer sk-status-429", "Bearer sk-ok"]


async def test_a_stream_also_falls_back_before_the_first_byte(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-503", "sk-ok")
    response = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
    assert response.status_code == 200 and sse_payloads(response.text)[-1] == "[DONE]"


async def test_when_every_account_fails_the_error_names_each_failure(services, client, upstream,
                                                                     openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-429", "sk-status-503")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert "account-0: HTTP 429" in message and "account-1: HTTP 503" in message


async def test_an_upstream_that_does_not_answer_in_time_is_a_504(services, client, upstream, openai_via_fake) -> None:
    services.store.set_setting(settings.KEY_UPSTREAM_TIMEOUT, 1)  # sk-slow answers after 2 s
    await openai_via_fake(services, "sk-slow")
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 504
    assert "no answer within 1 s" in response.json()["error"]["message"]  # the stage that failed, named


async def test_an_unreachable_endpoint_is_a_502(services, client) -> None:
    services.accounts.create_endpoint("down", "Down", "http://127.0.0.1:9/v1")
    await services.reload_gateway_config()
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "down/llama3"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unavailable"


async def test_a_custom_endpoint_is_reached_by_its_prefix_with_its_headers(services, client, upstream) -> None:
    services.accounts.create_endpoint("mynode", "My node", f"{upstream.url}/v1", headers={"X-Team": "blue"},
                                  api_key="sk-ok")
    await services.reload_gateway_config()
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "mynode/llama3"})
    assert response.status_code == 200 and response.json()["model"] == "mynode/llama3"
    assert upstream.requests[-1].body["model"] == "llama3"
    assert upstream.requests[-1].headers["x-team"] == "blue"


async def test_an_alias_routes_a_bare_name(services, client, upstream, openai_via_fake) -> None:
    services.accounts.set_alias("fast", "openai/gpt-4.1-mini")
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "fast"})
    assert response.json()["model"] == "fast"
    assert upstream.requests[-1].body["model"] == "gpt-4.1-mini"


async def test_the_provider_scoped_route_adds_a_missing_prefix(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/providers/openai/chat/completions", json={**CHAT, "model": "gpt-4.1"})
    assert response.status_code == 200
    assert upstream.requests[-1].body["model"] == "gpt-4.1"


async def test_the_provider_scoped_route_refuses_another_providers_model(services, client, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/providers/openai/chat/completions", json={**CHAT, "model": "ds/deepseek-chat"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_provider_mismatch"


async def test_embeddings_pass_through(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/embeddings", json={"model": "openai/text-embedding-3-small",
                                                         "input": ["a", "b"]})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
    assert upstream.requests[-1].path == "/v1/embeddings"


async def test_usage_is_recorded_with_tokens_latency_and_cost(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.post("/v1/chat/completions", json=CHAT)
    await client.post("/v1/chat/completions", json={**CHAT, "stream": True,
                                                   "stream_options": {"include_usage": True}})
    assert services.store.writer.flush(10)
    rows = list(UsageRow.select().order_by(UsageRow.id))
    assert len(rows) == 2
    plain, streamed = rows
    assert (plain.provider, plain.model, plain.status) == ("openai", "gpt-4.1", 200)
    assert (plain.tokens_in, plain.tokens_out, plain.tokens_cached, plain.tokens_reasoning) == (12, 6, 4, 2)
    assert plain.cost > 0 and plain.latency_ms > 0
    assert plain.account_id is not None
    assert (streamed.tokens_in, streamed.tokens_out) == (9, 6)
    assert streamed.ttft_ms is not None and streamed.ttft_ms <= streamed.latency_ms


async def test_models_lists_connected_providers_endpoints_and_aliases(services, client, upstream,
                                                                      openai_via_fake) -> None:
    services.accounts.create_endpoint("mynode", "My node", f"{upstream.url}/v1")
    services.accounts.set_alias("fast", "openai/gpt-4.1-mini")
    await openai_via_fake(services, "sk-ok")
    await services.runtime.endpoint_models.wait()
    body = (await client.get("/v1/models")).json()
    ids = {m["id"] for m in body["data"]}
    assert body["object"] == "list"
    # a custom endpoint is listed with the model ids its own /models answers
    assert "openai/gpt-4.1" in ids and "fast" in ids and "mynode/fake-model" in ids and "mynode/*" not in ids
    assert all(m["object"] == "model" for m in body["data"])
