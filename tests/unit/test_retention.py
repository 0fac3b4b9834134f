"""Retention of the raw request log: by age and by count, from the settings, in small batches that never hold
writers up, leaving the rollups whole."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import settings
from core.gateway import usage_queries
from core.store import Store
from core.store.models import UsageRow
from core.store.retention import Retention
from core.store.writer import BatchWriter
from tests.conftest import wait_for

NOW = 1_800_000_000.0
DAY = 86400


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def record(store: Store, *ages_in_days: float) -> None:
    for age in ages_in_days:
        store.writer.submit(UsageRow, {"ts": NOW - age * DAY, "provider": "p", "model": "m", "status": 200})
    assert store.writer.flush()


def remaining_ages(store: Store) -> list[float]:
    return sorted(round((NOW - row.ts) / DAY, 3) for row in UsageRow.select())


def test_rows_older_than_the_age_limit_are_deleted(store: Store) -> None:
    record(store, 40, 31, 29, 1)
    Retention(max_age_days=30).step(store.db, now=NOW)
    assert remaining_ages(store) == [1, 29]


def test_only_the_newest_rows_up_to_the_count_limit_are_kept(store: Store) -> None:
    record(store, 5, 4, 3, 2, 1)
    Retention(max_rows=2).step(store.db, now=NOW)
    assert remaining_ages(store) == [1, 2]


def test_each_step_deletes_at_most_one_batch(store: Store) -> None:
    record(store, *[40 + i / 100 for i in range(25)], 1)
    retention = Retention(max_age_days=30, batch=10)
    assert [retention.step(store.db, now=NOW) for _ in range(4)] == [10, 10, 5, 0]
    assert remaining_ages(store) == [1]


def test_pruning_the_log_keeps_the_history_totals(store: Store) -> None:
    record(store, 40, 35, 1)
    Retention(max_age_days=30).step(store.db, now=NOW)
    history = usage_queries.history(NOW - 45 * DAY, NOW, "day")
    assert history["totals"]["requests"] == 3 and usage_queries.logs()["total"] == 1


def test_the_writer_prunes_on_its_own_thread_when_idle(store: Store) -> None:
    record(store, 40, 1)
    writer = BatchWriter(store.db, maintenance=lambda db: Retention(max_age_days=30).step(db, now=NOW),
                         maintenance_first=0)
    try:
        wait_for(lambda: UsageRow.select().count() == 1, timeout=5)
    finally:
        writer.close()


def old_rows(store: Store, count: int, age_days: float = 40) -> None:
    """`count` rows past the age limit, inserted in one statement (as a long-running store would hold them)."""
    store.db.execute_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO usage_row (ts, provider, model, status) SELECT ? + i, 'p', 'm', 200 FROM n",
        (count, time.time() - age_days * DAY))


def test_the_limits_are_the_stored_settings_and_a_change_applies_at_once(store: Store) -> None:
    record_now = [time.time() - age * DAY for age in (20, 12, 5, 1)]
    for ts in record_now:
        store.writer.submit(UsageRow, {"ts": ts, "provider": "p", "model": "m", "status": 200})
    assert store.writer.flush()
    assert store.retention_limits() == (30, 1_000_000)
    store.set_setting(settings.KEY_REQUEST_LOG_DAYS, 10)
    store.set_setting(settings.KEY_REQUEST_LOG_ROWS, 1000)
    store.settings_changed([settings.KEY_REQUEST_LOG_DAYS])
    wait_for(lambda: UsageRow.select().count() == 2, timeout=5)
    assert store.retention_limits() == (10, 1000)


def test_pruning_a_long_backlog_never_holds_writers_up(store: Store) -> None:
    old_rows(store, 40_000)
    store.writer.upkeep_soon()
    wait_for(lambda: UsageRow.select().count() < 40_000, timeout=5)  # pruning has begun
    slowest = 0.0
    for i in range(5):
        started = time.monotonic()
        store.writer.submit(UsageRow, {"ts": time.time(), "provider": "p", "model": "m", "status": 200})
        assert store.writer.flush()
        with store.db.atomic("IMMEDIATE"):  # a configuration change meanwhile (another connection)
            store.set_setting("gateway.max_body_mb", 10 + i)
        slowest = max(slowest, time.monotonic() - started)
    still_old = UsageRow.select().where(UsageRow.ts < time.time() - 30 * DAY).count()
    assert still_old > 0, "pruning finished before the writes were measured; use a longer backlog"
    assert slowest < 1.0, slowest  # a batch's flush wait (0.25 s) plus at most one short delete
    wait_for(lambda: UsageRow.select().where(UsageRow.ts < time.time() - 30 * DAY).count() == 0, timeout=30)
    assert UsageRow.select().count() == 5


def test_a_writer_busy_with_steady_traffic_still_prunes(store: Store) -> None:
    old_rows(store, 3000)
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            store.writer.submit(UsageRow, {"ts": time.time(), "provider": "p", "model": "m", "status": 200})
            time.sleep(0.02)

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        time.sleep(0.5)  # the writer now never waits idle for its queue
        store.writer.upkeep_soon()
        wait_for(lambda: UsageRow.select().where(UsageRow.ts < time.time() - 30 * DAY).count() == 0, timeout=10)
    finally:
        stop.set()
        sender.join()
