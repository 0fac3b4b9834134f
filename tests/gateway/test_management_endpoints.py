"""`/api/provider-nodes*`: custom endpoints with their own prefix, headers and key; header values and keys
masked in answers; live on `/v1` at once."""

from __future__ import annotations

from core.services import CoreServices

TEAM_HEADER = "team-secret-value-123"


async def add_endpoint(client, upstream, **fields) -> dict:
    body = {"prefix": "mynode", "name": "My node", "baseUrl": f"{upstream.url}/v1", "apiType": "openai",
            "headers": {"X-Team": TEAM_HEADER}, "apiKey": "sk-ok", **fields}
    response = await client.post("/api/provider-nodes", json=body)
    assert response.status_code == 201, response.text
    return response.json()["node"]


async def test_creating_a_endpoint_answers_201_with_secrets_masked(client, upstream) -> None:
    endpoint = await add_endpoint(client, upstream, apiKey="node-key-abcdefghij")
    assert endpoint["prefix"] == "mynode" and endpoint["apiType"] == "openai" and endpoint["baseUrl"] == f"{upstream.url}/v1"
    assert endpoint["apiKey"] == "node…ghij" and endpoint["headers"] == {"X-Team": "team…-123"}


async def test_a_endpoint_serves_chat_at_once_with_its_headers_and_key(client, upstream) -> None:
    await add_endpoint(client, upstream)
    response = await client.post("/v1/chat/completions", json={"model": "mynode/llama3",
                                                               "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200 and response.json()["model"] == "mynode/llama3"
    sent = upstream.requests[-1]
    assert sent.body["model"] == "llama3" and sent.headers["x-team"] == TEAM_HEADER
    assert sent.headers["authorization"] == "Bearer sk-ok"


async def test_endpoints_are_listed_and_read_by_id(client, upstream) -> None:
    endpoint = await add_endpoint(client, upstream)
    assert (await client.get("/api/provider-nodes")).json() == {"nodes": [endpoint], "total": 1}
    assert (await client.get(f"/api/provider-nodes/{endpoint['id']}")).json() == {"node": endpoint}


async def test_an_unknown_endpoint_is_a_404(client) -> None:
    assert (await client.get("/api/provider-nodes/77")).status_code == 404
    assert (await client.delete("/api/provider-nodes/77")).status_code == 404


async def test_a_prefix_in_use_is_a_409(client, upstream) -> None:
    await add_endpoint(client, upstream)
    response = await client.post("/api/provider-nodes", json={"prefix": "MyNode", "baseUrl": "http://127.0.0.1:9/v1"})
    assert response.status_code == 409 and "already used" in response.json()["error"]


async def test_a_catalogue_provider_name_cannot_be_a_prefix(client) -> None:
    response = await client.post("/api/provider-nodes", json={"prefix": "ds", "baseUrl": "http://127.0.0.1:9/v1"})
    assert response.status_code == 409 and "DeepSeek" in response.json()["error"]


async def test_bad_endpoint_fields_are_a_400_naming_the_field(client) -> None:
    base = {"prefix": "n1", "baseUrl": "http://127.0.0.1:9/v1"}
    for field, value in [("prefix", "has space"), ("baseUrl", "ftp://x"), ("apiType", "grpc"),
                         ("headers", {"X-A": 1}), ("headers", {"Host": "x"}), ("apiKey", 5)]:
        response = await client.post("/api/provider-nodes", json={**base, field: value})
        assert response.status_code == 400, (field, value)
        assert field in response.json()["error"]
    assert (await client.get("/api/provider-nodes")).json()["total"] == 0


async def test_the_reference_type_field_selects_the_api_type(client) -> None:
    response = await client.post("/api/provider-nodes", json={"prefix": "claudeish", "baseUrl": "http://127.0.0.1:9/v1",
                                                              "type": "anthropic-compatible"})
    assert response.json()["node"]["apiType"] == "anthropic"


async def test_saving_masked_values_back_keeps_the_stored_ones(services: CoreServices, client, upstream) -> None:
    endpoint = await add_endpoint(client, upstream, apiKey="node-key-abcdefghij")
    response = await client.put(f"/api/provider-nodes/{endpoint['id']}", json={**endpoint, "name": "Renamed"})
    assert response.status_code == 200 and response.json()["node"]["name"] == "Renamed"
    stored = services.accounts.endpoints()[0]
    assert stored.api_key == "node-key-abcdefghij" and stored.headers == {"X-Team": TEAM_HEADER}


async def test_an_update_can_change_prefix_headers_and_key(services: CoreServices, client, upstream) -> None:
    endpoint = await add_endpoint(client, upstream)
    response = await client.put(f"/api/provider-nodes/{endpoint['id']}",
                                json={"prefix": "other", "headers": {"X-New": "v"}, "apiKey": "sk-new-0123456789"})
    assert response.status_code == 200
    stored = services.accounts.endpoints()[0]
    assert (stored.prefix, stored.headers, stored.api_key) == ("other", {"X-New": "v"}, "sk-new-0123456789")


async def test_a_deleted_endpoint_stops_serving_at_once(client, upstream) -> None:
    endpoint = await add_endpoint(client, upstream)
    assert (await client.delete(f"/api/provider-nodes/{endpoint['id']}")).status_code == 200
    response = await client.post("/v1/chat/completions", json={"model": "mynode/llama3",
                                                               "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 404
