"""One provider account's usage (`GET /api/usage/{connectionId}`), read from the daily rollups: totals for
today, for the window asked (30 days by default), and per day and per model within it. The sums and their
shape are `usage_queries`' own, so these numbers match the dashboard's. Blocking: run it in an executor."""

from __future__ import annotations

import time
from typing import Any

from peewee import OperationalError

from core.gateway.usage_queries import _add, _sums, _totals
from core.store import rollups
from core.store.models import UsageDay


def account_usage(account_id: int, days: int = 30, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    today = rollups.day_start(now)
    first = today
    for _ in range(days - 1):  # calendar days back, so a DST change never shifts the window
        first = rollups.day_start(first - 3600)
    keys = (UsageDay.bucket_start, UsageDay.model)
    query = (UsageDay.select(*keys, *_sums(UsageDay))
             .where((UsageDay.account_id == account_id) & (UsageDay.bucket_start >= first))
             .group_by(*keys).order_by(*keys).tuples())
    try:
        rows = list(query)
    except OperationalError:  # integer sums past 64 bits: the same sums as floats
        rows = list(query.clone().select(*keys, *_sums(UsageDay, as_float=True)))
    series: dict[int, list[Any]] = {}
    models: dict[str, list[Any]] = {}
    totals: dict[None, list[Any]] = {}
    for start, model, *sums in rows:
        _add(series, start, sums)
        _add(models, model, sums)
        _add(totals, None, sums)
    empty = [0] * len(_sums(UsageDay))
    return {
        "since": first, "until": rollups.next_bucket_start(today, "day"), "days": days,
        "today": _totals(series.get(today, empty)),
        "totals": _totals(totals.get(None, empty)),
        "series": [{"start": start, **_totals(sums)} for start, sums in series.items()],
        "byModel": sorted(({"model": model or None, **_totals(sums)} for model, sums in models.items()),
                          key=lambda item: -item["requests"]),
    }
