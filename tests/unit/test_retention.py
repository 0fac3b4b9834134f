"""Retention of the raw request log: by age and by count, in small batches, leaving the rollups whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
