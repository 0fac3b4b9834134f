"""The global system prompt and the default thinking budget (`/api/settings/system-prompt`,
`/api/settings/thinking-budget`): each client dialect against each upstream format, same-format pass-through
and translated alike, the upstream receives them exactly once, in its own fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.services import CoreServices
from tests.fakes.anthropic_upstream import ANTHROPIC_KEY
from tests.fakes.gemini_upstream import GEMINI_KEY
from tests.fakes.openai_tools_upstream import OPENAI_KEY
from tests.fakes.server import ThreadedServer
from tests.reference_api_b.formats_upstream import FormatsUpstream

PROMPT = "Answer in the house style QG-7."
CLIENT_SYSTEM = "You are terse."
MODELS = {"openai": "oa/gpt-5", "anthropic": "an/claude-sonnet-4-5-20250929", "gemini": "ge/gemini-2.5-flash",
          "responses": "rs/gpt-5", "ollama": "ol/qwen3"}
CLIENTS = tuple(MODELS)


def client_request(dialect: str, model: str, system: str = CLIENT_SYSTEM, **extra: Any) -> tuple[str, dict[str, Any]]:
    """(path, body) of a plain one-turn request with a system text, as each dialect's clients send it."""
    if dialect == "openai":
        return "/v1/chat/completions", {"model": model, "messages": [
            {"role": "system", "content": system}, {"role": "user", "content": "hi"}], **extra}
    if dialect == "anthropic":
        return "/v1/messages", {"model": model, "max_tokens": 256, "system": system,
                                "messages": [{"role": "user", "content": "hi"}], **extra}
    if dialect == "responses":
        return "/v1/responses", {"model": model, "instructions": system, "input": "hi", "store": False, **extra}
    if dialect == "gemini":
        return f"/v1beta/models/{model}:generateContent", {
            "systemInstruction": {"parts": [{"text": system}]},
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}], **extra}
    return "/api/chat", {"model": model, "stream": False, "messages": [
        {"role": "system", "content": system}, {"role": "user", "content": "hi"}], **extra}


class Upstreams:
    """One custom endpoint per upstream format, each a fake on loopback; `last(fmt)` is the body it got."""

    def __init__(self, strict: dict[str, Any], formats: FormatsUpstream, formats_url: str) -> None:
        self.strict, self.formats, self.formats_url = strict, formats, formats_url

    async def connect(self, services: CoreServices) -> None:
        accounts = services.accounts
        accounts.create_endpoint("oa", "OA", f"{self.strict['openai'].url}/v1", "openai", api_key=OPENAI_KEY)
        accounts.create_endpoint("an", "AN", f"{self.strict['anthropic'].url}/v1", "anthropic", api_key=ANTHROPIC_KEY)
        accounts.create_endpoint("ge", "GE", f"{self.strict['gemini'].url}/v1beta", "gemini", api_key=GEMINI_KEY)
        accounts.create_endpoint("rs", "RS", f"{self.formats_url}/v1", "responses")
        accounts.create_endpoint("ol", "OL", self.formats_url, "ollama")
        await services.reload_gateway_config()

    def last(self, fmt: str) -> dict[str, Any]:
        if fmt in self.strict:
            return self.strict[fmt].requests[-1].body
        wanted = "/v1/responses" if fmt == "responses" else "/api/chat"
        return [body for path, body in self.formats.bodies if path == wanted][-1]


@pytest.fixture
def upstreams(openai_strict_upstream, anthropic_upstream, gemini_upstream):
    formats = FormatsUpstream()
    with ThreadedServer(formats.app()) as server:
        yield Upstreams({"openai": openai_strict_upstream, "anthropic": anthropic_upstream,
                         "gemini": gemini_upstream}, formats, server.url)


async def set_system_prompt(client, position: str = "prefix") -> None:
    response = await client.put("/api/settings/system-prompt",
                                json={"enabled": True, "prompt": PROMPT, "position": position})
    assert response.status_code == 200, response.text


