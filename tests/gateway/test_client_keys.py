"""Client API keys: optional on loopback, required when asked or when listening beyond loopback."""

from __future__ import annotations

import httpx

from core import settings
from core.gateway import client_keys
from core.services import CoreServices
from core.store.models import ApiKey, UsageRow

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


async def require_keys(services: CoreServices) -> client_keys.CreatedKey:
    created = client_keys.create_key("ide")
    services.store.set_setting(settings.KEY_REQUIRE_API_KEY, True)
    await services.reload_gateway_config()
    return created


async def test_keys_are_optional_on_loopback_by_default(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200


async def test_a_required_key_missing_is_a_401_saying_how_to_get_one(services, client, upstream,
                                                                     openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await require_keys(services)
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 401
    assert "Missing API key" in response.json()["error"]["message"]
    assert upstream.requests == []


async def test_a_bearer_key_or_an_x_api_key_is_accepted(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    created = await require_keys(services)
    bearer = await client.post("/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {created.key}"})
    x_api_key = await client.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": created.key})
    assert bearer.status_code == 200 and x_api_key.status_code == 200


async def test_usage_is_attributed_to_the_key(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    created = await require_keys(services)
    await client.post("/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {created.key}"})
    services.store.writer.flush()
    assert UsageRow.get().api_key_id == created.id


async def test_a_revoked_key_is_refused(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    created = await require_keys(services)
    client_keys.revoke_key(created.id)
    await services.reload_gateway_config()
    response = await client.post("/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {created.key}"})
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


async def test_keys_are_stored_as_hashes_only(services) -> None:
    created = client_keys.create_key("ide")
    row = ApiKey.get_by_id(created.id)
    assert created.key not in (row.key_hash, row.key_prefix)
    assert all(created.key not in str(item.values()) for item in client_keys.list_keys())


async def test_listening_beyond_loopback_requires_a_key(data_dir, upstream, openai_via_fake) -> None:
    services = CoreServices(data_dir, host="0.0.0.0", port=0)
    await services.start()
    try:
        await openai_via_fake(services, "sk-ok")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{services.gateway_state.port}") as client:
            anonymous = await client.post("/v1/chat/completions", json=CHAT)
            models = await client.get("/v1/models")
            created = client_keys.create_key("lan")
            await services.reload_gateway_config()
            keyed = await client.post("/v1/chat/completions", json=CHAT,
                                      headers={"authorization": f"Bearer {created.key}"})
    finally:
        await services.stop()
    assert anonymous.status_code == 401 and models.status_code == 401
    assert keyed.status_code == 200
