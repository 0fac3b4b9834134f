"""`/api/providers/validate` (a key or an endpoint checked by the Test code, nothing saved), `/api/provider-models`
(models added to a catalogue provider: listed in /v1/models and routable) and `/api/pricing` (the price table
with overrides applied), and `/api/usage/{connectionId}` (one account's usage, from the rollups)."""

from __future__ import annotations

import asyncio

from core import settings
from tests.reference_api.conftest import CHAT, chat


async def test_a_working_key_validates_without_being_saved(client, services, upstream, openai_via_fake) -> None:
    response = await client.post("/api/providers/validate", json={"provider": "openai", "apiKey": "sk-ok"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["valid"] is True and answer["models"] == ["fake-model"]
    assert upstream.requests == []  # a model list, no tokens spent
    assert services.accounts.accounts() == []


async def test_a_rejected_key_is_not_valid_and_is_not_echoed(client, openai_via_fake) -> None:
    response = await client.post("/api/providers/validate", json={"provider": "openai", "apiKey": "sk-status-401"})
    answer = response.json()
    assert response.status_code == 200 and answer["valid"] is False and answer["status"] == 401
    assert answer["error"] == answer["message"] and "sk-status-401" not in response.text


async def test_a_custom_endpoint_validates_by_its_base_url(client, services, upstream) -> None:
    response = await client.post("/api/providers/validate", json={
        "baseUrl": f"{upstream.url}/v1", "apiType": "openai", "apiKey": "sk-ok",
        "headers": {"X-Team": "secret-team-token"}})
    assert response.status_code == 200 and response.json()["valid"] is True, response.text
    assert services.accounts.endpoints() == []


async def test_validation_refuses_what_it_cannot_check(client) -> None:
    missing = await client.post("/api/providers/validate", json={"provider": "openai"})
    assert missing.status_code == 400 and "`apiKey` is required" in missing.json()["error"]
    unknown = await client.post("/api/providers/validate", json={"provider": "nope", "apiKey": "k"})
    assert unknown.status_code == 400 and "Unknown provider" in unknown.json()["error"]
    bad_url = await client.post("/api/providers/validate", json={"baseUrl": "ftp://x", "apiKey": "k"})
    assert bad_url.status_code == 400 and "baseUrl" in bad_url.json()["error"]


async def test_an_added_model_is_listed_and_routable(client, services, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    added = await client.post("/api/provider-models",
                              json={"provider": "openai", "modelId": "gpt-9-preview", "modelName": "GPT-9 preview"})
    assert added.status_code == 201
    assert added.json()["model"] == {"provider": "openai", "id": "gpt-9-preview", "name": "GPT-9 preview",
                                     "fullId": "openai/gpt-9-preview"}
    listed = (await client.get("/api/provider-models", params={"provider": "openai"})).json()
    assert [m["id"] for m in listed["models"]] == ["gpt-9-preview"]
    models = (await client.get("/v1/models")).json()["data"]
    assert "openai/gpt-9-preview" in [m["id"] for m in models]
    answer = await chat(services.gateway_state.url, body={**CHAT, "model": "openai/gpt-9-preview"})
    assert answer.status_code == 200 and upstream.requests[-1].body["model"] == "gpt-9-preview"
    scoped = await client.post("/v1/providers/openai/chat/completions", json={**CHAT, "model": "gpt-9-preview"})
    assert scoped.status_code == 200

    removed = await client.delete("/api/provider-models", params={"provider": "openai", "model": "gpt-9-preview"})
    assert removed.status_code == 200
    assert "openai/gpt-9-preview" not in [m["id"] for m in (await client.get("/v1/models")).json()["data"]]
    again = await client.delete("/api/provider-models", params={"provider": "openai", "model": "gpt-9-preview"})
    assert again.status_code == 404


async def test_adding_a_model_twice_a_catalogue_model_or_to_an_unknown_provider_is_refused(client, services) -> None:
    assert (await client.post("/api/provider-models", json={"provider": "openai", "modelId": "o9"})).status_code == 201
    twice = await client.post("/api/provider-models", json={"provider": "openai", "modelId": "o9"})
    assert twice.status_code == 409
    catalogue = await client.post("/api/provider-models", json={"provider": "openai", "modelId": "gpt-4.1"})
    assert catalogue.status_code == 409 and "catalogue" in catalogue.json()["error"]
    unknown = await client.post("/api/provider-models", json={"provider": "nope", "modelId": "m"})
    assert unknown.status_code == 400 and "catalogue provider" in unknown.json()["error"]
    spaced = await client.post("/api/provider-models", json={"provider": "openai", "modelId": "a b"})
    assert spaced.status_code == 400 and "no spaces" in spaced.json()["error"]
    assert services.store.get_setting(settings.KEY_PROVIDER_MODELS) == {"openai": [{"id": "o9", "name": "o9"}]}


async def test_pricing_applies_overrides_per_provider_and_model(client, services) -> None:
    await services.configuration.update_settings({settings.KEY_PRICE_OVERRIDES: {
        "openai/gpt-4.1": {"input": 1.5}, "mylab/llama-local": {"input": 0, "output": 0}}})
    await client.post("/api/provider-models", json={"provider": "openai", "modelId": "gpt-9-preview"})
    answer = (await client.get("/api/pricing")).json()
    assert answer["currency"] == "USD" and answer["unit"] == "per 1M tokens"
    pricing = answer["pricing"]
    assert pricing["openai/gpt-4.1"] == {"input": 1.5, "output": 8.0, "cachedInput": 0.5, "overridden": True}
    assert pricing["openai/gpt-5"]["overridden"] is False and pricing["openai/gpt-5"]["input"] is not None
    assert pricing["openai/gpt-9-preview"] == {"input": None, "output": None, "cachedInput": None,
                                               "overridden": False}
    assert pricing["mylab/llama-local"] == {"input": 0.0, "output": 0.0, "cachedInput": None, "overridden": True}


async def test_one_connections_usage_comes_from_the_rollups(client, services, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    account = services.accounts.accounts()[0]
    other = services.accounts.create_account("openai", "other", "sk-ok", priority=9)
    await services.reload_gateway_config()
    for _ in range(3):
        assert (await chat(services.gateway_state.url)).status_code == 200
    await asyncio.get_running_loop().run_in_executor(None, services.store.writer.flush)
    usage = (await client.get(f"/api/usage/{account.id}")).json()
    assert usage["connectionId"] == account.id and usage["provider"] == "openai" and usage["days"] == 30
    assert usage["totals"]["requests"] == 3 and usage["today"]["requests"] == 3
    assert usage["totals"]["promptTokens"] == 36 and usage["totals"]["cost"] > 0
    assert [m["model"] for m in usage["byModel"]] == ["gpt-4.1"] and len(usage["series"]) == 1
    assert (await client.get(f"/api/usage/{other.id}")).json()["totals"]["requests"] == 0
    missing = await client.get("/api/usage/999")
    assert missing.status_code == 404 and "999" in missing.json()["error"]
    assert (await client.get(f"/api/usage/{account.id}", params={"days": 0})).status_code == 400
