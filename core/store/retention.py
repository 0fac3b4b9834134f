"""Retention of the raw request log: rows older than N days, and beyond the newest M, are deleted.

Rollups keep the sums forever, so pruning raw rows never changes the dashboard's history. Deletion goes in
small batches, one short transaction each, run by the batch writer's own thread between batches: the request
path never waits for it and the writer is never locked out for long. The freed pages go back to the file
system afterwards (`core.store.space.reclaim`). The limits are settings, read before each step, so a change
applies without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MAX_AGE_DAYS = 30
DEFAULT_MAX_ROWS = 1_000_000
BATCH_ROWS = 2000
_TABLE = "usage_row"


@dataclass
class Retention:
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    max_rows: int = DEFAULT_MAX_ROWS
    batch: int = BATCH_ROWS
    _cutoff: dict[int, int] = field(default_factory=dict, repr=False)  # max_rows -> the last id past it

    def step(self, db: Any, now: float | None = None) -> int:
        """Delete at most `batch` rows past the age limit and `batch` past the count limit; the number deleted."""
        now = time.time() if now is None else now
        # the subqueries bound each batch (DELETE ... LIMIT is not standard SQL); both walk an index
        deleted = self._delete(db, f"SELECT id FROM {_TABLE} WHERE ts < ? ORDER BY ts LIMIT ?",
                               (now - self.max_age_days * 86400, self.batch))
        past = self._past_count_limit(db)
        if past is not None:
            deleted += self._delete(db, f"SELECT id FROM {_TABLE} WHERE id <= ? ORDER BY id LIMIT ?",
                                    (past, self.batch))
        return deleted

    def _past_count_limit(self, db: Any) -> int | None:
        """The newest id beyond the newest `max_rows`, or None when the log is within the limit. Finding it
        walks `max_rows` index entries, so it is remembered while rows up to it remain (rows only come in
        newer, so they stay beyond the limit) and the limit is unchanged."""
        # one aggregate per query: SQLite answers a lone MIN or MAX from the index's end, both together by a scan
        low = db.execute_sql(f"SELECT MIN(id) FROM {_TABLE}").fetchone()[0]
        high = db.execute_sql(f"SELECT MAX(id) FROM {_TABLE}").fetchone()[0]
        if low is None or high - low + 1 <= self.max_rows:  # ids only grow: a cheap upper bound of the count
            return None
        remembered = self._cutoff.get(self.max_rows)
        if remembered is not None and remembered >= low:
            return remembered
        past = db.execute_sql(f"SELECT id FROM {_TABLE} ORDER BY id DESC LIMIT 1 OFFSET ?",
                              (self.max_rows,)).fetchone()
        self._cutoff = {self.max_rows: past[0]} if past is not None else {}
        return self._cutoff.get(self.max_rows)

    @staticmethod
    def _delete(db: Any, select: str, params: tuple[Any, ...]) -> int:
        with db.atomic():
            return max(db.execute_sql(f"DELETE FROM {_TABLE} WHERE id IN ({select})", params).rowcount, 0)
