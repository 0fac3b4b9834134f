"""`/api/compliance/audit-log`: every configuration change — when, from where (window, API, CLI), what — with
secrets masked, newest first, kept within its retention. (A change from the window: tests/reference_api/
test_gateway_rules_page.py.)"""

from __future__ import annotations

import time

from core import audit
from core.gateway.management.common import off_loop
from core.store.models import AuditEntry


async def entries(client, limit: int = 50) -> list[dict]:
    response = await client.get("/api/compliance/audit-log", params={"limit": limit})
    assert response.status_code == 200
    return response.json()["entries"]


async def test_a_change_through_the_api_is_recorded_with_its_secret_masked(client, services) -> None:
    secret = "sk-live-0123456789abcdefSECRET"
    response = await client.post("/api/providers", json={"provider": "openai", "name": "Work", "apiKey": secret,
                                                          "proxy": "http://bob:hunter22@proxy.example:3128"})
    assert response.status_code == 201, response.text
    [entry] = await entries(client)
    assert entry["source"] == "api" and entry["action"] == "adding a provider connection"
    assert abs(entry["timestamp"] - time.time()) < 10
    assert entry["details"]["provider"] == "openai" and entry["details"]["name"] == "Work"
    assert entry["details"]["apiKey"] == "sk-l…CRET"
    assert entry["details"]["proxy"] == "http://•••@proxy.example:3128"
    raw = (await client.get("/api/compliance/audit-log")).text
    assert secret not in raw and "hunter22" not in raw


async def test_every_kind_of_change_is_recorded_newest_first(client, services) -> None:
    await client.put("/api/settings", json={"maxBodyMb": 8})
    key = (await client.post("/api/keys", json={"name": "Cursor"})).json()
    await client.post("/api/usage/budget", json={"keyId": key["id"], "limit": 5, "period": "daily"})
    await client.put("/api/settings/ip-filter", json={"allow": ["10.0.0.0/8"]})
    await client.post("/api/policies", json={"name": "p", "blockProviders": ["xai"]})
    actions = [e["action"] for e in await entries(client)]
    assert actions == ["saving a routing policy", "changing the IP filter", "changing an API key's budget",
                       "creating an API key", "changing settings"]
    newest = (await entries(client))[0]
    assert newest["details"]["policy"]["blockProviders"] == ["xai"]
    assert key["key"] not in (await client.get("/api/compliance/audit-log")).text


async def test_a_refused_change_leaves_no_entry(client) -> None:
    assert (await client.put("/api/settings", json={"maxBodyMb": -1})).status_code == 400
    assert await entries(client) == []


async def test_a_change_from_the_core_without_the_api_counts_as_the_cli(client, services) -> None:
    await services.configuration.create_key("from a script")
    [entry] = await entries(client)
    assert entry["source"] == "cli"


async def test_limit_bounds_the_answer_and_is_checked(client, services) -> None:
    for name in ("a", "b", "c"):
        await services.configuration.set_alias(name, "openai/gpt-4.1")
    assert [e["details"]["alias"] for e in await entries(client, 2)] == ["c", "b"]
    assert (await client.get("/api/compliance/audit-log", params={"limit": 0})).status_code == 400
    assert (await client.get("/api/compliance/audit-log", params={"limit": "x"})).status_code == 400


async def test_entries_past_the_retention_are_pruned(client, services) -> None:
    old = time.time() - (audit.MAX_AGE_DAYS + 1) * 86400
    await off_loop(AuditEntry.create, ts=old, source="cli", action="ancient", details="{}")
    await services.configuration.create_key("new")
    assert [e["action"] for e in await entries(client)] == ["creating an API key"]


def test_secrets_are_masked_by_name_and_by_shape() -> None:
    masked = audit.masked({"apiKey": "abcdefghijklmnop", "keyId": 7, "headers": {"X-Team": "team-token-123456"},
                           "settings": {"gateway.proxy": {"global": "socks5://u:p@h:1080"}},
                           "note": "Bearer abcdefghijklmnopqrstuvwxyz", "name": "Work"})
    assert masked == {"apiKey": "abcd…mnop", "keyId": 7, "headers": {"X-Team": "team…3456"},
                      "settings": {"gateway.proxy": {"global": "socks5://•••@h:1080"}},
                      "note": "Bearer [redacted]", "name": "Work"}
