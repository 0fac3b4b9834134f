"""`/api/models/availability`: for a model or combo, which targets could serve it now and, for every other one,
why not — cooling down until, quota used up until, breaker open until, account marked, switched off, without a
key, blocked by a routing policy, or not reachable at all. Looking never changes what the gateway does next."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from core.gateway.resilience import Resilience
from core.gateway.routing import Upstream
from core.quota.model import QuotaSnapshot, QuotaWindow, secret_fingerprint
from tests.reference_api.conftest import chat

COMBO = {"name": "coding", "strategy": "fallback",
         "models": ["openai/gpt-4.1", "mistral/mistral-large-latest", "xai/grok-4"]}


async def ask(client, model: str, **extra) -> dict:
    response = await client.post("/api/models/availability", json={"model": model, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def by_account(answer: dict) -> dict:
    return {t["account"]: t for t in answer["targets"]}


def upstream_of(services, model: str) -> Upstream:
    return services.runtime.config.table.resolve(model).upstreams[0]


async def test_a_model_with_a_healthy_account_is_available(client, services, two_providers) -> None:
    await two_providers(services)
    answer = await ask(client, "openai/gpt-4.1")
    assert answer["available"] is True and answer["kind"] == "model"
    assert answer["targets"] == [{"provider": "openai", "model": "gpt-4.1", "accountId": answer["targets"][0]["accountId"],
                                  "account": "OpenAI main", "available": True, "kind": None, "reason": None,
                                  "until": None}]


async def test_every_unavailable_target_of_a_combo_says_why_and_until_when(client, services, two_providers) -> None:
    openai_id, mistral_id = await two_providers(services)
    services.accounts.create_account("openai", "OpenAI spare", "sk-ok", active=False)
    services.accounts.create_account("mistral", "Mistral keyless", None)
    await services.reload_gateway_config()
    await services.configuration.add_combo(COMBO)
    runtime = services.runtime
    # OpenAI answered 429 with Retry-After: 120; Mistral's quota window is used up for an hour.
    runtime.resilience.failed(upstream_of(services, "openai/gpt-4.1"), 429, "120")
    resets = datetime.now(timezone.utc) + timedelta(hours=1)
    window = QuotaWindow.from_remaining("monthly", "monthly", 0.0, resets_at=resets)
    runtime.quota_gate.update([QuotaSnapshot("mistral", secret_fingerprint("sk-ok"), "Mistral", windows=(window,),
                                             fetched_at=datetime.now(timezone.utc))])
    before = time.time()
    answer = await ask(client, "coding")
    assert answer["kind"] == "combo" and answer["available"] is False, json.dumps(answer["targets"])
    targets = by_account(answer)
    assert targets["OpenAI main"]["kind"] == "cooldown" and "429" in targets["OpenAI main"]["reason"]
    assert before + 110 < targets["OpenAI main"]["until"] < time.time() + 121
    assert targets["Mistral main"]["kind"] == "quota" and "monthly quota is used up" in targets["Mistral main"]["reason"]
    assert abs(targets["Mistral main"]["until"] - resets.timestamp()) < 2
    assert targets["OpenAI spare"] == {**targets["OpenAI spare"], "kind": "inactive", "reason": "switched off"}
    assert targets["Mistral keyless"]["kind"] == "no_key" and targets["Mistral keyless"]["reason"] == "it has no API key"
    [grok] = [t for t in answer["targets"] if t["provider"] == "xai"]
    assert grok["kind"] == "unreachable" and "No active xAI account" in grok["reason"]
    assert all(t["reason"] for t in answer["targets"])  # every unavailable target explained


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resilience_on_a_clock(services) -> Clock:
    clock = Clock()
    services.runtime.resilience = Resilience(now=clock)
    return clock


async def test_an_open_breaker_and_a_marked_account_are_explained(client, services, two_providers) -> None:
    await two_providers(services)
    await services.configuration.add_combo({**COMBO, "models": ["openai/gpt-5", "mistral/mistral-large-latest"]})
    resilience_on_a_clock(services)  # after the combo's reload, which would forget the marks
    runtime = services.runtime
    for _ in range(5):  # five 503s from gpt-4.1 open OpenAI's breaker: gpt-5 is behind it too
        runtime.resilience.failed(upstream_of(services, "openai/gpt-4.1"), 503)
    runtime.resilience.failed(upstream_of(services, "mistral/mistral-large-latest"), 401)
    targets = by_account(await ask(client, "coding"))
    assert targets["OpenAI main"]["kind"] == "breaker" and "circuit breaker is open" in targets["OpenAI main"]["reason"]
    assert 25 < targets["OpenAI main"]["until"] - time.time() <= 31
    assert targets["Mistral main"]["kind"] == "account" and "rejected the key" in targets["Mistral main"]["reason"]


async def test_looking_does_not_start_a_half_open_probe(client, services, two_providers) -> None:
    """Availability must not use up the one request a half-open breaker lets through."""
    await two_providers(services)
    clock = resilience_on_a_clock(services)
    for _ in range(5):
        services.runtime.resilience.failed(upstream_of(services, "openai/gpt-4.1"), 503)
    clock.now += 31  # the breaker's open time is over: half-open
    body = {"model": "openai/gpt-5", "messages": [{"role": "user", "content": "hi"}]}
    answer = await ask(client, "openai/gpt-5")
    assert answer["available"] is True and "next request tests it" in answer["targets"][0]["note"]
    assert (await ask(client, "openai/gpt-5"))["available"] is True
    assert (await chat(services.gateway_state.url, body=body)).status_code == 200  # the probe was still free


async def test_a_policy_block_is_named(client, services, two_providers) -> None:
    await two_providers(services)
    key = await services.configuration.create_key("intern")
    await client.post("/api/policies", json={"name": "eu-only", "blockProviders": ["openai"], "keys": [key.id]})
    blocked = await ask(client, "openai/gpt-4.1", keyId=key.id)
    assert blocked["available"] is False
    assert blocked["targets"][0]["kind"] == "policy" and "“eu-only”" in blocked["targets"][0]["reason"]
    assert (await ask(client, "openai/gpt-4.1"))["available"] is True  # other keys are not bound by it


async def test_an_unknown_model_is_explained_and_bad_input_refused(client, services) -> None:
    answer = await ask(client, "nope/model")
    assert answer["available"] is False and "Unknown provider prefix 'nope'" in answer["targets"][0]["reason"]
    assert (await client.post("/api/models/availability", json={})).status_code == 400
    assert (await client.post("/api/models/availability", json={"model": "x", "keyId": "a"})).status_code == 400


async def test_get_lists_every_model_and_combo(client, services, two_providers) -> None:
    await two_providers(services)
    await services.configuration.add_combo(COMBO)
    answer = (await client.get("/api/models/availability")).json()
    names = {m["model"]: m for m in answer["models"]}
    assert names["openai/gpt-4.1"]["available"] is True and names["coding"]["kind"] == "combo"
    assert answer["total"] == len(answer["models"])
