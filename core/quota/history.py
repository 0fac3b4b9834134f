"""Quota history in the store's `quota_snapshot` table: record on change, read back for charts, prune.

Only real changes are recorded (a fresh snapshot whose content differs from the one last recorded for the
same account), so a week at a five-minute interval is a few hundred rows. Stale and failed snapshots carry
no new numbers and are not recorded. Writes go through the store's off-loop writer; `load` and `prune`
touch the disk and belong in an executor.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from peewee import fn

from core.quota.model import QuotaSnapshot
from core.store.models import QuotaSnapshotRow

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)


def history_row(snapshot: QuotaSnapshot) -> dict[str, Any]:
    """A `quota_snapshot` row: the account is its stable key, the payload the `status --json` shape."""
    return {"ts": snapshot.fetched_at.timestamp(), "provider": snapshot.provider, "account": snapshot.account_key,
            "payload": json.dumps(snapshot.to_json(), separators=(",", ":"))}


class SnapshotRecorder:
    """Connect `record` to `QuotaEngine.snapshots_changed`; `submit` queues a row (e.g.
    `lambda row: store.writer.submit(QuotaSnapshotRow, row)`)."""

    def __init__(self, submit: Callable[[dict[str, Any]], None]) -> None:
        self._submit = submit
        self._last: dict[str, QuotaSnapshot] = {}

    def already_recorded(self, snapshots: Iterable[QuotaSnapshot]) -> None:
        """Snapshots the store already holds (restored from the last run): the same numbers again are no change."""
        for snapshot in snapshots:
            self._last[snapshot.key] = snapshot

    def record(self, snapshots: Iterable[QuotaSnapshot]) -> int:
        written = 0
        for snapshot in snapshots:
            if not snapshot.ok or snapshot.stale or snapshot.same_content(self._last.get(snapshot.key)):
                continue
            self._last[snapshot.key] = snapshot
            self._submit(history_row(snapshot))
            written += 1
        return written


def load(provider: str, account_key: str, since: datetime) -> list[QuotaSnapshot]:
    """One account's recorded snapshots since `since`, oldest first (unreadable rows are skipped)."""
    return _parsed(QuotaSnapshotRow.select()
                   .where((QuotaSnapshotRow.provider == provider) & (QuotaSnapshotRow.account == account_key)
                          & (QuotaSnapshotRow.ts >= since.timestamp()))
                   .order_by(QuotaSnapshotRow.ts))


def latest() -> list[QuotaSnapshot]:
    """The last recorded snapshot of every account: the last good data, to show again after a restart."""
    newest = (QuotaSnapshotRow.select(fn.MAX(QuotaSnapshotRow.id))
              .group_by(QuotaSnapshotRow.provider, QuotaSnapshotRow.account))
    return _parsed(QuotaSnapshotRow.select().where(QuotaSnapshotRow.id.in_(newest)).order_by(QuotaSnapshotRow.id))


def _parsed(rows: Iterable[QuotaSnapshotRow]) -> list[QuotaSnapshot]:
    snapshots = []
    for row in rows:
        try:
            snapshots.append(QuotaSnapshot.from_json(json.loads(row.payload)))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("Skipping unreadable quota history row %s", row.id)
    return snapshots


def prune(now: datetime, retention: timedelta = RETENTION) -> int:
    """Delete rows older than `retention`; returns how many went."""
    cutoff = (now - retention).timestamp()
    return int(QuotaSnapshotRow.delete().where(QuotaSnapshotRow.ts < cutoff).execute())


def used_percent_series(snapshots: list[QuotaSnapshot], since: datetime, until: datetime,
                        bucket: timedelta) -> tuple[list[float], dict[str, tuple[str, list[float | None]]]]:
    """Bucket starts, and per window id its label and used % per bucket, for a chart.

    Rows are recorded only on change, so a value holds until the next record: each bucket shows the last
    value known by its end. Buckets before the first record are gaps (None), not zeros."""
    width = bucket.total_seconds()
    start = since.timestamp()
    count = max(1, int((until.timestamp() - start) // width) + 1)
    starts = [start + i * width for i in range(count)]
    ordered = sorted(snapshots, key=lambda s: s.fetched_at)
    labels: dict[str, str] = {}
    for snapshot in ordered:
        for window in snapshot.windows:
            labels.setdefault(window.id, window.label)
    series: dict[str, list[float | None]] = {window_id: [] for window_id in labels}
    current: dict[str, float | None] = {window_id: None for window_id in labels}
    index = 0
    for bucket_start in starts:
        bucket_end = bucket_start + width
        while index < len(ordered) and ordered[index].fetched_at.timestamp() < bucket_end:
            for window in ordered[index].windows:
                current[window.id] = window.used_percent
            index += 1
        for window_id in labels:
            series[window_id].append(current[window_id])
    return starts, {window_id: (labels[window_id], values) for window_id, values in series.items()}
