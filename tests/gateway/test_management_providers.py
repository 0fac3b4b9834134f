"""`/api/providers*`: provider connections with the reference's shapes, keys always masked, and every change
live on `/v1` at once."""

from __future__ import annotations

from core.providers import catalog
from core.services import CoreServices

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
KEY = "sk-ok"


async def add(client, **fields) -> dict:
    response = await client.post("/api/providers", json={"provider": "openai", "apiKey": KEY, **fields})
    assert response.status_code == 201, response.text
    return response.json()["connection"]


async def test_creating_a_connection_answers_201_with_the_key_masked(client) -> None:
    response = await client.post("/api/providers", json={"provider": "openai", "apiKey": "sk-proj-abcdefghijkl",
                                                         "name": "work", "priority": 2, "defaultModel": "gpt-4.1"})
    assert response.status_code == 201
    connection = response.json()["connection"]
    assert connection["apiKey"] == "sk-p…ijkl"
    assert {k: connection[k] for k in ("provider", "name", "priority", "isActive", "defaultModel")} == \
        {"provider": "openai", "name": "work", "priority": 2, "isActive": True, "defaultModel": "gpt-4.1"}


async def test_a_provider_alias_is_stored_as_the_provider_id(client) -> None:
    connection = await add(client, provider="ds")
    assert connection["provider"] == "deepseek" and connection["name"] == "DeepSeek"


async def test_an_unknown_provider_is_a_400_listing_the_valid_ids(client) -> None:
    response = await client.post("/api/providers", json={"provider": "nope", "apiKey": KEY})
    assert response.status_code == 400
    error = response.json()["error"]
    assert "Unknown provider 'nope'" in error
    assert all(p.id in error for p in catalog.providers())
    assert "/api/provider-nodes" in error


async def test_a_cloud_provider_without_a_key_is_a_400_saying_where_to_get_one(client) -> None:
    response = await client.post("/api/providers", json={"provider": "openai"})
    assert response.status_code == 400
    assert "apiKey" in response.json()["error"] and "platform.openai.com" in response.json()["error"]


async def test_a_local_provider_needs_no_key(client) -> None:
    assert (await client.post("/api/providers", json={"provider": "ollama"})).status_code == 201


async def test_wrong_field_types_are_a_400_naming_the_field(client) -> None:
    for field, value in [("priority", "high"), ("priority", 10**12), ("priority", 1.5), ("isActive", "yes"),
                         ("apiKey", 42), ("name", []), ("defaultModel", 3), ("proxy", "ftp://proxy:21")]:
        response = await client.post("/api/providers", json={"provider": "openai", "apiKey": KEY, field: value})
        assert response.status_code == 400, field
        assert f"`{field}`" in response.json()["error"]
    assert (await client.get("/api/providers")).json()["total"] == 0


async def test_the_list_has_the_reference_shape(client) -> None:
    await add(client, name="one")
    await add(client, name="two")
    await add(client, provider="groq", apiKey="gsk-abc")
    listed = (await client.get("/api/providers")).json()
    assert listed["total"] == 3 and {c["name"] for c in listed["connections"]} == {"one", "two", "Groq"}
    only_groq = (await client.get("/api/providers", params={"provider": "groq"})).json()
    assert only_groq["total"] == 1 and only_groq["connections"][0]["provider"] == "groq"


async def test_one_connection_is_read_by_id(client) -> None:
    created = await add(client)
    response = await client.get(f"/api/providers/{created['id']}")
    assert response.status_code == 200 and response.json() == {"connection": created}


async def test_an_unknown_connection_is_a_404(client) -> None:
    response = await client.get("/api/providers/999")
    assert response.status_code == 404 and "999" in response.json()["error"]


async def test_an_update_changes_only_the_fields_sent(services: CoreServices, client) -> None:
    created = await add(client, name="before", priority=1)
    response = await client.put(f"/api/providers/{created['id']}", json={"name": "after", "isActive": False})
    assert response.status_code == 200
    connection = response.json()["connection"]
    assert connection["name"] == "after" and connection["isActive"] is False and connection["priority"] == 1
    assert services.accounts.get_account(created["id"]).api_key == KEY


