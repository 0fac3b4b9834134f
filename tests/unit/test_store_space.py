"""Disk space: a pruned request log gives its space back to the file system, and the store says what takes
how much."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import paths, settings
from core.store import Store, migrations, space
from core.store.models import UsageRow
from tests.conftest import wait_for

NOTE = "x" * 1500  # a long error text: a few thousand rows then fill megabytes


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def fill(store: Store, count: int, start: float | None = None) -> None:
    start = time.time() - count if start is None else start
    for i in range(count):
        store.writer.submit(UsageRow, {"ts": start + i, "provider": "openai", "model": "gpt-4.1", "status": 502,
                                       "error": NOTE, "path": "/v1/chat/completions"})
    assert store.writer.flush(timeout=30)


def file_size(store: Store) -> int:
    """The database file's size once its WAL is folded back (what the user's disk holds after a while)."""
    # the writer's upkeep may be mid-step (a checkpoint then reports busy): fold once it is done
    wait_for(lambda: store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()[0][0] == 0, timeout=10)
    return store.path.stat().st_size


def test_a_new_store_hands_freed_pages_back_incrementally(store: Store) -> None:
    assert store.db.execute_sql("PRAGMA auto_vacuum").fetchone()[0] == space.INCREMENTAL


def test_pruning_the_request_log_shrinks_the_file(store: Store) -> None:
    fill(store, 6000)
    before = file_size(store)
    store.set_setting(settings.KEY_REQUEST_LOG_ROWS, 1000)
    store.writer.upkeep_soon()
    wait_for(lambda: UsageRow.select().count() == 1000 and store.db.execute_sql("PRAGMA freelist_count").fetchall()[0][0] == 0, timeout=30)
    after = file_size(store)
    assert before > 10 * 2**20
    assert after < before / 3, (before, after)


def auto_vacuum(path: Path) -> int:
    """The file's mode as a new connection reads it (an open one keeps the mode it saw when it opened)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA auto_vacuum").fetchall()[0][0]


def made_before_incremental_reclaiming(folder: Path) -> None:
    """A store as older versions left it: no auto-vacuum."""
    Store.open(folder).close()
    with sqlite3.connect(paths.database_path(folder)) as conn:
        conn.execute("PRAGMA auto_vacuum = 0")
        conn.execute("VACUUM")


def test_a_store_made_before_incremental_reclaiming_is_switched_once_pruning_frees_enough(tmp_path: Path) -> None:
    made_before_incremental_reclaiming(tmp_path)
    store = Store.open(tmp_path)
    try:
        assert auto_vacuum(store.path) == 0
        fill(store, 6000)
        before = file_size(store)
        store.set_setting(settings.KEY_REQUEST_LOG_ROWS, 1000)
        store.writer.upkeep_soon()
        wait_for(lambda: auto_vacuum(store.path) == space.INCREMENTAL and UsageRow.select().count() == 1000
                 and store.db.execute_sql("PRAGMA freelist_count").fetchall()[0][0] == 0, timeout=30)
        assert file_size(store) < before / 3
        assert migrations.current_version(store.db) == migrations.LATEST_VERSION
    finally:
        store.close()


def test_a_little_free_space_in_an_old_store_is_left_for_new_rows(tmp_path: Path) -> None:
    made_before_incremental_reclaiming(tmp_path)
    store = Store.open(tmp_path)
    try:
        fill(store, 200)
        UsageRow.delete().where(UsageRow.id <= 20).execute()
        assert store.db.execute_sql("PRAGMA freelist_count").fetchone()[0] > 0
        space.reclaim(store.db)
        assert auto_vacuum(store.path) == 0  # no VACUUM for a few pages
    finally:
        store.close()


def test_the_report_splits_the_store_into_request_log_rollups_and_the_rest(store: Store) -> None:
    fill(store, 3000, start=1_800_000_000.0)
    report = store.space()
    assert report["exact"] is True
    assert report["requestLog"]["rows"] == 3000 and report["requestLog"]["oldest"] == 1_800_000_000.0
    assert report["rollups"]["rows"] >= 2  # at least one hour and one day
    assert report["requestLog"]["bytes"] > 3000 * len(NOTE)
    assert 0 < report["rollups"]["bytes"] < report["requestLog"]["bytes"]
    parts = (report["requestLog"]["bytes"] + report["rollups"]["bytes"] + report["otherBytes"]
             + report["freeBytes"])
    assert parts == report["totalBytes"]
