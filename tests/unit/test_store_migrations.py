"""The store's schema: built from nothing, upgraded from every earlier version, and never downgraded."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from peewee import SqliteDatabase

from core.store import Store, migrations, rollups
from core.store.database import connect, open_database
from core.store.models import ALL_MODELS


def schema_of(path: Path) -> dict[str, str]:
    """Every table and index with its normalized SQL, the ledger excluded."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'schema_migrations'"
        ).fetchall()
    return {name: " ".join(sql.split()) for name, sql in rows}


def build_at_version(path: Path, version: int) -> SqliteDatabase:
    db = connect(path)
    migrations.migrate(db, target=version)
    return db


# Rows each earlier version could hold; upgrading must keep every one of them.
SAMPLE_ROWS_BY_VERSION = {
    1: [
        "INSERT INTO setting (key, value) VALUES ('gateway.port', '20130')",
        "INSERT INTO provider_account (provider, name, secret, created_at, updated_at)"
        " VALUES ('openai', 'work', x'00ff', 1.0, 1.0)",
        "INSERT INTO api_key (name, key_prefix, key_hash, created_at) VALUES ('ide', 'qg-ab', 'h1', 1.0)",
        "INSERT INTO usage_row (ts, provider, account_id, model, status) VALUES (2.0, 'openai', 1, 'gpt-4.1', 200)",
        "INSERT INTO quota_snapshot (ts, provider, account, payload) VALUES (3.0, 'claude', 'me', '{}')",
    ],
}


# Tables a later migration removes (call_log: usage_row holds the same requests since version 4).
DROPPED_TABLES = {"call_log"}


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_fresh_database_reaches_the_latest_version(tmp_path: Path) -> None:
    db = open_database(tmp_path / "q.sqlite")
    assert migrations.current_version(db) == migrations.LATEST_VERSION
    for model in ALL_MODELS:
        assert db.table_exists(model._meta.table_name), model
    db.close()


def test_migrations_are_numbered_consecutively_from_one() -> None:
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, len(migrations.MIGRATIONS) + 1))


@pytest.mark.parametrize("start", range(0, migrations.LATEST_VERSION))
def test_upgrade_from_every_earlier_version_matches_a_fresh_schema_and_keeps_rows(
    tmp_path: Path, start: int
) -> None:
    fresh = tmp_path / "fresh.sqlite"
    open_database(fresh).close()

    old = tmp_path / "old.sqlite"
    db = build_at_version(old, start)
    for version in range(1, start + 1):
        for statement in SAMPLE_ROWS_BY_VERSION.get(version, []):
            db.execute_sql(statement)
    db.close()
    before = row_counts(old)

    upgraded = open_database(old)
    assert migrations.current_version(upgraded) == migrations.LATEST_VERSION
    upgraded.close()

    assert schema_of(old) == schema_of(fresh)
    after = row_counts(old)
    for table, count in before.items():
        if table not in ("schema_migrations", *DROPPED_TABLES):
            assert after[table] == count, table
    assert not set(after) & DROPPED_TABLES


def test_models_match_the_migrated_columns(tmp_path: Path) -> None:
    db = open_database(tmp_path / "q.sqlite")
    for model in ALL_MODELS:
        table = model._meta.table_name
        db_columns = {c.name for c in db.get_columns(table)}
        model_columns = {f.column_name for f in model._meta.sorted_fields}
        assert db_columns == model_columns, table
    db.close()


def test_the_ledger_records_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    open_database(path).close()
    open_database(path).close()  # opening again applies nothing
    with sqlite3.connect(path) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in migrations.MIGRATIONS]


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    open_database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', ?)",
                     (migrations.LATEST_VERSION + 1, time.time()))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(migrations.SchemaTooNewError, match="Update Quotagate"):
        open_database(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_failing_migration_rolls_back_completely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "q.sqlite"
    open_database(path).close()
    broken = migrations.Migration(migrations.LATEST_VERSION + 1, "broken", (
        "CREATE TABLE half_done (id INTEGER)",
        "THIS IS NOT SQL",
    ))
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + (broken,))
    monkeypatch.setattr(migrations, "LATEST_VERSION", broken.version)

    with pytest.raises(Exception):
        open_database(path)
    db = connect(path)
    assert migrations.current_version(db) == broken.version - 1
    assert not db.table_exists("half_done")
    db.close()


