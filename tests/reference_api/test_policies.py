"""`/api/policies`: blocked providers and allowed models, per key or for everyone, applied before combos and
strategies; a refused request is a 403 naming the policy."""

from __future__ import annotations

from core import settings
from tests.reference_api.conftest import chat

COMBO = {"name": "coding", "strategy": "fallback", "models": ["openai/gpt-4.1", "mistral/mistral-large-latest"]}


async def test_a_policy_is_listed_replaced_and_deleted(client) -> None:
    created = await client.post("/api/policies", json={"name": "no-openai", "blockProviders": ["OpenAI"]})
    assert created.status_code == 201
    assert created.json()["policy"] == {"name": "no-openai", "blockProviders": ["openai"], "allowModels": [],
                                        "keys": []}
    replaced = await client.post("/api/policies", json={"name": "no-openai", "blockProviders": ["openai", "xai"]})
    assert replaced.status_code == 200
    listed = (await client.get("/api/policies")).json()
    assert listed["total"] == 1 and listed["policies"][0]["blockProviders"] == ["openai", "xai"]
    assert (await client.delete("/api/policies", params={"name": "no-openai"})).status_code == 200
    assert (await client.get("/api/policies")).json()["total"] == 0
    missing = await client.delete("/api/policies", params={"name": "no-openai"})
    assert missing.status_code == 404 and "no-openai" in missing.json()["error"]


async def test_a_policy_that_restricts_nothing_or_names_unknown_keys_is_refused(client, services) -> None:
    empty = await client.post("/api/policies", json={"name": "nothing"})
    assert empty.status_code == 400 and "blocks no provider" in empty.json()["error"]
    ghost = await client.post("/api/policies", json={"name": "k", "allowModels": ["coding"], "keys": [999]})
    assert ghost.status_code == 400 and "999" in ghost.json()["error"]
    assert services.store.get_setting(settings.KEY_POLICIES) is None


async def test_a_blocked_provider_is_taken_out_of_a_combo_before_its_strategy_runs(services, client, upstream,
                                                                                   two_providers) -> None:
    await two_providers(services)
    await services.configuration.add_combo(COMBO)
    await client.post("/api/policies", json={"name": "eu-only", "blockProviders": ["openai"]})
    answer = await chat(services.gateway_state.url, body={**COMBO_REQUEST})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-quotagate-provider"] == "mistral"
    assert [r.body["model"] for r in upstream.requests] == ["mistral-large-latest"]  # openai never asked


async def test_a_request_left_with_no_target_is_a_403_naming_the_policy(services, client, upstream,
                                                                         two_providers) -> None:
    await two_providers(services)
    await client.post("/api/policies", json={"name": "eu-only", "blockProviders": ["openai"]})
    refused = await chat(services.gateway_state.url)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "policy_blocked"
    assert "“eu-only” blocks openai" in refused.json()["error"]["message"]
    assert upstream.requests == []


async def test_allowed_models_apply_to_the_keys_named_and_not_to_others(services, client, two_providers) -> None:
    await two_providers(services)
    limited = await services.configuration.create_key("intern")
    free = await services.configuration.create_key("lead")
    await client.post("/api/policies", json={"name": "interns", "allowModels": ["mistral/*"], "keys": [limited.id]})
    refused = await chat(services.gateway_state.url, limited.key)
    assert refused.status_code == 403
    assert "“interns” allows only mistral/*; 'openai/gpt-4.1' is not among them" in refused.json()["error"]["message"]
    allowed = await chat(services.gateway_state.url, limited.key, {**COMBO_REQUEST, "model": "mistral/mistral-small"})
    assert allowed.status_code == 200
    assert (await chat(services.gateway_state.url, free.key)).status_code == 200


async def test_a_policy_for_everyone_refuses_a_combo_name_it_does_not_allow(services, client, two_providers) -> None:
    await two_providers(services)
    await services.configuration.add_combo(COMBO)
    await client.post("/api/policies", json={"name": "only-direct", "allowModels": ["*/*"]})
    refused = await chat(services.gateway_state.url, body=COMBO_REQUEST)
    assert refused.status_code == 403 and "only-direct" in refused.text


COMBO_REQUEST = {"model": "coding", "messages": [{"role": "user", "content": "hi"}]}
