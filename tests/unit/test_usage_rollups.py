"""Hourly and daily rollups: always equal to a direct aggregation of the stored usage rows."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.gateway import usage_queries
from core.store import Store, rollups
from core.store.models import UsageDay, UsageDayModel, UsageHour, UsageHourModel, UsageRow
from tests.conftest import local_zone

START = datetime(2026, 4, 1, tzinfo=UTC).timestamp()  # the week Adelaide leaves summer time (Apr 5)


@pytest.fixture
def adelaide(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A zone offset by half an hour, with daylight saving: the hardest local midnights."""
    yield from local_zone(monkeypatch, "Australia/Adelaide")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path)
    yield opened
    opened.close()


def hour_of(ts: float) -> int:
    return int(datetime.fromtimestamp(ts, UTC).replace(minute=0, second=0, microsecond=0).timestamp())


def day_of(ts: float) -> int:
    return int(datetime.fromtimestamp(ts).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def random_rows(rng: random.Random, count: int) -> list[dict]:
    rows = []
    for _ in range(count):
        edge = rng.random() < 0.3  # on, or just before, a bucket's first second
        ts = (hour_of(START + rng.uniform(0, 7 * 86400)) - rng.choice([0, 0.001, 1])) if edge \
            else START + rng.uniform(0, 7 * 86400)
        rows.append({"ts": ts, "provider": rng.choice(["openai", "deepseek", None]),
                     "model": rng.choice(["a", "b", None]), "status": rng.choice([200, 200, 429, 502]),
                     "tokens_in": rng.randint(0, 5000), "tokens_out": rng.randint(0, 900),
                     "tokens_cached": rng.randint(0, 100), "tokens_reasoning": rng.randint(0, 50),
                     "cost": rng.choice([0.0, rng.uniform(0, 0.05)]),
                     "latency_ms": rng.choice([None, rng.uniform(1, 200_000)])})
    return rows


def direct(bucket_of, per_model: bool = False) -> dict[tuple, tuple]:
    """Sums per (bucket, provider, model, status), or per (bucket, provider, model), straight from the rows."""
    sums: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0.0, 0])
    for row in UsageRow.select():
        key = (bucket_of(row.ts), row.provider or "", row.model or "")
        entry = sums[key if per_model else (*key, row.status)]
        entry[0] += 1
        entry[1] += row.tokens_in
        entry[2] += row.tokens_out
        entry[3] += row.cost
        entry[4] += row.latency_ms is not None
    return {key: (n, t_in, t_out, round(cost, 9), lat) for key, (n, t_in, t_out, cost, lat) in sums.items()}


def rolled(table) -> dict[tuple, tuple]:
    per_model = table in (UsageHourModel, UsageDayModel)
    return {(r.bucket_start, r.provider, r.model, *(() if per_model else (r.status,))):
            (r.requests, r.tokens_in, r.tokens_out, round(r.cost, 9), r.latency_count) for r in table.select()}


@pytest.mark.parametrize("seed", range(4))
def test_rollups_equal_a_direct_aggregation_of_random_rows(store: Store, adelaide: None, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 5)):  # several batches adding to the same buckets
        for row in random_rows(rng, rng.randint(1, 400)):
            store.writer.submit(UsageRow, row)
        assert store.writer.flush()
    assert rolled(UsageHour) == direct(hour_of)
    assert rolled(UsageDay) == direct(day_of)
    assert rolled(UsageHourModel) == direct(hour_of, per_model=True)
    assert rolled(UsageDayModel) == direct(day_of, per_model=True)


@pytest.mark.parametrize("seed", range(3))
def test_history_over_random_windows_counts_the_rows_in_its_whole_buckets(store: Store, adelaide: None,
                                                                           seed: int) -> None:
    rng = random.Random(seed)
    for row in random_rows(rng, 600):
        store.writer.submit(UsageRow, row)
    assert store.writer.flush()
    stored = [(r.ts, r.tokens_in) for r in UsageRow.select()]
    for _ in range(10):
        since = START + rng.uniform(-86400, 7 * 86400)
        until = since + rng.uniform(1, 4 * 86400)
        for bucket in ("hour", "day"):
            result = usage_queries.history(since, until, bucket)
            inside = [t_in for ts, t_in in stored if result["since"] <= ts < result["until"]]
            assert result["totals"]["requests"] == len(inside)
            assert result["totals"]["promptTokens"] == sum(inside)
            assert sum(p["requests"] for p in result["series"]) == len(inside)


def test_day_buckets_start_at_local_midnight(store: Store, adelaide: None) -> None:
    midnight = datetime(2026, 3, 10).timestamp()  # local (Adelaide) midnight: 13:30 UTC the day before
    for ts in (midnight - 60, midnight + 60):
        store.writer.submit(UsageRow, {"ts": ts, "provider": "openai", "model": "m", "status": 200})
    assert store.writer.flush()
    assert sorted(r.bucket_start for r in UsageDay.select()) == [midnight - 86400, midnight]


def test_a_batch_with_an_unwritable_row_counts_each_written_row_once(store: Store) -> None:
    for i in range(50):
        store.writer.submit(UsageRow, {"ts": START + i, "provider": "p", "model": "m", "status": 200, "tokens_in": 1})
    store.writer.submit(UsageRow, {"ts": START + 60, "provider": "p", "model": "m", "status": None})  # NOT NULL
    assert store.writer.flush()
    # the whole batch failed once, then went row by row: the first attempt must have left nothing behind
    assert UsageRow.select().count() == 50
    assert [(r.requests, r.tokens_in) for r in UsageHour.select()] == [(50, 50)]
    assert [(r.requests, r.tokens_in) for r in UsageDay.select()] == [(50, 50)]
    assert [(r.requests, r.tokens_in) for r in UsageDayModel.select()] == [(50, 50)]


def test_sums_past_64_bits_are_kept_instead_of_failing_the_batch(store: Store) -> None:
    for _ in range(2):
        store.writer.submit(UsageRow, {"ts": START, "provider": "p", "model": "m", "status": 200,
                                       "tokens_in": 2**63 - 1})
    assert store.writer.flush()
    assert UsageRow.select().count() == 2
    assert usage_queries.history(START, START + 1, "hour")["totals"]["promptTokens"] > 2**63


def test_percentiles_interpolate_inside_the_histogram_bin() -> None:
    bins = [0] * rollups.LATENCY_BINS
    bins[rollups.latency_bin(75)] = 10  # ten requests between 50 and 100 ms
    assert rollups.percentile_ms(bins, 50) == 75.0
    assert rollups.percentile_ms([0] * rollups.LATENCY_BINS, 50) is None


def test_latencies_beyond_the_last_bound_report_that_bound() -> None:
    bins = [0] * rollups.LATENCY_BINS
    bins[rollups.latency_bin(10**7)] = 3
    assert rollups.percentile_ms(bins, 95) == rollups.LATENCY_BOUNDS_MS[-1]
