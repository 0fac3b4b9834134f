"""`/api/keys*`: a key is shown once at creation, listed masked afterwards, and revoked at once."""

from __future__ import annotations

from core.services import CoreServices

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def create(client, name: str = "ide") -> dict:
    response = await client.post("/api/keys", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def test_creating_a_key_returns_the_plaintext_once(client) -> None:
    created = await create(client)
    assert created["key"].startswith("qg-") and len(created["key"]) > 30 and created["name"] == "ide"
    listed = (await client.get("/api/keys")).json()
    assert listed["total"] == 1
    shown = listed["keys"][0]
    assert shown["id"] == created["id"] and shown["key"] == created["key"][:8] + "…"
    assert created["key"] not in str(listed)


async def test_a_key_without_a_name_is_called_unnamed(client) -> None:
    response = await client.post("/api/keys")
    assert response.status_code == 201 and response.json()["name"] == "unnamed"


async def test_a_key_name_must_be_a_string(client) -> None:
    response = await client.post("/api/keys", json={"name": 12})
    assert response.status_code == 400 and "`name`" in response.json()["error"]


async def test_a_new_key_works_on_v1_at_once(client, services: CoreServices, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.put("/api/settings", json={"requireApiKey": True})
    created = await create(client)
    response = await client.post("/v1/chat/completions", json=CHAT, headers=bearer(created["key"]))
    assert response.status_code == 200


async def test_a_revoked_key_is_refused_on_v1_at_once(client, services: CoreServices, upstream,
                                                      openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    await client.put("/api/settings", json={"requireApiKey": True})
    created = await create(client)
    response = await client.delete(f"/api/keys/{created['id']}")
    assert response.status_code == 200
    refused = await client.post("/v1/chat/completions", json=CHAT, headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert (await client.get("/api/keys")).json()["keys"][0]["revoked"] is True


async def test_revoking_an_unknown_or_revoked_key_is_a_404(client) -> None:
    created = await create(client)
    await client.delete(f"/api/keys/{created['id']}")
    assert (await client.delete(f"/api/keys/{created['id']}")).status_code == 404
    assert (await client.delete("/api/keys/999")).status_code == 404