async def test_sending_the_masked_key_back_keeps_the_stored_key(services: CoreServices, client) -> None:
    created = await add(client, apiKey="sk-proj-abcdefghijkl")
    edited = {**created, "name": "renamed"}  # a UI saving the whole form it was shown
    response = await client.put(f"/api/providers/{created['id']}", json=edited)
    assert response.status_code == 200
    assert services.accounts.get_account(created["id"]).api_key == "sk-proj-abcdefghijkl"


async def test_an_update_can_replace_the_key(services: CoreServices, client) -> None:
    created = await add(client)
    await client.put(f"/api/providers/{created['id']}", json={"apiKey": "sk-new-key-0123456789"})
    assert services.accounts.get_account(created["id"]).api_key == "sk-new-key-0123456789"


async def test_a_connection_cannot_move_to_another_provider(client) -> None:
    created = await add(client)
    response = await client.put(f"/api/providers/{created['id']}", json={"provider": "groq"})
    assert response.status_code == 400 and "another provider" in response.json()["error"]


async def test_a_bad_update_writes_nothing(services: CoreServices, client) -> None:
    created = await add(client, name="kept")
    response = await client.put(f"/api/providers/{created['id']}", json={"name": "changed", "priority": "x"})
    assert response.status_code == 400
    assert services.accounts.get_account(created["id"]).name == "kept"


async def test_deleting_a_connection_removes_it(client) -> None:
    created = await add(client)
    response = await client.delete(f"/api/providers/{created['id']}")
    assert response.status_code == 200
    assert (await client.get(f"/api/providers/{created['id']}")).status_code == 404
    assert (await client.delete(f"/api/providers/{created['id']}")).status_code == 404


async def test_a_provider_added_by_post_serves_chat_at_once(client, upstream, openai_via_fake) -> None:
    await add(client)
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert upstream.requests[-1].headers["authorization"] == f"Bearer {KEY}"


async def test_a_deactivated_connection_stops_serving_at_once(client, upstream, openai_via_fake) -> None:
    created = await add(client)
    await client.put(f"/api/providers/{created['id']}", json={"isActive": False})
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 400 and "No active OpenAI account" in response.json()["error"]["message"]


async def test_a_deleted_connection_stops_serving_at_once(client, upstream, openai_via_fake) -> None:
    created = await add(client)
    await client.delete(f"/api/providers/{created['id']}")
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 400


async def test_the_test_button_reports_success_with_latency(client, upstream, openai_via_fake) -> None:
    created = await add(client)
    response = await client.post(f"/api/providers/{created['id']}/test")
    assert response.status_code == 200
    result = response.json()
    assert result["valid"] is True and result["latencyMs"] > 0 and "Connected in" in result["message"]


async def test_the_test_button_explains_a_rejected_key(client, upstream, openai_via_fake) -> None:
    created = await add(client, apiKey="sk-status-401")
    result = (await client.post(f"/api/providers/{created['id']}/test")).json()
    assert result["valid"] is False and result["error"].startswith("The provider rejected the API key (HTTP 401)")


async def test_the_model_list_merges_live_and_catalogue_models(client, upstream, openai_via_fake) -> None:
    created = await add(client)
    response = await client.get(f"/api/providers/{created['id']}/models")
    assert response.status_code == 200
    body = response.json()
    models = {m["id"]: m for m in body["models"]}
    assert models["fake-model"] == {"id": "fake-model", "fullId": "openai/fake-model", "kind": None, "context": None,
                                    "price": None, "catalog": False, "live": True}
    assert models["gpt-4.1"]["catalog"] is True and models["gpt-4.1"]["price"]["input"] == 2.0
    assert body["live"]["valid"] is True


async def test_the_catalogue_lists_every_provider_with_priced_models(client) -> None:
    response = await client.get("/api/providers/catalog")
    assert response.status_code == 200
    providers = {p["id"]: p for p in response.json()["providers"]}
    assert set(providers) == {p.id for p in catalog.providers()}
    openai = providers["openai"]
    assert openai["prefix"] == "openai" and openai["format"] == "openai" and openai["local"] is False
    assert openai["keyUrl"] == "https://platform.openai.com/api-keys"
    gpt = next(m for m in openai["models"] if m["id"] == "gpt-4.1")
    assert gpt["price"] == {"input": 2.0, "output": 8.0, "cachedInput": 0.5}
    assert providers["ollama"]["local"] is True and providers["ollama"]["needsKey"] is False
