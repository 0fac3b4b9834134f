"""Backups and the usage history: the rollups always go along, the raw request log only when asked (the
default), and each kind of backup restores with the dashboard's history intact."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import time
from pathlib import Path

from core.gateway import usage_queries
from core.services import CoreServices
from core.store import migrations
from core.store.database import connect
from core.store.models import UsageRow
from tests.backup.conftest import dump
from tests.integration.processes import quotagate_env, run_quotagate

ROLLUP_TABLES = ("usage_hour", "usage_day", "usage_hour_model", "usage_day_model")


def record(services: CoreServices, count: int) -> None:
    """Requests as the gateway records them: through the batch writer, rollups and all."""
    now = time.time()
    for i in range(count):
        services.store.writer.submit(UsageRow, {"ts": now - i * 60, "provider": "openai", "model": "gpt-4.1",
                                                "status": 200 if i % 10 else 502, "tokens_in": 100 + i,
                                                "error": None if i % 10 else "upstream answered 502 " + "x" * 400,
                                                "path": "/v1/chat/completions", "latency_ms": 120.0})
    assert services.store.writer.flush()


def history_now() -> dict:
    return usage_queries.history(time.time() - 3 * 86400, time.time() + 60, "day")["totals"]


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


async def test_an_export_without_the_request_log_keeps_the_history_and_is_smaller(services: CoreServices,
                                                                                  tmp_path: Path) -> None:
    record(services, 2000)
    live = dump(services.store.path)
    full, lean = tmp_path / "full.sqlite", tmp_path / "lean.sqlite"
    services.backups.export_sqlite(full)
    info = services.backups.export_sqlite(lean, include_request_log=False)

    assert rows(lean, "usage_row") == [] and info.counts["usage"] == 0
    for table in ROLLUP_TABLES:
        assert rows(lean, table) == live[table] != []
    assert len(rows(full, "usage_row")) == len(live["usage_row"])
    assert lean.stat().st_size < full.stat().st_size / 2


async def test_a_backup_without_the_request_log_restores_the_history_and_an_empty_log(services: CoreServices,
                                                                                      tmp_path: Path) -> None:
    record(services, 300)
    before = history_now()
    exported = tmp_path / "lean.tar.gz"
    services.backups.export_archive(exported, include_request_log=False)
    record(services, 5)  # after the backup: gone again once it is restored

    result = await services.backups.import_file(exported)

    assert result["counts"]["usage"] == 0
    assert history_now() == before and before["requests"] == 300
    assert usage_queries.logs()["total"] == 0


async def test_a_backup_with_the_request_log_restores_every_request(services: CoreServices, tmp_path: Path) -> None:
    record(services, 300)
    before, log = history_now(), usage_queries.logs(limit=500)["items"]
    exported = tmp_path / "full.sqlite"
    services.backups.export_sqlite(exported)
    record(services, 5)

    await services.backups.import_file(exported)

    assert history_now() == before
    assert usage_queries.logs(limit=500)["items"] == log


async def test_the_archive_manifest_says_whether_the_request_log_is_inside(services: CoreServices,
                                                                           tmp_path: Path) -> None:
    for include in (True, False):
        exported = tmp_path / f"{include}.tar.gz"
        services.backups.export_archive(exported, include_request_log=include)
        with tarfile.open(exported, "r:gz") as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())
        assert manifest["requestLog"] is include
        assert (manifest["counts"]["usage"] > 0) is include


async def test_a_backup_from_before_rollups_and_one_row_per_request_restores(services: CoreServices, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    db = connect(old)
    migrations.migrate(db, target=2)  # usage_row and call_log side by side, no rollups yet
    db.execute_sql("INSERT INTO usage_row (ts, provider, model, status, tokens_in) VALUES (?, 'openai', 'o3', 200, 7)",
                   (time.time() - 60,))
    db.execute_sql("INSERT INTO call_log (ts, method, path, status) VALUES (?, 'POST', '/v1/chat/completions', 200)",
                   (time.time() - 60,))
    db.execute_sql("PRAGMA journal_mode=DELETE")
    db.close()

    result = await services.backups.import_file(old)

    assert result["schemaVersion"] == migrations.LATEST_VERSION and result["counts"]["usage"] == 1
    assert not services.store.db.table_exists("call_log")
    assert [(i["model"], i["attempts"]) for i in usage_queries.logs()["items"]] == [("o3", None)]
    assert history_now()["promptTokens"] == 7  # the rollups were built from the row it held


def test_the_command_line_export_can_leave_the_request_log_out(data_dir: Path, tmp_path: Path) -> None:
    env = quotagate_env(data_dir)
    target = tmp_path / "lean.sqlite"
    exported = run_quotagate(["backup", "export", "--no-request-log", str(target)], env)
    assert exported.returncode == 0, exported.stderr
    assert "request log was left out" in exported.stdout
    assert rows(target, "usage_row") == []


async def test_the_download_api_leaves_the_request_log_out_when_asked(services: CoreServices, tmp_path: Path) -> None:
    import httpx

    record(services, 50)
    async with httpx.AsyncClient(base_url=services.gateway_state.url, timeout=30) as api:
        full = await api.get("/api/db-backups/export")
        lean = await api.get("/api/db-backups/export", params={"requestLog": "false"})
        wrong = await api.get("/api/db-backups/export", params={"requestLog": "maybe"})
    (tmp_path / "full.sqlite").write_bytes(full.content)
    (tmp_path / "lean.sqlite").write_bytes(lean.content)
    assert len(rows(tmp_path / "full.sqlite", "usage_row")) >= 50
    assert rows(tmp_path / "lean.sqlite", "usage_row") == []
    assert rows(tmp_path / "lean.sqlite", "usage_day") == rows(tmp_path / "full.sqlite", "usage_day") != []
    assert wrong.status_code == 400 and "requestLog" in wrong.json()["error"]
