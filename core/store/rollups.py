"""Usage rollups: per hour and per day, the sums the dashboard shows, kept next to the raw rows.

The batch writer adds a batch's rollup deltas in the same transaction as its usage rows, so a crash loses
both or neither and a row is never counted twice. Buckets are computed here, in Python (whole UTC hours, local
midnights, as the dashboard draws them), and the upsert is standard SQL (`INSERT ... ON CONFLICT DO UPDATE`,
which SQLite and PostgreSQL both speak), so no store-specific date function is needed.

Keys that may be unknown (provider, model, account, client key) are stored as '' or 0: a unique key must not
hold NULLs, which never compare equal.

Each bucket size has two tables: the full key (provider × model × account × client key × status), for views
and limits per key or account, and the same sums per provider and model only (`*_model`), which is all the
dashboard's history asks for and a tenth of the rows to read over a year.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Sequence
from typing import Any

HOUR, DAY = 3600, 86400
TABLES = {"hour": "usage_hour", "day": "usage_day"}
MODEL_TABLES = {"hour": "usage_hour_model", "day": "usage_day_model"}

# Upper bounds (ms) of the latency histogram's bins; one more bin holds everything slower. Fixed forever:
# changing them would make old and new bins unaddable (a new set of bounds needs a new migration).
LATENCY_BOUNDS_MS: tuple[float, ...] = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000)
LATENCY_BINS = len(LATENCY_BOUNDS_MS) + 1
LATENCY_COLUMNS = tuple(f"latency_bin_{i}" for i in range(LATENCY_BINS))

KEY_COLUMNS = ("bucket_start", "provider", "model", "account_id", "api_key_id", "status")
MODEL_KEY_COLUMNS = KEY_COLUMNS[:3]
SUM_COLUMNS = ("requests", "errors", "tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning", "cost",
               "latency_count", "latency_ms_sum", *LATENCY_COLUMNS)
_FIRST_LATENCY = SUM_COLUMNS.index(LATENCY_COLUMNS[0])

# The usage row's fields a rollup reads, in the order `add_rows` takes them.
ROW_FIELDS = ("ts", "provider", "model", "account", "api_key", "status", "tokens_in", "tokens_out",
              "tokens_cached", "tokens_reasoning", "cost", "latency_ms")


def hour_start(ts: float) -> int:
    return int(ts // HOUR) * HOUR


def day_start(ts: float) -> int:
    """The local midnight that starts `ts`'s day (days are 23 to 25 hours long across a clock change)."""
    t = time.localtime(ts)
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1)))


def bucket_start(ts: float, bucket: str) -> int:
    return hour_start(ts) if bucket == "hour" else day_start(ts)


def next_bucket_start(start: int, bucket: str) -> int:
    """The start of the bucket after the one starting at `start` (days are 23 to 25 hours long)."""
    return start + HOUR if bucket == "hour" else day_start(start + DAY + 2 * HOUR)


def latency_bin(latency_ms: float) -> int:
    return bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms)


Deltas = dict[tuple[Any, ...], list[Any]]


def add_rows(deltas: dict[str, Deltas], rows: Iterable[Sequence[Any]]) -> None:
    """Add usage rows (tuples in ROW_FIELDS order, as stored) to per-table deltas keyed by rollup key."""
    hour, day = deltas.setdefault("hour", {}), deltas.setdefault("day", {})
    day_of_hour: dict[int, int] = {}
    for ts, provider, model, account, api_key, status, t_in, t_out, t_cached, t_reasoning, cost, latency in rows:
        status = int(status)
        tail = (provider or "", model or "", account or 0, api_key or 0, status)
        hour_key = hour_start(ts)
        day_key = day_of_hour.get(hour_key)
        if day_key is None:
            day_key = day_start(ts)
            if day_start(hour_key) == day_start(hour_key + HOUR - 1):  # the whole hour is in one day
                day_of_hour[hour_key] = day_key
        values = [1, 1 if status >= 400 else 0, t_in or 0, t_out or 0, t_cached or 0, t_reasoning or 0,
                  cost or 0.0, 0, 0.0] + [0] * LATENCY_BINS
        if latency is not None:
            values[7], values[8] = 1, latency
            values[_FIRST_LATENCY + latency_bin(latency)] = 1
        for table, key in ((hour, (hour_key, *tail)), (day, (day_key, *tail))):
            found = table.get(key)
            if found is None:
                table[key] = list(values)
            else:
                for i, value in enumerate(values):
                    if value:
                        found[i] += value


