"""Writes that must not happen on the event loop (usage rows, call logs) go through a batching thread.

The request path only appends to a queue; a thread groups rows per model and inserts them in one
transaction, so thousands of requests a second cost a handful of commits.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from typing import Any

from peewee import Model, SqliteDatabase

log = logging.getLogger(__name__)

_BATCH_LIMIT = 500
_STOP = None


class BatchWriter:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[tuple[type[Model], dict[str, Any]] | None] = queue.SimpleQueue()
        self._pending = 0
        self._settled = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="quotagate-writer", daemon=True)
        self._thread.start()

    def submit(self, model: type[Model], row: dict[str, Any]) -> None:
        """Queue one row for insertion; never blocks on disk."""
        with self._settled:
            self._pending += 1
        self._queue.put((model, row))

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every row submitted so far is written (or dropped as unwritable)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        self._db.connect(reuse_if_open=True)
        try:
            stopping = False
            while not stopping:
                batch: dict[type[Model], list[dict[str, Any]]] = defaultdict(list)
                item = self._queue.get()
                count = 0
                while True:
                    if item is _STOP:
                        stopping = True
                    else:
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

    def _write(self, batch: dict[type[Model], list[dict[str, Any]]]) -> None:
        try:
            with self._db.atomic():
                for model, rows in batch.items():
                    model.insert_many(rows).execute()
        except Exception:  # a bad row must not kill the writer: report it, drop the batch, keep going
            log.exception("Could not write %d queued rows", sum(len(r) for r in batch.values()))
