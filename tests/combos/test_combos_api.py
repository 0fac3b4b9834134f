"""Combos through `/api/combos` and the gateway: CRUD and validation, and a combo that really falls back."""

from __future__ import annotations

import pytest

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


async def test_a_combo_is_created_listed_read_changed_and_deleted(services, client) -> None:
    created = await client.post("/api/combos", json={"name": "coding", "strategy": "priority",
                                                     "models": ["openai/gpt-4.1", "anthropic/claude-x"]})
    assert created.status_code == 201, created.text
    combo = created.json()["combo"]
    assert combo["models"][0] == {"kind": "model", "provider": "openai", "model": "gpt-4.1", "connectionId": None,
                                  "weight": 1.0}
    listed = (await client.get("/api/combos")).json()
    assert [c["name"] for c in listed["combos"]] == ["coding"] and "p2c" in listed["strategies"]
    assert (await client.get(f"/api/combos/{combo['id']}")).json()["combo"] == combo
    changed = await client.put(f"/api/combos/{combo['id']}", json={"strategy": "round-robin"})
    assert changed.json()["combo"]["strategy"] == "round-robin" and changed.json()["combo"]["models"] == combo["models"]
    assert (await client.delete(f"/api/combos/{combo['id']}")).status_code == 200
    assert (await client.get(f"/api/combos/{combo['id']}")).status_code == 404


@pytest.mark.parametrize("body,words", [
    ({"name": "c", "models": []}, "`models`"),
    ({"name": "c", "models": ["openai/gpt-4.1"], "strategy": "fastest"}, "`strategy`"),
    ({"name": "has space", "models": ["openai/gpt-4.1"]}, "`name`"),
    ({"name": "c", "models": [{"kind": "model", "provider": "openai", "model": "m", "weight": 0}]}, "weight"),
    ({"name": "c", "models": [{"kind": "combo-ref", "comboName": "nowhere"}]}, "not a combo"),
    ({"name": "c", "models": [{"kind": "model", "provider": "openai", "model": "m", "connectionId": "x"}]},
     "connectionId"),
])
async def test_bad_combos_are_refused_saying_what_to_fix(services, client, body, words) -> None:
    response = await client.post("/api/combos", json=body)
    assert response.status_code == 400 and words in response.json()["error"]
    assert (await client.get("/api/combos")).json()["total"] == 0


async def test_a_cycle_between_combos_is_refused(services, client) -> None:
    a = (await client.post("/api/combos", json={"name": "a", "models": ["openai/gpt-4.1"]})).json()["combo"]
    await client.post("/api/combos", json={"name": "b", "models": [{"kind": "combo-ref", "comboName": "a"}]})
    response = await client.put(f"/api/combos/{a['id']}", json={"models": [{"kind": "combo-ref", "comboName": "b"}]})
    assert response.status_code == 400 and "refers back to itself" in response.json()["error"]


async def test_nesting_deeper_than_three_is_refused(services, client) -> None:
    await client.post("/api/combos", json={"name": "l0", "models": ["openai/gpt-4.1"]})
    for level in range(1, 4):
        ok = await client.post("/api/combos", json={"name": f"l{level}",
                                                    "models": [{"kind": "combo-ref", "comboName": f"l{level - 1}"}]})
        assert ok.status_code == 201, ok.text
    response = await client.post("/api/combos", json={"name": "l4", "models": [{"kind": "combo-ref",
                                                                                 "comboName": "l3"}]})
    assert response.status_code == 400 and "more than 3 deep" in response.json()["error"]


async def test_a_combo_in_use_by_another_cannot_be_deleted(services, client) -> None:
    inner = (await client.post("/api/combos", json={"name": "inner", "models": ["openai/gpt-4.1"]})).json()["combo"]
    await client.post("/api/combos", json={"name": "outer", "models": [{"kind": "combo-ref", "comboName": "inner"}]})
    response = await client.delete(f"/api/combos/{inner['id']}")
    assert response.status_code == 400 and "outer" in response.json()["error"]


