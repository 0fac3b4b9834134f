"""One way to change configuration (core/configuration.py): every change is validated, snapshotted, written
in one IMMEDIATE transaction and reloaded; a stored value never stops the program; secrets stay sealed."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import tarfile
from pathlib import Path

import httpx
import pytest

from core import settings
from core.services import CoreServices
from core.settings import ConfigError
from core.store.models import ProviderAccount, ProviderNode, Setting

PROXY_PASSWORD = "hunter2-proxy-pw"
HEADER_SECRET = "team-token-0123456789"


# --- #1: out-of-range settings are refused at the door; a bad stored one never stops a start ---------------


@pytest.mark.parametrize("field,value", [("maxBodyMb", 1e308), ("maxBodyMb", 0), ("maxBodyMb", -1),
                                         ("maxBodyMb", 10**400 // 10**399 * 10**6),
                                         ("upstreamReadTimeoutS", 1e308), ("upstreamReadTimeoutS", "5"),
                                         ("requireApiKey", 1), ("allowedHosts", "evil.example"),
                                         ("priceOverrides", {"openai/gpt-4.1": {"input": 1e308}})])
async def test_out_of_range_settings_are_a_400_naming_the_field(client, field, value) -> None:
    response = await client.put("/api/settings", json={field: value})
    assert response.status_code == 400, response.text
    assert f"`{field}`" in response.json()["error"]


async def test_after_a_refused_value_later_changes_still_work(client) -> None:
    assert (await client.put("/api/settings", json={"maxBodyMb": 1e308})).status_code == 400
    response = await client.put("/api/settings", json={"maxBodyMb": 16})
    assert response.status_code == 200 and response.json()["maxBodyMb"] == 16


async def test_a_store_holding_an_unusable_value_starts_reports_it_and_uses_the_default(data_dir: Path,
                                                                                      caplog) -> None:
    first = CoreServices(data_dir, port=0)
    await first.start(serve=False)
    for key, value in ((settings.KEY_MAX_BODY_MB, 1e308), (settings.KEY_UPSTREAM_TIMEOUT, -3),
                       (settings.KEY_QUOTA_INTERVAL, "often"), (settings.KEY_PRICE_OVERRIDES, [1, 2])):
        first.store.set_setting(key, value)  # what an old version or a hand edit may have left
    await first.stop()

    caplog.set_level(logging.WARNING)
    again = CoreServices(data_dir, port=0)
    state = await again.start()
    try:
        assert state.running
        assert again.runtime.config.max_body_bytes == 32 * 1024 * 1024
        assert again.store.get_setting(settings.KEY_MAX_BODY_MB) is None  # replaced by the default
        assert any("gateway.max_body_mb" in r.getMessage() and "default" in r.getMessage() for r in caplog.records)
        async with httpx.AsyncClient(base_url=state.url) as http:
            assert (await http.get("/api/settings")).json()["maxBodyMb"] == 32
    finally:
        await again.stop()


async def test_quota_settings_apply_headless(services: CoreServices) -> None:
    await services.configuration.update_settings({settings.KEY_QUOTA_INTERVAL: 600,
                                                  settings.KEY_QUOTA_THRESHOLDS: [40, 10]})
    assert services.quota.interval == 600
    assert services.quota.notifier.thresholds == (40.0, 10.0)


async def test_the_service_refuses_before_it_snapshots(services: CoreServices, monkeypatch) -> None:
    reasons: list[str] = []

    async def snapshot(reason: str) -> None:
        reasons.append(reason)

    monkeypatch.setattr(services.configuration, "_before_change", snapshot)
    with pytest.raises(ConfigError):
        await services.configuration.update_settings({settings.KEY_MAX_BODY_MB: float("inf")})
    with pytest.raises(ConfigError):
        await services.configuration.set_proxies({"global": "ftp://127.0.0.1:21"})
    assert reasons == []


# --- #3: concurrent writers wait for each other instead of failing ---------------------------------------


async def test_sixteen_concurrent_management_writes_all_succeed(client) -> None:
    async def write(i: int) -> httpx.Response:
        if i % 4 == 0:
            return await client.post("/api/models/alias", json={"alias": f"a{i}", "model": "openai/gpt-4.1"})
        if i % 4 == 1:
            return await client.post("/api/provider-nodes", json={"prefix": f"n{i}", "baseUrl": "http://127.0.0.1:9"})
        if i % 4 == 2:
            return await client.put("/api/settings", json={"maxBodyMb": i + 1})
        return await client.post("/api/keys", json={"name": f"k{i}"})

    for _ in range(2):
        responses = await asyncio.gather(*(write(i) for i in range(16)))
        assert [r.status_code for r in responses if r.status_code >= 300] == [], [r.text for r in responses]
        await asyncio.gather(*(client.delete(f"/api/provider-nodes/{n['id']}")
                               for n in (await client.get("/api/provider-nodes")).json()["nodes"]))


# --- #10: proxy passwords and header values are sealed at rest, in snapshots and in exports -------------


async def _add_secrets(client: httpx.AsyncClient) -> None:
    proxy = f"http://bob:{PROXY_PASSWORD}@127.0.0.1:3128"
    assert (await client.put("/api/settings/proxy", json={"global": proxy,
                                                          "providers": {"openai": proxy}})).status_code == 200
    assert (await client.post("/api/providers", json={"provider": "openai", "apiKey": "sk-test-0123456789",
                                                      "proxy": proxy})).status_code == 201
    assert (await client.post("/api/provider-nodes", json={"prefix": "lab", "baseUrl": "http://127.0.0.1:9/v1",
                                                           "headers": {"X-Team": HEADER_SECRET}})).status_code == 201


def _raw_store_text(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(str(row) for table in ("setting", "provider_account", "provider_node")
                         for row in conn.execute(f"SELECT * FROM {table}"))
    finally:
        conn.close()


async def test_proxy_passwords_and_header_values_are_sealed_at_rest(services: CoreServices, client) -> None:
    await _add_secrets(client)
    stored = _raw_store_text(services.store.path)
    assert PROXY_PASSWORD not in stored and HEADER_SECRET not in stored
    # ...and the running program still uses them
    assert services.store.get_setting(settings.KEY_PROXY)["global"].endswith(f"{PROXY_PASSWORD}@127.0.0.1:3128")
    endpoint = services.accounts.endpoints()[0]
    assert endpoint.headers == {"X-Team": HEADER_SECRET} and not endpoint.needs_key
    assert services.accounts.accounts()[0].options["proxy"].endswith("@127.0.0.1:3128")


async def test_snapshots_and_exports_hold_no_plaintext_proxy_password(services: CoreServices, client,
                                                                      tmp_path: Path) -> None:
    await _add_secrets(client)
    snapshot = services.backups.create_snapshot("test")
    snapshot_file = services.backups.snapshots / f"{snapshot.id}.sqlite"
    assert PROXY_PASSWORD.encode() not in snapshot_file.read_bytes()
    response = await client.get("/api/db-backups/exportAll")
    assert response.status_code == 200
    archive = tmp_path / "all.tar.gz"
    archive.write_bytes(response.content)
    with tarfile.open(archive) as tar:
        readable = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert all(PROXY_PASSWORD.encode() not in content and HEADER_SECRET.encode() not in content
               for content in readable.values())
    assert settings.KEY_PROXY not in json.loads(readable["settings.json"])


async def test_plaintext_secrets_of_earlier_versions_are_sealed_at_start(data_dir: Path) -> None:
    first = CoreServices(data_dir, port=0)
    await first.start(serve=False)
    proxy = f"socks5://u:{PROXY_PASSWORD}@127.0.0.1:1080"
    Setting.insert(key=settings.KEY_PROXY, value=json.dumps({"global": proxy, "providers": {}})) \
        .on_conflict_replace().execute()
    ProviderAccount.create(provider="openai", name="old", options=json.dumps({"proxy": proxy}), created_at=0,
                           updated_at=0)
    ProviderNode.create(prefix="old", name="old", base_url="http://127.0.0.1:9", api_format="openai",
                        headers=json.dumps({"X-Team": HEADER_SECRET}), created_at=0, updated_at=0)
    path = first.store.path
    await first.stop()

    again = CoreServices(data_dir, port=0)
    await again.start(serve=False)
    try:
        stored = _raw_store_text(path)
        assert PROXY_PASSWORD not in stored and HEADER_SECRET not in stored
        assert again.store.get_setting(settings.KEY_PROXY)["global"] == proxy
        assert again.accounts.accounts()[0].options["proxy"] == proxy
        assert again.accounts.endpoints()[0].headers == {"X-Team": HEADER_SECRET}
    finally:
        await again.stop()
