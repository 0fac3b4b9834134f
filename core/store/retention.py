"""Retention of the raw request log: rows older than N days, and beyond the newest M, are deleted.

Rollups keep the sums forever, so pruning raw rows never changes the dashboard's history. Deletion goes in
small batches, one short transaction each, run by the batch writer's own thread between batches: the request
path never waits for it and the writer is never locked out for long. Freed pages are reused by new rows, so
the file stops growing at the retained size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_AGE_DAYS = 30
DEFAULT_MAX_ROWS = 1_000_000
BATCH_ROWS = 2000
# Tables pruned the same way: the request log, and the call log older versions wrote beside it.
_TABLES = ("usage_row", "call_log")


@dataclass
class Retention:
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    max_rows: int = DEFAULT_MAX_ROWS
    batch: int = BATCH_ROWS

    def step(self, db: Any, now: float | None = None) -> int:
        """Delete at most `batch` rows per table and limit that are past the limits; the number deleted."""
        now = time.time() if now is None else now
        deleted = 0
        for table in _TABLES:
            # the subqueries bound each batch (DELETE ... LIMIT is not standard SQL); both walk an index
            deleted += self._delete(db, f"SELECT id FROM {table} WHERE ts < ? ORDER BY ts LIMIT ?", table,
                                    (now - self.max_age_days * 86400, self.batch))
            low, high = db.execute_sql(f"SELECT MIN(id), MAX(id) FROM {table}").fetchone()
            if low is not None and high - low + 1 > self.max_rows:  # ids are dense: a cheap upper bound
                past = db.execute_sql(f"SELECT id FROM {table} ORDER BY id DESC LIMIT 1 OFFSET ?",
                                      (self.max_rows,)).fetchone()
                if past is not None:
                    deleted += self._delete(db, f"SELECT id FROM {table} WHERE id <= ? ORDER BY id LIMIT ?", table,
                                            (past[0], self.batch))
        return deleted

    @staticmethod
    def _delete(db: Any, select: str, table: str, params: tuple[Any, ...]) -> int:
        with db.atomic():
            return max(db.execute_sql(f"DELETE FROM {table} WHERE id IN ({select})", params).rowcount, 0)
