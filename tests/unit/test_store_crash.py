"""A process killed while its batch writer is mid-batch: after the restart every rollup still equals the sums
of the raw rows that survived (no row counted twice, none missed), and the store takes rows again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from core.store import Store
from core.store.models import UsageDay, UsageDayModel, UsageHour, UsageHourModel, UsageRow
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
START = 1_800_000_000.0


def keep_writing(folder: Path) -> None:
    """The worker: rows as fast as the writer takes them, with a flush now and then so batches commit while
    others are being gathered; prints how many were flushed so the parent knows writing has begun."""
    store = Store.open(folder)
    i = 0
    while True:
        for _ in range(500):
            store.writer.submit(UsageRow, {"ts": START + i * 7.3, "provider": ("openai", "deepseek")[i % 2],
                                           "model": "m", "status": 200 if i % 11 else 502, "tokens_in": i % 97,
                                           "latency_ms": float(i % 3000)})
            i += 1
        store.writer.flush()
        print(i, flush=True)


def sums_from_rows(per_model: bool, bucket: str) -> dict[tuple, tuple[int, int, int]]:
    width = 3600 if bucket == "hour" else 86400  # the test runs in UTC: days are whole multiples
    sums: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in UsageRow.select():
        key = (int(row.ts // width) * width, row.provider, row.model)
        entry = sums[key if per_model else (*key, row.status)]
        entry[0] += 1
        entry[1] += row.tokens_in
        entry[2] += row.status >= 400
    return {key: tuple(value) for key, value in sums.items()}


def sums_from_rollups(table: type) -> dict[tuple, tuple[int, int, int]]:
    per_model = table in (UsageHourModel, UsageDayModel)
    return {(r.bucket_start, r.provider, r.model, *(() if per_model else (r.status,))):
            (r.requests, r.tokens_in, r.errors) for r in table.select()}


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.7])
def test_a_crash_during_a_batch_never_counts_a_row_twice_or_misses_one(tmp_path: Path, utc: None,
                                                                       delay: float) -> None:
    worker = subprocess.Popen([sys.executable, __file__, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "TZ": "UTC"})
    try:
        assert worker.stdout is not None
        assert int(worker.stdout.readline()) > 0  # the first rows are committed; more are on their way
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    store = Store.open(tmp_path)
    try:
        assert UsageRow.select().count() >= 500
        for table, bucket in ((UsageHour, "hour"), (UsageDay, "day"), (UsageHourModel, "hour"),
                              (UsageDayModel, "day")):
            assert sums_from_rollups(table) == sums_from_rows(table in (UsageHourModel, UsageDayModel), bucket)
        before = UsageRow.select().count()
        store.writer.submit(UsageRow, {"ts": START, "provider": "openai", "model": "m", "status": 200})
        assert store.writer.flush()
        wait_for(lambda: UsageRow.select().count() == before + 1)
        assert sums_from_rollups(UsageDayModel) == sums_from_rows(True, "day")
    finally:
        store.close()


if __name__ == "__main__":
    keep_writing(Path(sys.argv[1]))
