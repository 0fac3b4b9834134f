"""Custom endpoints of another format than OpenAI's: reached through translation, tested in their own format."""

from __future__ import annotations

from core.gateway.accounts import CustomEndpoint
from core.gateway.checks import check_connection
from core.gateway.upstream import UpstreamClients
from tests.fakes.anthropic_upstream import ANTHROPIC_KEY
from tests.fakes.gemini_upstream import GEMINI_KEY

CHAT = {"model": "claudish/claude-x", "messages": [{"role": "user", "content": "hi"}]}


async def test_an_openai_client_reaches_an_anthropic_compatible_endpoint(services, client,
                                                                        anthropic_upstream) -> None:
    services.accounts.create_endpoint("claudish", "Claudish", f"{anthropic_upstream.url}/v1", api_format="anthropic",
                                  api_key=ANTHROPIC_KEY)
    await services.reload_gateway_config()
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from anthropic"
    sent = anthropic_upstream.requests[-1]
    assert sent.path == "/v1/messages" and sent.body["model"] == "claude-x"
    assert sent.headers["x-api-key"] == ANTHROPIC_KEY and sent.headers["anthropic-version"]


async def test_the_test_button_of_an_anthropic_endpoint_speaks_anthropic(anthropic_upstream) -> None:
    # The fake has no model list, so the check sends one token in the endpoint's own format.
    endpoint = CustomEndpoint(1, "claudish", "Claudish", f"{anthropic_upstream.url}/v1", "anthropic", {}, ANTHROPIC_KEY)
    clients = UpstreamClients()
    try:
        result = await check_connection(endpoint, clients)
    finally:
        await clients.aclose()
    assert result.ok, result.message
    sent = anthropic_upstream.requests[-1]
    assert sent.path == "/v1/messages" and sent.body["max_tokens"] == 1
    assert sent.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "ping"}]}]


async def test_a_gemini_compatible_endpoint_is_reached_in_its_own_format(services, client, gemini_upstream) -> None:
    services.accounts.create_endpoint("gem", "Gem", f"{gemini_upstream.url}/v1beta", api_format="gemini",
                                      api_key=GEMINI_KEY)
    await services.reload_gateway_config()
    response = await client.post("/v1/messages", json={"model": "gem/gemini-2.5-flash", "max_tokens": 64,
                                                       "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert response.json()["content"] == [{"type": "text", "text": "Hello from gemini"}]
    sent = gemini_upstream.requests[-1]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY


async def test_claude_codes_mid_conversation_system_turn_passes_through_to_anthropic(services, client,
                                                                                   anthropic_upstream) -> None:
    services.accounts.create_endpoint("claudish", "Claudish", f"{anthropic_upstream.url}/v1", api_format="anthropic",
                                      api_key=ANTHROPIC_KEY)
    await services.reload_gateway_config()
    beta = "mid-conversation-system-2026-04-07"
    messages = [{"role": "user", "content": "hi"}, {"role": "system", "content": "Agent types: general"}]
    response = await client.post("/v1/messages", headers={"anthropic-beta": beta},
                                 json={"model": "claudish/claude-opus-5", "max_tokens": 64, "messages": messages})
    assert response.status_code == 200, response.text
    sent = anthropic_upstream.requests[-1]
    assert sent.body["messages"] == messages and beta in sent.headers["anthropic-beta"]