def test_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    assert store.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    with pytest.raises(Exception):
        store.db.execute_sql("INSERT INTO usage_row (ts, account_id, status) VALUES (1, 999, 200)")
    store.close()


def test_store_files_and_folder_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = Store.open(folder)
    store.set_setting("desktop.start_at_login", True)  # a write creates the WAL side files
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.glob("quotagate.sqlite*"))
    assert len(files) == 3  # the database, its -wal and -shm
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    store.close()


def test_settings_round_trip_as_json(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.set_setting("gateway.port", 20200)
    store.set_setting("quota.thresholds", [50, 20])
    assert store.get_setting("gateway.port") == 20200
    assert store.get_setting("quota.thresholds") == [50, 20]
    assert store.get_setting("missing", "fallback") == "fallback"
    store.close()


def test_health_reports_schema_and_journal(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    health = store.health()
    assert health["status"] == "ok"
    assert health["schema_version"] == migrations.LATEST_VERSION
    assert health["journal_mode"] == "wal"
    assert health["size_bytes"] > 0
    store.close()


def test_upgrading_builds_usage_rollups_from_the_rows_already_stored(tmp_path: Path, utc: None) -> None:
    path = tmp_path / "q.sqlite"
    db = build_at_version(path, 2)
    for ts, status, tokens in [(3600.0, 200, 10), (3700.0, 200, 5), (7300.0, 502, 0), (90000.0, 200, 1)]:
        db.execute_sql("INSERT INTO usage_row (ts, provider, model, status, tokens_in, latency_ms)"
                       " VALUES (?, 'openai', 'gpt-4.1', ?, ?, 80)", (ts, status, tokens))
    db.close()

    upgraded = open_database(path)
    hours = upgraded.execute_sql("SELECT bucket_start, status, requests, tokens_in, latency_bin_1 FROM usage_hour"
                                 " ORDER BY bucket_start").fetchall()
    days = upgraded.execute_sql("SELECT bucket_start, SUM(requests), SUM(errors) FROM usage_day"
                                " GROUP BY bucket_start ORDER BY bucket_start").fetchall()
    upgraded.close()
    assert hours == [(3600, 200, 2, 15, 2), (7200, 502, 1, 0, 1), (90000, 200, 1, 1, 1)]
    assert days == [(0, 3, 1), (86400, 1, 0)]


def test_upgrading_a_store_with_requests_keeps_them_drops_the_call_log_and_sums_the_rollups_per_model(
        tmp_path: Path, utc: None) -> None:
    path = tmp_path / "q.sqlite"
    db = build_at_version(path, 5)
    for ts, provider, model, status in [(3600.0, "openai", "o3", 200), (3700.0, "openai", "o3", 502),
                                        (3800.0, "openai", "gpt-4.1", 200), (90000.0, "deepseek", "chat", 200)]:
        db.execute_sql("INSERT INTO usage_row (ts, provider, model, status, tokens_in, api_key_id) "
                       "VALUES (?, ?, ?, ?, 10, NULL)", (ts, provider, model, status))
        db.execute_sql("INSERT INTO call_log (ts, method, path, status) VALUES (?, 'POST', '/v1/chat', ?)",
                       (ts, status))
    with db.atomic():
        rollups.rebuild_full_key(db)  # as the version-5 writer kept them
    db.close()

    upgraded = open_database(path)
    try:
        assert not upgraded.table_exists("call_log")
        assert upgraded.execute_sql("SELECT COUNT(*), COUNT(attempts) FROM usage_row").fetchone() == (4, 0)
        per_model = upgraded.execute_sql("SELECT bucket_start, provider, model, requests, errors, tokens_in "
                                         "FROM usage_hour_model ORDER BY bucket_start, model").fetchall()
        days = upgraded.execute_sql("SELECT bucket_start, provider, SUM(requests) FROM usage_day_model "
                                    "GROUP BY bucket_start, provider ORDER BY bucket_start").fetchall()
    finally:
        upgraded.close()
    assert per_model == [(3600, "openai", "gpt-4.1", 1, 0, 10), (3600, "openai", "o3", 2, 1, 20),
                         (90000, "deepseek", "chat", 1, 0, 10)]
    assert days == [(0, "openai", 3), (86400, "deepseek", 1)]
