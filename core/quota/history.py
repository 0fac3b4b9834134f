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

from core.quota.model import QuotaSnapshot
from core.store.models import QuotaSnapshot as QuotaSnapshotRow

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
    rows = (QuotaSnapshotRow.select()
            .where((QuotaSnapshotRow.provider == provider) & (QuotaSnapshotRow.account == account_key)
                   & (QuotaSnapshotRow.ts >= since.timestamp()))
            .order_by(QuotaSnapshotRow.ts))
    snapshots = []
    for row in rows:
        try:
            snapshots.append(QuotaSnapshot.from_json(json.loads(row.payload)))
        except (ValueError, KeyError, TypeError):
            log.warning("Skipping unreadable quota history row %s", row.id)
    return snapshots


def prune(now: datetime, retention: timedelta = RETENTION) -> int:
    """Delete rows older than `retention`; returns how many went."""
    cutoff = (now - retention).timestamp()
    return int(QuotaSnapshotRow.delete().where(QuotaSnapshotRow.ts < cutoff).execute())
