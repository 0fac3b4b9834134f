"""The reference's /api/db-backups endpoints: list, create, restore, download and upload."""

from __future__ import annotations

import io
import tarfile

import httpx
import pytest

from core.services import CoreServices
from tests.backup.conftest import PROVIDER_KEY, dump, without_secrets


@pytest.fixture
async def api(services: CoreServices):
    async with httpx.AsyncClient(base_url=services.gateway_state.url, timeout=30) as client:
        yield client


async def test_create_then_list_then_restore_a_snapshot(services, api) -> None:
    created = await api.put("/api/db-backups")
    assert created.status_code == 201
    backup_id = created.json()["backup"]["id"]
    listed = (await api.get("/api/db-backups")).json()
    assert backup_id in [b["id"] for b in listed["backups"]]
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    restored = await api.post("/api/db-backups", json={"id": backup_id})
    assert restored.status_code == 200 and restored.json()["counts"]["accounts"] == 2


async def test_export_downloads_an_sqlite_file_and_export_all_an_archive(api) -> None:
    sqlite = await api.get("/api/db-backups/export")
    assert sqlite.status_code == 200 and sqlite.content.startswith(b"SQLite format 3\x00")
    assert "attachment" in sqlite.headers["content-disposition"]
    archive = await api.get("/api/db-backups/exportAll")
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        assert {"quotagate.sqlite", "manifest.json"} <= set(tar.getnames())
    assert PROVIDER_KEY.encode() not in sqlite.content


async def test_an_uploaded_archive_is_restored(services, api) -> None:
    before = dump(services.store.path)
    archive = (await api.get("/api/db-backups/exportAll")).content
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    response = await api.post("/api/db-backups/import", files={"file": ("b.tar.gz", archive)})
    assert response.status_code == 200, response.text
    assert response.json()["backup"]["counts"]["accounts"] == 2
    assert without_secrets(dump(services.store.path)) == without_secrets(before)


async def test_a_raw_body_upload_with_a_passphrase_works(services, api) -> None:
    sqlite = (await api.get("/api/db-backups/export", headers={"x-backup-passphrase": "pw"})).content
    response = await api.post("/api/db-backups/import", content=sqlite, headers={"x-backup-passphrase": "pw"})
    assert response.status_code == 200 and response.json()["accountsNeedingKeys"] == 0


async def test_a_garbage_upload_is_a_400_and_changes_nothing(services, api) -> None:
    before = dump(services.store.path)
    response = await api.post("/api/db-backups/import", content=b"definitely not a backup")
    assert response.status_code == 400
    assert "not a Quotagate backup" in response.json()["error"]
    assert dump(services.store.path) == before


async def test_an_upload_over_the_limit_is_a_413(services, api) -> None:
    services.backups.max_import_mb = 0.001
    response = await api.post("/api/db-backups/import", content=b"x" * 10_000)
    assert response.status_code == 413


async def test_restoring_an_unknown_snapshot_is_a_400(api) -> None:
    response = await api.post("/api/db-backups", json={"id": "nope"})
    assert response.status_code == 400 and "no snapshot" in response.json()["error"]
