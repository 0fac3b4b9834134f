"""Usage rows are written off the event loop, in batches, without losing any."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from core.store import Store
from core.store.models import UsageRow


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
    store.writer.submit(UsageRow, {"ts": 1.0, "path": "/v1/models"})  # status is NOT NULL
    assert store.writer.flush(timeout=10)
    store.writer.submit(UsageRow, {"ts": 2.0, "path": "/v1/models", "status": 200})
    assert store.writer.flush(timeout=10)
    assert [row.ts for row in UsageRow.select()] == [2.0]
    store.close()


def test_close_writes_what_is_still_queued(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    for i in range(100):
        store.writer.submit(UsageRow, {"ts": float(i), "path": "/v1/chat/completions", "status": 200})
    store.close()

    reopened = Store.open(tmp_path)
    assert UsageRow.select().count() == 100
    reopened.close()


def test_one_bad_row_never_costs_the_others(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    for i in range(200):
        store.writer.submit(UsageRow, {"ts": float(i), "provider": "p", "model": "m", "status": 200, "tokens_in": i})
    store.writer.submit(UsageRow, {"ts": 500.0, "provider": "p", "model": "m", "status": None})  # NOT NULL
    assert store.writer.flush(timeout=10)
    assert UsageRow.select().count() == 200
    store.close()


def test_counts_beyond_64_bits_and_infinite_costs_are_stored_bounded(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.writer.submit(UsageRow, {"ts": 1.0, "provider": "p", "model": "m", "status": 200,
                                   "tokens_in": 2**70, "tokens_out": 2**63, "cost": float("inf")})
    store.writer.submit(UsageRow, {"ts": 2.0, "provider": "p", "model": "m", "status": 200, "tokens_in": 7})
    assert store.writer.flush(timeout=10)
    rows = list(UsageRow.select().order_by(UsageRow.ts))
    assert [(r.tokens_in, r.tokens_out, r.cost) for r in rows] == [(2**63 - 1, 2**63 - 1, 0.0), (7, 0, 0.0)]
    store.close()
