"""How the management API treats requests as a whole: bad bodies are clear 4xx answers in its own shape,
store work never runs on the event loop, changes are snapshotted first and survive a restore."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from core.services import CoreServices


@pytest.mark.parametrize("body, expected", [
    (b'{"provider": "openai",', "not valid JSON"),
    (b"[1, 2]", "must be a JSON object, not an array"),
    (b'"text"', "must be a JSON object, not a string"),
    (b"", "body is empty"),
    (b'{"provider": "openai", "priority": NaN}', "not valid JSON"),
    (b'{"provider": "openai", "priority": 1e400}', "too large a number"),
    (b"\xff\xfe", "not valid JSON"),
])
async def test_a_bad_body_is_a_400_that_says_what_is_wrong(client, body: bytes, expected: str) -> None:
    response = await client.post("/api/providers", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert expected in response.json()["error"]


async def test_a_huge_body_is_a_413(client) -> None:
    response = await client.post("/api/providers", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert response.status_code == 413 and "KiB" in response.json()["error"]


async def test_an_unknown_path_is_a_404_in_the_management_shape(client) -> None:
    response = await client.get("/api/providers/abc")
    assert response.status_code == 404 and set(response.json()) == {"error"}


async def test_a_wrong_method_is_a_405_listing_the_allowed_ones(client) -> None:
    response = await client.delete("/api/settings")
    assert response.status_code == 405
    assert "GET" in response.json()["error"] and "PUT" in response.json()["error"]


async def test_store_work_never_runs_on_the_event_loop(services: CoreServices, client, monkeypatch) -> None:
    loop_thread = threading.get_ident()
    on_loop: list[str] = []
    database = services.store.db
    execute_sql = database.execute_sql

    def recording(sql, *args, **kwargs):
        if threading.get_ident() == loop_thread:
            on_loop.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", recording)
    created = (await client.post("/api/providers", json={"provider": "ollama"})).json()["connection"]
    endpoint = (await client.post("/api/provider-nodes", json={"prefix": "n", "baseUrl": "http://127.0.0.1:9"})).json()
    key = (await client.post("/api/keys", json={"name": "k"})).json()
    for method, path, body in [
        ("PUT", f"/api/providers/{created['id']}", {"name": "x"}), ("GET", "/api/providers", None),
        ("PUT", f"/api/provider-nodes/{endpoint['node']['id']}", {"name": "y"}), ("GET", "/api/provider-nodes", None),
        ("DELETE", f"/api/keys/{key['id']}", None), ("GET", "/api/keys", None),
        ("PUT", "/api/settings", {"maxBodyMb": 8}), ("GET", "/api/settings", None),
        ("PUT", "/api/settings/proxy", {"global": "http://127.0.0.1:3128"}), ("GET", "/api/settings/proxy", None),
        ("POST", "/api/models/alias", {"alias": "a", "model": "ollama/llama3.2"}), ("GET", "/api/models/alias", None),
        ("GET", "/api/usage/history", None), ("GET", "/api/usage/logs", None),
        ("PUT", "/api/settings/require-login", {"requireLogin": False}),
        ("DELETE", f"/api/providers/{created['id']}", None),
    ]:
        response = await client.request(method, path, json=body)
        assert response.status_code < 300, (path, response.text)
    assert on_loop == []


async def test_a_change_takes_a_backup_snapshot_first(services: CoreServices, client) -> None:
    await client.post("/api/providers", json={"provider": "ollama"})
    assert [s.reason for s in services.backups.list_snapshots()] == ["before adding a provider connection"]


async def test_the_api_reads_the_restored_store_after_a_restore(services: CoreServices, client,
                                                                tmp_path: Path) -> None:
    await client.post("/api/providers", json={"provider": "ollama", "name": "kept"})
    exported = tmp_path / "backup.sqlite"
    await asyncio.get_running_loop().run_in_executor(None, services.backups.export_sqlite, exported)
    await client.post("/api/providers", json={"provider": "ollama", "name": "after the backup"})
    await services.backups.import_file(exported)
    listed = (await client.get("/api/providers")).json()
    assert [c["name"] for c in listed["connections"]] == ["kept"]
