"""History: snapshots are recorded when they change, read back per account, and pruned after retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.quota import QuotaSnapshot, QuotaWindow, history
from core.store import Store
from core.store.models import QuotaSnapshotRow

NOW = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)


def _snapshot(remaining: float, at: datetime = NOW, **fields: object) -> QuotaSnapshot:
    window = QuotaWindow.from_remaining("weekly", "Weekly", remaining)
    return QuotaSnapshot("claude", "claude-code", "Claude Code", windows=(window,), fetched_at=at,
                         **fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


def _recorder(store: Store) -> history.SnapshotRecorder:
    return history.SnapshotRecorder(lambda row: store.writer.submit(QuotaSnapshotRow, row))


def test_only_changed_fresh_snapshots_are_recorded(store: Store) -> None:
    recorder = _recorder(store)
    assert recorder.record([_snapshot(80)]) == 1
    assert recorder.record([_snapshot(80, NOW + timedelta(minutes=5))]) == 0
    assert recorder.record([_snapshot(70, NOW + timedelta(minutes=10)).as_stale("down", "server")]) == 0
    assert recorder.record([_snapshot(70, NOW + timedelta(minutes=15))]) == 1
    assert store.writer.flush()
    assert QuotaSnapshotRow.select().count() == 2


def test_recorded_snapshots_are_read_back_oldest_first(store: Store) -> None:
    recorder = _recorder(store)
    for minutes, remaining in ((0, 90), (5, 80), (10, 70)):
        recorder.record([_snapshot(remaining, NOW + timedelta(minutes=minutes))])
    assert store.writer.flush()
    loaded = history.load("claude", "claude-code", since=NOW + timedelta(minutes=1))
    assert [s.windows[0].remaining_percent for s in loaded] == [80, 70]


def test_rows_older_than_the_retention_are_pruned(store: Store) -> None:
    recorder = _recorder(store)
    recorder.record([_snapshot(90, NOW - timedelta(days=40))])
    recorder.record([_snapshot(80, NOW - timedelta(days=1))])
    assert store.writer.flush()
    assert history.prune(NOW) == 1
    assert [s.windows[0].remaining_percent for s in history.load("claude", "claude-code", NOW - timedelta(days=60))
            ] == [80]