async def send(client, dialect: str, upstream: str, **extra: Any) -> None:
    path, body = client_request(dialect, MODELS[upstream], **extra)
    response = await client.post(path, json=body)
    assert response.status_code == 200, f"{dialect} -> {upstream}: {response.text}"


@pytest.mark.parametrize("dialect", CLIENTS)
async def test_the_system_prompt_reaches_every_upstream_format_once_before_the_clients_own(
        services, client, upstreams, dialect) -> None:
    await upstreams.connect(services)
    await set_system_prompt(client, "prefix")
    for upstream in MODELS:
        await send(client, dialect, upstream)
        sent = json.dumps(upstreams.last(upstream))
        assert sent.count(PROMPT) == 1, (dialect, upstream, sent)
        assert sent.count(CLIENT_SYSTEM) == 1, (dialect, upstream, sent)
        assert sent.index(PROMPT) < sent.index(CLIENT_SYSTEM), (dialect, upstream, sent)


@pytest.mark.parametrize("dialect", CLIENTS)
async def test_a_suffix_system_prompt_comes_after_the_clients_own(services, client, upstreams, dialect) -> None:
    await upstreams.connect(services)
    await set_system_prompt(client, "suffix")
    for upstream in MODELS:
        await send(client, dialect, upstream)
        sent = json.dumps(upstreams.last(upstream))
        assert sent.count(PROMPT) == 1 and sent.index(CLIENT_SYSTEM) < sent.index(PROMPT), (dialect, upstream, sent)


async def test_a_client_whose_system_text_already_holds_the_prompt_is_not_given_it_again(
        services, client, upstreams) -> None:
    await upstreams.connect(services)
    await set_system_prompt(client)
    for upstream in ("openai", "anthropic"):
        await send(client, "openai", upstream, system=f"{CLIENT_SYSTEM} {PROMPT}")
        assert json.dumps(upstreams.last(upstream)).count(PROMPT) == 1


async def test_without_a_system_prompt_the_pass_through_body_is_the_clients_own(services, client, upstreams) -> None:
    await upstreams.connect(services)
    path, body = client_request("openai", MODELS["openai"])
    await client.post(path, json=body)
    assert upstreams.last("openai") == {**body, "model": "gpt-5"}


def thinking_of(fmt: str, body: dict[str, Any]) -> Any:
    """What each upstream format was asked to think (None: nothing)."""
    if fmt == "openai":
        return body.get("reasoning_effort")
    if fmt == "anthropic":
        return body.get("thinking")
    if fmt == "gemini":
        return body.get("generationConfig", {}).get("thinkingConfig", {}).get("thinkingBudget")
    if fmt == "responses":
        return (body.get("reasoning") or {}).get("effort")
    return body.get("think")


EXPECTED_THINKING = {"openai": "medium", "anthropic": {"type": "enabled", "budget_tokens": 8192}, "gemini": 8192,
                     "responses": "medium", "ollama": True}


@pytest.mark.parametrize("dialect", CLIENTS)
async def test_the_default_thinking_budget_reaches_every_upstream_format_in_its_own_field(
        services, client, upstreams, dialect) -> None:
    await upstreams.connect(services)
    response = await client.put("/api/settings/thinking-budget", json={"mode": "budget", "budgetTokens": 8192})
    assert response.status_code == 200, response.text
    for upstream in MODELS:
        await send(client, dialect, upstream)
        sent = upstreams.last(upstream)
        assert thinking_of(upstream, sent) == EXPECTED_THINKING[upstream], (dialect, upstream, sent)
        if upstream == "anthropic":
            assert sent["max_tokens"] > 8192  # Anthropic wants max_tokens above the budget


OWN_THINKING = {"openai": {"reasoning_effort": "low"}, "anthropic": {"thinking": {"type": "enabled", "budget_tokens": 2048}},
                "responses": {"reasoning": {"effort": "low"}},
                "gemini": {"generationConfig": {"thinkingConfig": {"thinkingBudget": 2048}}}, "ollama": {"think": False}}