async def test_a_combo_and_an_alias_cannot_share_a_name(services, client) -> None:
    await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    response = await client.post("/api/combos", json={"name": "fast", "models": ["openai/gpt-4.1"]})
    assert response.status_code == 409


# --- through the gateway --------------------------------------------------------------------------------


async def add_accounts(services, *keys: str) -> list[int]:
    ids = [services.accounts.create_account("openai", f"account-{i}", key, priority=i).id
           for i, key in enumerate(keys)]
    await services.reload_gateway_config()
    return ids


async def test_a_combo_falls_back_to_its_next_target_and_says_so(services, client, upstream,
                                                                  openai_via_fake) -> None:
    limited, ok = await add_accounts(services, "sk-status-503", "sk-ok")
    await client.post("/api/combos", json={"name": "coding", "models": [
        {"kind": "model", "provider": "openai", "model": "gpt-4.1", "connectionId": limited},
        {"kind": "model", "provider": "openai", "model": "gpt-4.1-mini", "connectionId": ok}]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "coding"})
    assert response.status_code == 200 and response.json()["model"] == "coding"
    assert response.headers["x-quotagate-account"] == "account-1"
    assert response.headers["x-quotagate-model"] == "gpt-4.1-mini" and response.headers["x-quotagate-fallbacks"] == "1"
    assert response.headers["x-quotagate-failures"] == "openai/gpt-4.1 (account-0): HTTP 503"
    assert [r.body["model"] for r in upstream.requests] == ["gpt-4.1", "gpt-4.1-mini"]


async def test_a_combo_answers_every_dialect(services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok")
    await client.post("/api/combos", json={"name": "coding", "models": ["openai/gpt-4.1"]})
    anthropic = await client.post("/v1/messages", json={**CHAT, "model": "coding", "max_tokens": 20})
    assert anthropic.status_code == 200 and anthropic.json()["model"] == "coding"
    ollama = await client.post("/api/chat", json={**CHAT, "model": "coding", "stream": False})
    assert ollama.status_code == 200 and ollama.json()["done"] is True


async def test_round_robin_spreads_requests_over_its_targets(services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok")
    await client.post("/api/combos", json={"name": "spread", "strategy": "round-robin",
                                           "models": ["openai/gpt-4.1", "openai/gpt-4.1-mini"]})
    for _ in range(4):
        assert (await client.post("/v1/chat/completions", json={**CHAT, "model": "spread"})).status_code == 200
    assert [r.body["model"] for r in upstream.requests] == ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1", "gpt-4.1-mini"]


async def test_a_nested_combo_expands_into_its_targets(services, client, upstream, openai_via_fake) -> None:
    limited, ok = await add_accounts(services, "sk-status-429", "sk-ok")
    await client.post("/api/combos", json={"name": "inner", "models": [
        {"kind": "model", "provider": "openai", "model": "gpt-4.1-mini", "connectionId": ok}]})
    await client.post("/api/combos", json={"name": "outer", "models": [
        {"kind": "model", "provider": "openai", "model": "gpt-4.1", "connectionId": limited},
        {"kind": "combo-ref", "comboName": "inner"}]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "outer"})
    assert response.status_code == 200 and response.headers["x-quotagate-model"] == "gpt-4.1-mini"


async def test_combos_are_listed_as_models(services, client) -> None:
    await client.post("/api/combos", json={"name": "coding", "models": ["openai/gpt-4.1"]})
    ids = {m["id"] for m in (await client.get("/v1/models")).json()["data"]}
    assert "coding" in ids


async def test_a_combo_with_no_reachable_target_says_why_for_each(services, client) -> None:
    await client.post("/api/combos", json={"name": "coding", "models": ["openai/gpt-4.1", "anthropic/claude-x"]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "coding"})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "openai/gpt-4.1: No active OpenAI account" in message and "anthropic/claude-x" in message
