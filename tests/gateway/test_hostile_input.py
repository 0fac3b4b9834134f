"""Inputs that used to get a 500 or no answer get a 4xx in the route's own error shape: path ids past
64 bits, JSON nested thousands deep, lone surrogates (escaped or raw), absurd prices and usage numbers."""

from __future__ import annotations

import time

import pytest

from core.services import CoreServices
from core.store import rollups
from core.store.models import UsageRow

HUGE_ID = str(2**63)
DEEP = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/providers/{id}"), ("PUT", "/api/providers/{id}"), ("DELETE", "/api/providers/{id}"),
    ("POST", "/api/providers/{id}/test"), ("GET", "/api/providers/{id}/models"),
    ("GET", "/api/provider-nodes/{id}"), ("PATCH", "/api/provider-nodes/{id}"),
    ("DELETE", "/api/provider-nodes/{id}"), ("DELETE", "/api/keys/{id}"),
])
@pytest.mark.parametrize("ident", [HUGE_ID, "9" * 40, "18446744073709551616"])
async def test_ids_past_64_bits_are_a_404_in_the_management_shape(client, method, path, ident) -> None:
    response = await client.request(method, path.format(id=ident), json={})
    assert response.status_code == 404 and isinstance(response.json()["error"], str)


@pytest.mark.parametrize("path", ["/api/settings", "/api/models/alias", "/api/provider-nodes"])
async def test_json_nested_thousands_deep_is_a_400_for_management(client, path) -> None:
    response = await client.put(path, content=b'{"a": ' + DEEP + b"}") if path == "/api/settings" else \
        await client.post(path, content=DEEP)
    assert response.status_code == 400 and "JSON" in response.json()["error"]


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/api/chat"])
async def test_json_nested_thousands_deep_is_a_400_for_the_gateway(client, path) -> None:
    response = await client.post(path, content=b'{"model": "openai/x", "messages": ' + DEEP + b"}")
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("body", [b'{"alias": "a\\ud800", "model": "openai/gpt-4.1"}',
                                  b'{"alias": "a\xed\xa0\x80", "model": "openai/gpt-4.1"}',
                                  b'{"alias\\udfff": "a", "model": "openai/gpt-4.1"}'])
async def test_lone_surrogates_are_a_400_for_management(client, body) -> None:
    response = await client.post("/api/models/alias", content=body)
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    assert (await client.get("/api/models/alias")).json()["aliases"] == {}


@pytest.mark.parametrize("body", [b'{"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "\\ud800"}]}',
                                  b'{"model": "openai/gpt-4.1\xed\xa0\x80", "messages": []}'])
async def test_lone_surrogates_are_a_400_for_the_gateway(client, body) -> None:
    response = await client.post("/v1/chat/completions", content=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


async def test_an_escaped_surrogate_pair_is_real_text_and_accepted(client) -> None:
    body = b'{"alias": "smile-\\ud83d\\ude00", "model": "openai/gpt-4.1"}'
    response = await client.post("/api/models/alias", content=body)
    assert response.status_code == 201 and response.json()["alias"] == "smile-😀"


async def test_a_huge_price_override_is_refused(client) -> None:
    response = await client.put("/api/settings", json={"priceOverrides": {"openai/gpt-4.1": {"output": 1e300}}})
    assert response.status_code == 400 and "`priceOverrides`" in response.json()["error"]


async def test_usage_rows_with_infinite_costs_still_read_back(services: CoreServices, client) -> None:
    now = time.time()
    UsageRow.insert_many([  # as an earlier version may have stored them
        {"ts": now - 10, "provider": "openai", "model": "m", "status": 200, "tokens_in": 2**63 - 1,
         "cost": float("inf")},
        {"ts": now - 5, "provider": "openai", "model": "m", "status": 200, "tokens_in": 2**63 - 1, "cost": 1.5},
    ]).execute()
    with services.store.db.atomic():  # the rollups an upgrade builds from such rows
        rollups.rebuild(services.store.db)
    logs = await client.get("/api/usage/logs")
    assert logs.status_code == 200 and [item["cost"] for item in logs.json()["items"]] == [1.5, None]
    history = await client.get("/api/usage/history")
    assert history.status_code == 200
    assert history.json()["totals"]["requests"] == 2 and history.json()["totals"]["promptTokens"] > 2**63