def upsert_sql(table: str, keys: tuple[str, ...] = KEY_COLUMNS) -> str:
    """Standard SQL that adds one key's deltas to its rollup row, creating it the first time."""
    columns = keys + SUM_COLUMNS
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUM_COLUMNS)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}")


def write_deltas(cursor: Any, deltas: dict[str, Deltas], per_model: bool = True) -> None:
    """Add per-bucket deltas (full keys) to the tables of their bucket size (`per_model`: the per-model
    tables too; the migration that built the first rollups predates them)."""
    for bucket, table in deltas.items():
        if table:
            cursor.executemany(upsert_sql(TABLES[bucket]),
                               [(*key, *map(_storable, values)) for key, values in table.items()])
        if table and per_model:
            cursor.executemany(upsert_sql(MODEL_TABLES[bucket], MODEL_KEY_COLUMNS),
                               [(*key, *map(_storable, values)) for key, values in _per_model(table).items()])


def _per_model(table: Deltas) -> Deltas:
    narrowed: Deltas = {}
    for key, values in table.items():
        found = narrowed.get(key[:3])
        narrowed[key[:3]] = list(values) if found is None else [a + b for a, b in zip(found, values)]
    return narrowed


_INT_LIMIT = 2**63 - 1


def _storable(value: Any) -> Any:
    """Sums past 64 bits (rows holding absurd token counts) go in as floats rather than failing the batch."""
    return float(value) if isinstance(value, int) and not -_INT_LIMIT <= value <= _INT_LIMIT else value


def rollup_row_tuple(row: dict[str, Any]) -> tuple[Any, ...]:
    """A usage row as the writer stores it (field name -> database value) in ROW_FIELDS order."""
    return tuple(row.get(name) for name in ROW_FIELDS)


def percentile_ms(bins: Sequence[int], pct: float) -> float | None:
    """The `pct` percentile of latencies counted in histogram `bins`, interpolated inside its bin."""
    total = sum(bins)
    if not total:
        return None
    rank = pct / 100 * total
    seen = 0
    for index, count in enumerate(bins):
        if count and seen + count >= rank:
            if index >= len(LATENCY_BOUNDS_MS):
                return float(LATENCY_BOUNDS_MS[-1])  # slower than the last bound: all we know
            low = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
            high = LATENCY_BOUNDS_MS[index]
            return round(low + (high - low) * (rank - seen) / count, 1)
        seen += count
    return float(LATENCY_BOUNDS_MS[-1])


def rebuild(db: Any) -> None:
    """Fill every empty rollup table from the usage rows already stored."""
    rebuild_full_key(db)
    build_per_model(db)


def rebuild_full_key(db: Any, batch: int = 50_000) -> None:
    """Fill the empty full-key rollup tables from the usage rows already stored (the migration that adds them,
    which came before the per-model tables)."""
    columns = ("ts", "provider", "model", "account_id", "api_key_id", "status", "tokens_in", "tokens_out",
               "tokens_cached", "tokens_reasoning", "cost", "latency_ms")
    last = 0
    while True:
        rows = db.execute_sql(f"SELECT id, {', '.join(columns)} FROM usage_row WHERE id > ? ORDER BY id LIMIT ?",
                              (last, batch)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        deltas: dict[str, Deltas] = {}
        add_rows(deltas, (row[1:] for row in rows))
        write_deltas(db.cursor(), deltas, per_model=False)


def build_per_model(db: Any) -> None:
    """Fill the empty per-model tables from the full-key ones (standard SQL, in the caller's transaction)."""
    sums = ", ".join(f"SUM({c})" for c in SUM_COLUMNS)
    keys = ", ".join(MODEL_KEY_COLUMNS)
    for bucket, table in TABLES.items():
        db.execute_sql(f"INSERT INTO {MODEL_TABLES[bucket]} ({keys}, {', '.join(SUM_COLUMNS)}) "
                       f"SELECT {keys}, {sums} FROM {table} GROUP BY {keys}")