@pytest.mark.parametrize("dialect", CLIENTS)
async def test_a_request_that_sets_its_own_thinking_keeps_it(services, client, upstreams, dialect) -> None:
    await upstreams.connect(services)
    await client.put("/api/settings/thinking-budget", json={"mode": "effort", "effort": "high"})
    await send(client, dialect, dialect, **OWN_THINKING[dialect])
    sent = upstreams.last(dialect)
    assert thinking_of(dialect, sent) == thinking_of(dialect, OWN_THINKING[dialect]), sent


async def test_the_default_thinking_applies_only_to_the_models_it_names(services, client, upstreams) -> None:
    await upstreams.connect(services)
    await client.put("/api/settings/thinking-budget", json={"mode": "effort", "effort": "high", "models": ["an/*"]})
    await send(client, "openai", "openai")
    assert "reasoning_effort" not in upstreams.last("openai")
    await send(client, "openai", "anthropic")
    assert upstreams.last("anthropic")["thinking"]["type"] == "enabled"


async def test_a_fallback_attempt_carries_the_prompt_and_thinking_once(services, client, upstream,
                                                                      openai_via_fake) -> None:
    await openai_via_fake(services, "sk-status-500", "sk-ok")
    await set_system_prompt(client)
    await client.put("/api/settings/thinking-budget", json={"mode": "effort", "effort": "low"})
    response = await client.post("/v1/chat/completions", json={
        "model": "openai/gpt-5", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200, response.text
    assert response.headers["x-quotagate-fallbacks"] == "1"
    first, second = upstream.requests[-2:]
    for received in (first, second):
        assert json.dumps(received.body).count(PROMPT) == 1
        assert received.body["messages"][0] == {"role": "system", "content": PROMPT}
        assert received.body["reasoning_effort"] == "low"


async def test_a_streamed_pass_through_carries_the_prompt(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await set_system_prompt(client)
    async with client.stream("POST", "/v1/chat/completions", json={
            "model": "openai/gpt-4.1", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        assert response.status_code == 200
        await response.aread()
    assert upstream.requests[-1].body["messages"] == [{"role": "system", "content": PROMPT},
                                                      {"role": "user", "content": "hi"}]


async def test_the_settings_answer_what_is_stored_and_refuse_bad_values(services, client) -> None:
    assert (await client.get("/api/settings/system-prompt")).json() == {
        "enabled": False, "prompt": "", "position": "prefix"}
    refused = await client.put("/api/settings/system-prompt", json={"enabled": True, "prompt": "  "})
    assert refused.status_code == 400 and "empty" in refused.json()["error"]
    refused = await client.put("/api/settings/system-prompt", json={"position": "middle"})
    assert refused.status_code == 400 and "prefix, suffix" in refused.json()["error"]
    refused = await client.put("/api/settings/thinking-budget", json={"mode": "budget", "budgetTokens": 10})
    assert refused.status_code == 400 and "1024" in refused.json()["error"]
    saved = await client.put("/api/settings/thinking-budget", json={"mode": "effort", "effort": "low"})
    assert saved.json() == {"mode": "effort", "effort": "low", "budgetTokens": 8192, "models": []}
    assert (await client.get("/api/settings/thinking-budget")).json()["effort"] == "low"


async def test_a_new_system_prompt_is_not_answered_from_the_cache_of_the_old_one(services, client, upstream,
                                                                                openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    body = {"model": "openai/gpt-4.1", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}
    await client.post("/v1/chat/completions", json=body)
    assert (await client.post("/v1/chat/completions", json=body)).headers.get("x-quotagate-cache") == "HIT"
    await set_system_prompt(client)
    response = await client.post("/v1/chat/completions", json=body)
    assert response.headers.get("x-quotagate-cache") != "HIT"
    assert upstream.requests[-1].body["messages"][0] == {"role": "system", "content": PROMPT}
