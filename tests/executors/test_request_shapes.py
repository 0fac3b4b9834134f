"""What each executor sends: the URL, headers and body its upstream requires, checked at the strict fakes,
and that the stored token bundle never goes on the wire (only the CredentialSource's token does)."""

from __future__ import annotations

import json

from core.gateway import executors
from core.providers import catalog
from core.subscriptions.credentials import SUBSCRIPTION_PROVIDERS
from tests.executors.conftest import STORED_SECRET
from tests.fakes.subscription_upstreams import (
    CLAUDE_CODE_IDENTITY,
    CLAUDE_TOKEN,
    CODEX_ACCOUNT,
    CODEX_TOKEN,
    COPILOT_TOKEN,
    GOOGLE_TOKEN,
    PROJECT,
)

CHAT = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        "max_tokens": 64}


def never_sent_stored_secret(fake) -> None:
    for received in fake.requests:
        assert STORED_SECRET not in json.dumps(received.headers) and "stale-stored-access" not in \
            json.dumps(received.headers)


async def test_claude_sends_the_oauth_bearer_beta_flag_and_claude_codes_identity(subscriptions, client) -> None:
    await subscriptions.add("claude")
    response = await client.post("/v1/messages", headers={"anthropic-beta": "interleaved-thinking-2025-05-14"},
                                 json={"model": "cc/claude-sonnet-4-5-20250929", "max_tokens": 64, "system": "Be brief.",
                                       "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "Hello from claude"
    fake = subscriptions.fakes["claude"]
    seen = fake.requests[-1]
    assert seen.path == "/v1/messages"
    assert seen.headers["authorization"] == f"Bearer {CLAUDE_TOKEN}" and "x-api-key" not in seen.headers
    assert seen.headers["anthropic-beta"] == "oauth-2025-04-20,interleaved-thinking-2025-05-14"
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.body["model"] == "claude-sonnet-4-5-20250929"  # as written after the prefix
    assert seen.body["system"] == [{"type": "text", "text": CLAUDE_CODE_IDENTITY}, {"type": "text", "text": "Be brief."}]
    assert fake.refusals == []
    never_sent_stored_secret(fake)


async def test_claude_keeps_a_system_prompt_that_already_introduces_claude_code(subscriptions, client) -> None:
    await subscriptions.add("claude")
    system = [{"type": "text", "text": CLAUDE_CODE_IDENTITY}, {"type": "text", "text": "Project rules."}]
    response = await client.post("/v1/messages", json={"model": "claude/claude-haiku-4-5-20251001", "max_tokens": 9,
                                                       "system": system,
                                                       "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert subscriptions.fakes["claude"].requests[-1].body["system"] == system  # the id works as a prefix too


async def test_codex_streams_stores_nothing_and_names_the_chatgpt_account(subscriptions, client) -> None:
    await subscriptions.add("codex")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "cx/gpt-5.1-codex",
                                                               "temperature": 0.2})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from codex"
    fake = subscriptions.fakes["codex"]
    seen = fake.requests[-1]
    assert seen.path == "/backend-api/codex/responses"
    assert seen.headers["authorization"] == f"Bearer {CODEX_TOKEN}"
    assert seen.headers["chatgpt-account-id"] == CODEX_ACCOUNT
    assert seen.headers["openai-beta"] == "responses=experimental"
    assert seen.headers["originator"] == "codex_cli_rs"
    assert seen.headers["accept"] == "text/event-stream"
    body = seen.body
    assert body["stream"] is True and body["store"] is False and body["model"] == "gpt-5.1-codex"
    assert body["instructions"] == "Be brief."
    assert not {"max_output_tokens", "temperature"} & set(body)  # the endpoint refuses them
    assert body["input"] == [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert fake.refusals == []
    never_sent_stored_secret(fake)


async def test_copilot_goes_to_the_api_its_token_names_with_the_editor_headers(subscriptions, client) -> None:
    await subscriptions.add("github")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "gh/gpt-4.1"})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from copilot"
    fake = subscriptions.fakes["github"]
    seen = fake.requests[-1]
    assert seen.path == "/chat/completions"  # on api.individual.githubcopilot.com, through the host map
    assert seen.headers["authorization"] == f"Bearer {COPILOT_TOKEN}"
    assert seen.headers["editor-version"].startswith("vscode/")
    assert seen.headers["editor-plugin-version"].startswith("copilot-chat/")
    assert seen.headers["copilot-integration-id"] == "vscode-chat"
    assert seen.headers["user-agent"].startswith("GitHubCopilotChat/")
    assert seen.headers["openai-intent"] == "conversation-panel"
    assert seen.headers["x-initiator"] == "user" and "copilot-vision-request" not in seen.headers
    assert seen.body["model"] == "gpt-4.1" and seen.body["messages"] == CHAT["messages"]
    never_sent_stored_secret(fake)


async def test_copilot_marks_tool_result_turns_as_the_agents_and_images_as_vision(subscriptions, client) -> None:
    await subscriptions.add("github")
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "weather?"}, image]},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    response = await client.post("/v1/chat/completions", json={"model": "copilot/gpt-4.1", "messages": messages})
    assert response.status_code == 200, response.text
    seen = subscriptions.fakes["github"].requests[-1]
    assert seen.headers["x-initiator"] == "agent" and seen.headers["copilot-vision-request"] == "true"


