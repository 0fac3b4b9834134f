"""`/api/models/alias`: bare names for `prefix/model`, live on `/v1` at once."""

from __future__ import annotations

from core.services import CoreServices


async def test_an_alias_is_created_and_listed(client) -> None:
    response = await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    assert response.status_code == 201 and response.json()["aliases"] == {"fast": "openai/gpt-4.1-mini"}
    assert (await client.get("/api/models/alias")).json() == {"aliases": {"fast": "openai/gpt-4.1-mini"}}


async def test_setting_an_existing_alias_replaces_it(client) -> None:
    await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    response = await client.post("/api/models/alias", json={"alias": "fast", "model": "ds/deepseek-chat"})
    assert response.status_code == 200 and response.json()["aliases"] == {"fast": "ds/deepseek-chat"}


async def test_an_alias_serves_chat_at_once(services: CoreServices, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    response = await client.post("/v1/chat/completions", json={"model": "fast",
                                                               "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and upstream.requests[-1].body["model"] == "gpt-4.1-mini"


async def test_an_alias_to_an_unknown_prefix_is_a_400_listing_the_known_ones(client) -> None:
    response = await client.post("/api/models/alias", json={"alias": "fast", "model": "nope/x"})
    assert response.status_code == 400
    assert "nope/x" in response.json()["error"] and "openai" in response.json()["error"]


async def test_an_alias_may_point_to_another_alias(client) -> None:
    await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    assert (await client.post("/api/models/alias", json={"alias": "quick", "model": "fast"})).status_code == 201


async def test_alias_fields_must_be_strings(client) -> None:
    response = await client.post("/api/models/alias", json={"alias": 5, "model": "openai/gpt-4.1"})
    assert response.status_code == 400 and "`alias`" in response.json()["error"]
    response = await client.post("/api/models/alias", json={"alias": "a"})
    assert response.status_code == 400 and "`model`" in response.json()["error"]


async def test_deleting_an_alias_removes_it(client) -> None:
    await client.post("/api/models/alias", json={"alias": "fast", "model": "openai/gpt-4.1-mini"})
    response = await client.delete("/api/models/alias", params={"alias": "fast"})
    assert response.status_code == 200
    assert (await client.get("/api/models/alias")).json() == {"aliases": {}}


async def test_deleting_needs_an_existing_alias_named_in_the_query(client) -> None:
    assert (await client.delete("/api/models/alias")).status_code == 400
    assert (await client.delete("/api/models/alias", params={"alias": "ghost"})).status_code == 404
