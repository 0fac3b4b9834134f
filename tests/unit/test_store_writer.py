"""Usage rows and call logs are written off the event loop, in batches, without losing any."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from core.store import Store
from core.store.models import CallLog, UsageRow


def test_rows_from_many_threads_are_all_written_after_flush(tmp_path: Path) -> None:
    store = Store.open(tmp_path)

    def produce(worker: int) -> None:
        for i in range(500):
            store.writer.submit(UsageRow, {"ts": time.time(), "provider": f"p{worker}", "model": "m",
                                           "status": 200, "tokens_in": i})

    threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.writer.flush(timeout=10)
    assert UsageRow.select().count() == 2000
    store.close()


def test_an_unwritable_row_is_dropped_and_the_writer_keeps_working(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.writer.submit(CallLog, {"ts": 1.0, "method": "GET"})  # path and status are NOT NULL
    assert store.writer.flush(timeout=10)
    store.writer.submit(CallLog, {"ts": 2.0, "method": "GET", "path": "/v1/models", "status": 200})
    assert store.writer.flush(timeout=10)
    assert [row.path for row in CallLog.select()] == ["/v1/models"]
    store.close()


def test_close_writes_what_is_still_queued(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    for i in range(100):
        store.writer.submit(CallLog, {"ts": float(i), "method": "POST", "path": "/v1/chat/completions",
                                      "status": 200})
    store.close()

    reopened = Store.open(tmp_path)
    assert CallLog.select().count() == 100
    reopened.close()
