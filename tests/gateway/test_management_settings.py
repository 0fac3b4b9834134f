"""`/api/settings`: whitelisted, typed settings that take effect at once, plus read-only facts."""

from __future__ import annotations

from core import __version__, settings
from core.services import CoreServices

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


async def test_the_defaults_and_read_only_facts_are_shown(services: CoreServices, client) -> None:
    body = (await client.get("/api/settings")).json()
    assert body == {
        "requireApiKey": False, "maxBodyMb": 32, "upstreamReadTimeoutS": 300.0, "upstreamConnectTimeoutS": 10.0,
        "upstreamFirstByteTimeoutS": 60.0, "upstreamAnswerTimeoutS": 600.0, "priceOverrides": {},
        "allowedHosts": [], "accountSelection": "fill-first", "requestLogDays": 30, "requestLogRows": 1_000_000, "apiKeysEnforced": False, "requireLogin": False, "host": "127.0.0.1", "port": services.gateway_state.port,
        "version": __version__, "dataDir": str(services.data_folder),
    }


async def test_a_change_is_stored_and_answered(services: CoreServices, client) -> None:
    response = await client.put("/api/settings", json={"maxBodyMb": 2, "upstreamReadTimeoutS": 30})
    assert response.status_code == 200
    assert response.json()["maxBodyMb"] == 2 and response.json()["upstreamReadTimeoutS"] == 30
    assert services.store.get_setting(settings.KEY_MAX_BODY_MB) == 2
    assert services.runtime.config.read_timeout == 30


async def test_requiring_api_keys_applies_to_v1_at_once(services: CoreServices, client, upstream,
                                                        openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.put("/api/settings", json={"requireApiKey": True})
    assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 401


async def test_a_smaller_body_limit_applies_to_v1_at_once(services: CoreServices, client, upstream,
                                                          openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.put("/api/settings", json={"maxBodyMb": 0.001})
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
    assert (await client.post("/v1/chat/completions", json=big)).status_code == 413


async def test_a_wrong_type_is_a_400_naming_the_field(client) -> None:
    for field, value in [("requireApiKey", "true"), ("maxBodyMb", 0), ("maxBodyMb", -1), ("maxBodyMb", True),
                         ("upstreamReadTimeoutS", "30"), ("priceOverrides", [])]:
        response = await client.put("/api/settings", json={field: value})
        assert response.status_code == 400, (field, value)
        assert f"`{field}`" in response.json()["error"]


async def test_a_bad_field_writes_nothing_of_the_request(services: CoreServices, client) -> None:
    response = await client.put("/api/settings", json={"maxBodyMb": 5, "requireApiKey": "yes"})
    assert response.status_code == 400
    assert services.store.get_setting(settings.KEY_MAX_BODY_MB) is None


async def test_an_unknown_setting_is_a_400_listing_the_writable_ones(client) -> None:
    response = await client.put("/api/settings", json={"requireApiKeys": True})
    assert response.status_code == 400
    assert "requireApiKeys" in response.json()["error"] and "maxBodyMb" in response.json()["error"]


async def test_read_only_facts_sent_back_are_ignored(services: CoreServices, client) -> None:
    shown = (await client.get("/api/settings")).json()
    response = await client.put("/api/settings", json={**shown, "port": 1, "version": "9", "maxBodyMb": 4})
    assert response.status_code == 200
    assert response.json()["port"] == services.gateway_state.port and response.json()["maxBodyMb"] == 4


async def test_price_overrides_are_validated_by_the_catalogue(client) -> None:
    response = await client.put("/api/settings", json={"priceOverrides": {"openai/gpt-4.1": {"input": -1}}})
    assert response.status_code == 400
    assert "priceOverrides" in response.json()["error"] and "non-negative" in response.json()["error"]
    response = await client.put("/api/settings", json={"priceOverrides": {"gpt-4.1": {"input": 1}}})
    assert response.status_code == 400 and "provider/model" in response.json()["error"]


async def test_price_overrides_show_in_the_catalogue_at_once(client) -> None:
    response = await client.put("/api/settings", json={"priceOverrides": {"oai/gpt-4.1": {"input": 1.5}}})
    assert response.status_code == 200
    catalogue = (await client.get("/api/providers/catalog")).json()["providers"]
    gpt = next(m for m in catalogue[0]["models"] if m["id"] == "gpt-4.1")
    assert gpt["price"] == {"input": 1.5, "output": 8.0, "cachedInput": 0.5}


async def test_an_unusable_stored_value_shows_as_the_default(services: CoreServices, client) -> None:
    services.store.set_setting(settings.KEY_MAX_BODY_MB, "lots")
    assert (await client.get("/api/settings")).json()["maxBodyMb"] == 32
