"""Usage history at scale: a store filled with N synthetic requests, the dashboard's queries timed on it.

    python -m tests.bench.usage_history [--requests 1000000] [--days 30] [--folder DIR]

Rows go in through the batch writer's own insert (raw rows and their rollups in one transaction per batch),
so filling also measures what the rollups cost the writer. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from core.gateway import usage_queries
from core.store import Store
from core.store.models import UsageDay, UsageHour, UsageRow
from core.store.writer import _insert

PROVIDERS = {"openai": ["gpt-4.1", "gpt-4.1-mini", "o3"], "anthropic": ["claude-sonnet-4", "claude-opus-4"],
             "deepseek": ["deepseek-chat"], "zhipu": ["glm-4.6"], "gemini": ["gemini-2.5-pro", "gemini-2.5-flash"]}


def fill(store: Store, count: int, days: float, now: float, batch: int = 20_000) -> float:
    """`count` requests spread evenly over the last `days` days; seconds spent writing."""
    rng = random.Random(12)
    pairs = [(p, m) for p, models in PROVIDERS.items() for m in models]
    step = days * 86400 / count
    spent = 0.0
    for first in range(0, count, batch):
        rows = []
        for i in range(first, min(count, first + batch)):
            provider, model = rng.choice(pairs)
            status = 200 if rng.random() < 0.97 else rng.choice([429, 500, 502])
            rows.append({"ts": now - days * 86400 + i * step, "api_key": None, "provider": provider,
                         "account": None, "model": model, "tokens_in": rng.randint(200, 40_000),
                         "tokens_out": rng.randint(10, 4000), "tokens_cached": rng.randint(0, 20_000),
                         "tokens_reasoning": 0, "latency_ms": round(rng.lognormvariate(7, 0.8), 3),
                         "ttft_ms": None, "status": status, "cost": round(rng.random() * 0.05, 6),
                         "path": "/v1/chat/completions", "error": None})
        started = time.perf_counter()
        with store.db.atomic():
            _insert(store.db.cursor(), {UsageRow: rows})
        spent += time.perf_counter() - started
    return spent


def timed(call, repeat: int = 5) -> float:
    """Median milliseconds of `repeat` calls after one warm-up."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder or Path(scratch)
        store = Store.open(folder)
        now = time.time()
        try:
            write_s = fill(store, args.requests, args.days, now)
            store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size = sum(p.stat().st_size for p in folder.glob("quotagate.sqlite*"))
            deep = usage_queries.logs(limit=50, offset=5000)["items"][0]["id"] + 1
            rows = [
                ("requests stored", f"{args.requests:,} over {args.days:g} days"),
                ("write, raw rows + rollups", f"{write_s:.1f} s ({args.requests / write_s:,.0f} rows/s)"),
                ("rollup rows (hour / day)", f"{UsageHour.select().count():,} / {UsageDay.select().count():,}"),
                ("store size", f"{size / 2**20:.1f} MiB"),
                ("history 7 days by hour", f"{timed(lambda: usage_queries.history(now - 7 * 86400, now, 'hour')):.1f} ms"),
                ("history 30 days by day", f"{timed(lambda: usage_queries.history(now - 30 * 86400, now, 'day')):.1f} ms"),
                ("history 365 days by day", f"{timed(lambda: usage_queries.history(now - 365 * 86400, now, 'day')):.1f} ms"),
                ("request log, first page", f"{timed(lambda: usage_queries.logs(limit=50)):.1f} ms"),
                ("request log, offset 5,000", f"{timed(lambda: usage_queries.logs(limit=50, offset=5000)):.1f} ms"),
                ("request log, 5,000 deep by key (`before`)",
                 f"{timed(lambda: usage_queries.logs(limit=50, before=deep)):.1f} ms"),
            ]
        finally:
            store.close()
    print("| measure | value |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
