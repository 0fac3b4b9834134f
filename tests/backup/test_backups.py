"""Backups that cannot lose data: round trips, hostile files refused, failures rolled back."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from pathlib import Path

import pytest

from core.backup import BackupError
from core.services import CoreServices
from core.store import migrations
from core.store.models import UsageRow
from tests.backup.conftest import NODE_KEY, PROVIDER_KEY, dump, without_secrets


async def test_a_sqlite_export_round_trip_restores_every_row(services: CoreServices, tmp_path: Path) -> None:
    before = dump(services.store.path)
    exported = tmp_path / "backup.sqlite"
    services.backups.export_sqlite(exported)
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    services.store.set_setting("quota.thresholds", [90])

    result = await services.backups.import_file(exported)

    assert result["restored"] and result["accountsNeedingKeys"] == 0
    after = dump(services.store.path)
    assert without_secrets(after) == without_secrets(before)
    assert {a.api_key for a in services.accounts.accounts()} >= {PROVIDER_KEY}


async def test_an_archive_round_trip_restores_every_row(services: CoreServices, tmp_path: Path) -> None:
    before = dump(services.store.path)
    exported = tmp_path / "backup.tar.gz"
    services.backups.export_archive(exported)
    services.accounts.delete_endpoint(services.accounts.endpoints()[0].id)
    await services.backups.import_file(exported)
    assert without_secrets(dump(services.store.path)) == without_secrets(before)
    assert services.accounts.endpoints()[0].api_key == NODE_KEY


async def test_the_archive_holds_a_manifest_and_readable_json_without_secrets(services, tmp_path: Path) -> None:
    exported = tmp_path / "backup.tar.gz"
    services.backups.export_archive(exported)
    with tarfile.open(exported, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = json.loads(members["manifest.json"])
    assert manifest["schemaVersion"] == migrations.LATEST_VERSION
    assert manifest["counts"] == {"accounts": 2, "endpoints": 1, "combos": 1, "keys": 1, "aliases": 1, "usage": 50}
    assert set(manifest["sha256"]) == {"quotagate.sqlite", "settings.json", "combos.json", "providers.json"}
    providers = json.loads(members["providers.json"])
    assert [a["name"] for a in providers["accounts"]] == ["cheap", "work"]
    assert json.loads(members["combos.json"])[0]["name"] == "coding"
    for name in ("settings.json", "combos.json", "providers.json", "manifest.json"):
        for secret in (PROVIDER_KEY, NODE_KEY, "blue"):
            assert secret.encode() not in members[name], (name, secret)


async def test_exported_files_are_owner_only(services, tmp_path: Path) -> None:
    for name, export in (("b.sqlite", services.backups.export_sqlite), ("b.tar.gz", services.backups.export_archive)):
        export(tmp_path / name)
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


async def test_an_export_while_requests_are_logged_is_consistent(services, tmp_path: Path) -> None:
    stop = threading.Event()

    def log_requests() -> None:
        while not stop.is_set():
            services.store.writer.submit(UsageRow, {"ts": time.time(), "provider": "openai", "status": 200})
            time.sleep(0.0005)

    writer = threading.Thread(target=log_requests)
    writer.start()
    try:
        for i in range(5):
            info = services.backups.export_sqlite(tmp_path / f"live-{i}.sqlite")
            assert info.counts["usage"] >= 50
    finally:
        stop.set()
        writer.join()
    assert services.backups.inspect(tmp_path / "live-4.sqlite").schema_version == migrations.LATEST_VERSION


def make_archive(path: Path, members: dict[str, bytes], manifest: dict | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**members, **({"manifest.json": json.dumps(manifest).encode()} if manifest else {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


async def assert_refused(services: CoreServices, backup: Path, match: str, passphrase: str | None = None) -> None:
    before = dump(services.store.path)
    with pytest.raises(BackupError, match=match):
        services.backups.inspect(backup)
    with pytest.raises(BackupError, match=match):
        await services.backups.import_file(backup, passphrase)
    assert dump(services.store.path) == before


async def test_a_truncated_sqlite_file_is_refused(services, tmp_path: Path) -> None:
    exported = tmp_path / "b.sqlite"
    services.backups.export_sqlite(exported)
    truncated = tmp_path / "truncated.sqlite"
    truncated.write_bytes(exported.read_bytes()[: exported.stat().st_size // 2])
    await assert_refused(services, truncated, "damaged|truncated")


async def test_a_truncated_archive_is_refused(services, tmp_path: Path) -> None:
    exported = tmp_path / "b.tar.gz"
    services.backups.export_archive(exported)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(exported.read_bytes()[:-200])
    await assert_refused(services, truncated, "truncated|not a readable")


async def test_a_file_that_is_not_a_backup_is_refused(services, tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite"
    other.write_text("just some notes, not a database")
    await assert_refused(services, other, "not a Quotagate backup")


async def test_an_sqlite_file_of_another_program_is_refused(services, tmp_path: Path) -> None:
    import sqlite3

    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    await assert_refused(services, foreign, "not a Quotagate store")


async def test_an_archive_with_a_wrong_checksum_is_refused(services, tmp_path: Path) -> None:
    exported = tmp_path / "b.tar.gz"
    services.backups.export_archive(exported)
    with tarfile.open(exported, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = json.loads(members.pop("manifest.json"))
    members["settings.json"] = b'{"tampered": true}'
    forged = tmp_path / "forged.tar.gz"
    make_archive(forged, members, manifest)
    await assert_refused(services, forged, "checksum")


async def test_an_archive_with_a_path_traversal_member_is_refused(services, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    make_archive(evil, {"../x": b"owned", "quotagate.sqlite": b"x"}, {"sha256": {}})
    await assert_refused(services, evil, "unsafe")
    assert not (services.data_folder.parent / "x").exists()
    assert not (tmp_path / "x").exists()


async def test_a_backup_from_a_newer_quotagate_is_refused(services, tmp_path: Path) -> None:
    import sqlite3

    exported = tmp_path / "b.sqlite"
    services.backups.export_sqlite(exported)
    with sqlite3.connect(exported) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)")
    await assert_refused(services, exported, "newer Quotagate")


async def test_a_backup_over_the_size_limit_is_refused(services, tmp_path: Path) -> None:
    exported = tmp_path / "b.sqlite"
    services.backups.export_sqlite(exported)
    services.backups.max_import_mb = 0.01
    await assert_refused(services, exported, "larger than the import limit")


async def test_an_older_schema_is_migrated_on_restore(services, tmp_path: Path) -> None:
    from core.store.database import connect

    old = tmp_path / "old.sqlite"
    db = connect(old)
    migrations.migrate(db, target=1)
    db.execute_sql("INSERT INTO setting (key, value) VALUES ('from.v1', '1')")
    db.close()
    result = await services.backups.import_file(old)
    assert result["schemaVersion"] == migrations.LATEST_VERSION
    assert services.store.get_setting("from.v1") == 1


async def test_a_failure_half_way_through_import_rolls_back(services, tmp_path: Path) -> None:
    before = dump(services.store.path)
    exported = tmp_path / "b.sqlite"
    services.backups.export_sqlite(exported)
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    changed = dump(services.store.path)
    real_swap = services.replace_database
    calls = []

    async def swap_then_fail(incoming: Path) -> None:
        calls.append(incoming)
        await real_swap(incoming)
        if len(calls) == 1:
            raise RuntimeError("disk vanished")  # after the files moved: the worst moment

    services.backups._swap = swap_then_fail
    with pytest.raises(BackupError, match="rolled back"):
        await services.backups.import_file(exported)
    assert dump(services.store.path) == changed != before
    assert len(services.accounts.accounts()) == 1


async def test_a_restore_on_a_new_machine_with_the_passphrase_gives_working_accounts(
        services, tmp_path: Path) -> None:
    exported = tmp_path / "move.tar.gz"
    services.backups.export_archive(exported, passphrase="correct horse")
    other = CoreServices(tmp_path / "new-machine", port=0)
    await other.start()
    try:
        assert other.backups.inspect(exported).secrets == "passphrase"
        result = await other.backups.import_file(exported, passphrase="correct horse")
        assert result["accountsNeedingKeys"] == 0
        keys = {a.name: a.api_key for a in other.accounts.accounts()}
        assert keys["work"] == PROVIDER_KEY and other.accounts.endpoints()[0].api_key == NODE_KEY
    finally:
        await other.stop()


async def test_a_restore_on_a_new_machine_without_the_passphrase_marks_accounts_as_needing_keys(
        services, tmp_path: Path) -> None:
    exported = tmp_path / "move.sqlite"
    services.backups.export_sqlite(exported, passphrase="correct horse")
    other = CoreServices(tmp_path / "new-machine", port=0)
    await other.start()
    try:
        result = await other.backups.import_file(exported)
        assert result["accountsNeedingKeys"] == 3
        accounts = other.accounts.accounts()
        assert len(accounts) == 2 and all(a.needs_key and a.api_key is None for a in accounts)
    finally:
        await other.stop()


async def test_a_wrong_passphrase_is_refused_and_changes_nothing(services, tmp_path: Path) -> None:
    exported = tmp_path / "move.sqlite"
    services.backups.export_sqlite(exported, passphrase="correct horse")
    before = dump(services.store.path)
    with pytest.raises(BackupError, match="passphrase does not match"):
        await services.backups.import_file(exported, passphrase="wrong")
    assert dump(services.store.path) == before


async def test_snapshots_are_listed_and_restorable(services) -> None:
    before = dump(services.store.path)
    snapshot = services.backups.create_snapshot("manual")
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    listed = services.backups.list_snapshots()
    assert listed[0].id == snapshot.id and listed[0].counts["accounts"] == 2 and listed[0].size_bytes > 0
    await services.backups.restore_snapshot(snapshot.id)
    assert without_secrets(dump(services.store.path)) == without_secrets(before)


async def test_snapshots_are_kept_by_count_and_age(services) -> None:
    services.backups.keep_count = 3
    ids = [services.backups.create_snapshot(f"n{i}").id for i in range(5)]
    assert [s.id for s in services.backups.list_snapshots()] == ids[::-1][:3]
    services.backups.keep_days = 1
    services.backups.prune(now=time.time() + 3 * 86400)
    assert [s.id for s in services.backups.list_snapshots()] == [ids[-1]]  # the newest always stays


async def test_automatic_snapshots_before_changes_are_throttled(services) -> None:
    await services.before_config_change("adding an account")
    await services.before_config_change("adding another")
    reasons = [s.reason for s in services.backups.list_snapshots()]
    assert reasons == ["before adding an account"]


async def test_the_gateway_serves_from_the_restored_store(services, tmp_path: Path) -> None:
    exported = tmp_path / "b.sqlite"
    services.backups.export_sqlite(exported)
    services.accounts.set_alias("temp", "openai/gpt-4.1")
    await services.reload_gateway_config()
    await services.backups.import_file(exported)
    assert "temp" not in services.runtime.config.table.aliases
    assert "fast" in services.runtime.config.table.aliases