async def test_gemini_cli_wraps_the_gemini_body_with_model_and_project(subscriptions, client) -> None:
    await subscriptions.add("gemini-cli")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "gemini-cli/gemini-2.5-pro"})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from gemini-cli"
    fake = subscriptions.fakes["gemini-cli"]
    seen = fake.requests[-1]
    assert seen.path == "/v1internal:generateContent"
    assert seen.headers["authorization"] == f"Bearer {GOOGLE_TOKEN}"
    assert seen.headers["user-agent"].startswith("GeminiCLI/")
    assert set(seen.body) == {"model", "project", "request"}
    assert seen.body["model"] == "gemini-2.5-pro" and seen.body["project"] == PROJECT
    assert seen.body["request"]["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert seen.body["request"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert fake.refusals == []
    never_sent_stored_secret(fake)


async def test_antigravity_uses_its_own_host_agent_and_request_fields(subscriptions, client) -> None:
    await subscriptions.add("antigravity")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "agy/gemini-3-pro-high",
                                                               "stream": True})
    assert response.status_code == 200, response.text
    fake = subscriptions.fakes["antigravity"]
    seen = fake.requests[-1]
    assert seen.path == "/v1internal:streamGenerateContent?alt=sse"  # daily-cloudcode-pa.sandbox, host-mapped
    assert seen.headers["user-agent"].startswith("antigravity/")
    assert seen.body["userAgent"] == "antigravity" and seen.body["requestType"] == "agent"
    assert seen.body["requestId"].startswith("agent-") and seen.body["project"] == PROJECT
    assert seen.body["model"] == "gemini-3-pro-high"
    assert fake.refusals == []
    assert "Hello" in response.text and "antigravity" in response.text


async def test_a_cloud_code_account_without_a_project_is_asked_to_sign_in_again(subscriptions, client) -> None:
    await subscriptions.add("gemini-cli", extra={})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "gemini-cli/gemini-2.5-flash"})
    assert response.status_code == 502
    message = response.json()["error"]["message"]
    assert "gemini-cli-account: sign in again" in message and "project" in message
    assert subscriptions.fakes["gemini-cli"].requests == []


def test_every_subscription_in_the_catalogue_has_its_executor() -> None:
    signed_in = [provider for provider in catalog.providers() if provider.auth == "oauth"]
    assert {provider.id for provider in signed_in} == set(SUBSCRIPTION_PROVIDERS)
    assert all(executors.get(provider.id).name == provider.id for provider in signed_in)
