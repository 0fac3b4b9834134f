"""Writes that must not happen on the event loop (usage rows) go through a batching thread.

The request path only appends to a queue; a thread groups rows per model and inserts them in one
transaction, so thousands of requests a second cost a handful of commits. The same thread does the store's
upkeep (pruning, giving space back) between batches, so upkeep never competes with it for the write lock.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from peewee import Model, SqliteDatabase

from core.store import rollups
from core.store.models import UsageRow

log = logging.getLogger(__name__)

_BATCH_LIMIT = 2000
# After the first row of a batch arrives the writer waits this long for more: one commit per interval
# instead of one per request, and no thread wake-up (and GIL hand-over) per row on the request path.
_GATHER_SECONDS = 0.25
_STOP = None
_WAKE = object()  # "upkeep is due now": wakes the thread without a row
# Upkeep (pruning the request log, giving space back) runs on this thread between batches: first a little
# after start, then every interval; while a step still finds work, again after a short pause that lets
# writes in. Under steady traffic it runs between two batches; when idle, when its time comes.
_MAINTENANCE_FIRST = 30.0
_MAINTENANCE_INTERVAL = 300.0
_MAINTENANCE_AGAIN = 0.2


class BatchWriter:
    def __init__(self, db: SqliteDatabase, maintenance: Callable[[SqliteDatabase], int] | None = None,
                 maintenance_first: float = _MAINTENANCE_FIRST) -> None:
        self._db = db
        self._maintenance = maintenance
        self._next_upkeep = time.monotonic() + maintenance_first
        self._queue: queue.SimpleQueue[tuple[type[Model], dict[str, Any]] | None] = queue.SimpleQueue()
        self._pending = 0
        self._settled = threading.Condition()
        self._hurry = threading.Event()  # flush()/close() want the rows now
        self._thread = threading.Thread(target=self._run, name="quotagate-writer", daemon=True)
        self._thread.start()

    def submit(self, model: type[Model], row: dict[str, Any]) -> None:
        """Queue one row for insertion; never blocks on disk."""
        with self._settled:
            self._pending += 1
        self._queue.put((model, row))

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every row submitted so far is written (or dropped as unwritable)."""
        self._hurry.set()
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def upkeep_soon(self) -> None:
        """Run the upkeep at the next chance (after its limits changed, say), not at its next interval."""
        self._next_upkeep = time.monotonic()
        self._queue.put(_WAKE)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._hurry.set()
            self._thread.join(timeout)

    def _run(self) -> None:
        self._db.connect(reuse_if_open=True)
        try:
            stopping = False
            while not stopping:
                batch: dict[type[Model], list[dict[str, Any]]] = defaultdict(list)
                if self._upkeep_wait() == 0:
                    self._upkeep()
                try:
                    item = self._queue.get(timeout=self._upkeep_wait())
                except queue.Empty:
                    continue
                if item is _WAKE:
                    continue
                if item is not _STOP:
                    self._hurry.wait(_GATHER_SECONDS)
                    self._hurry.clear()
                count = 0
                while True:
                    if item is _STOP:
                        stopping = True
                    elif item is not _WAKE:
                        model, row = item
                        batch[model].append(row)
                        count += 1
                    if count >= _BATCH_LIMIT or self._queue.empty():
                        break
                    item = self._queue.get_nowait()
                if batch:
                    self._write(batch)
                with self._settled:
                    self._pending -= count
                    self._settled.notify_all()
        finally:
            self._db.close()

    def _upkeep_wait(self) -> float | None:
        return None if self._maintenance is None else max(0.0, self._next_upkeep - time.monotonic())

    def _upkeep(self) -> None:
        try:
            more = self._maintenance(self._db) if self._maintenance else 0
        except Exception:  # upkeep must never stop the writer; it is tried again later
            log.exception("Store upkeep failed")
            more = 0
        self._next_upkeep = time.monotonic() + (_MAINTENANCE_AGAIN if more else _MAINTENANCE_INTERVAL)

    def _write(self, batch: dict[type[Model], list[dict[str, Any]]]) -> None:
        # Straight to sqlite3's executemany: peewee builds SQL in Python for every row, which at a few
        # thousand rows a second costs the gateway's CPU (and the GIL) more than the request path does.
        try:
            with self._db.atomic():
                _insert(self._db.cursor(), batch)
        except Exception:  # one bad row must not cost the others: write them one by one, drop only the bad
            self._write_one_by_one(batch)

    def _write_one_by_one(self, batch: dict[type[Model], list[dict[str, Any]]]) -> None:
        dropped = 0
        for model, rows in batch.items():
            for row in rows:
                try:
                    with self._db.atomic():
                        _insert(self._db.cursor(), {model: [row]})
                except Exception as exc:
                    dropped += 1
                    if dropped == 1:
                        log.error("Could not write a queued %s row (%s: %s); it is dropped, the others are kept",
                                  model.__name__, type(exc).__name__, exc)
        if dropped > 1:
            log.error("%d queued rows could not be written and were dropped", dropped)


def _insert(cursor: Any, batch: dict[type[Model], list[dict[str, Any]]]) -> None:
    """The rows, and for usage rows their rollups, in the caller's transaction: both are written or neither."""
    deltas: dict[str, rollups.Deltas] = {}
    for model, rows in batch.items():
        for names, values in _grouped(model, rows):
            cursor.executemany(_insert_sql(model, names), values)
            if model is UsageRow:
                positions = [names.index(f) if f in names else None for f in rollups.ROW_FIELDS]
                rollups.add_rows(deltas, (_rollup_fields(row, positions) for row in values))
    rollups.write_deltas(cursor, deltas)


def _rollup_fields(row: tuple[Any, ...], positions: list[int | None]) -> tuple[Any, ...]:
    return tuple(None if p is None else row[p] for p in positions)


def _grouped(model: type[Model], rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Rows with the same fields together, as tuples of database values (usage rows share one shape)."""
    fields = model._meta.fields
    groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        names = tuple(row)
        groups.setdefault(names, []).append(tuple(_storable(fields[name], fields[name].db_value(value))
                                                  for name, value in row.items()))
    return list(groups.items())


_INT_LIMIT = 2**63 - 1  # SQLite's INTEGER


def _storable(field: Any, value: Any) -> Any:
    """A value SQLite can hold and the store's readers can answer with: counts beyond 64 bits are capped,
    non-finite numbers become unknown (or 0 where the column needs a value)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT_LIMIT <= value <= _INT_LIMIT:
        return _INT_LIMIT if value > 0 else -_INT_LIMIT
    if isinstance(value, float) and not math.isfinite(value):
        return None if field.null else 0
    return value


_SQL_CACHE: dict[tuple[type[Model], tuple[str, ...]], str] = {}


def _insert_sql(model: type[Model], names: tuple[str, ...]) -> str:
    sql = _SQL_CACHE.get((model, names))
    if sql is None:
        fields = model._meta.fields
        columns = ", ".join(f'"{fields[name].column_name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        sql = _SQL_CACHE[(model, names)] = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    return sql
