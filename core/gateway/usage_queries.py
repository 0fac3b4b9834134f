"""Reading recorded usage back: time series, totals per provider/model, and the searchable request log.

Shared by the management API and the dashboard window so both show the same numbers. These read the
store, so callers on the event loop run them in an executor.
"""

from __future__ import annotations

import math
import time
from typing import Any

from peewee import OperationalError, fn

from core.store import rollups
from core.store.models import UsageDayModel, UsageHourModel, UsageRow

BUCKETS = {"hour": 3600, "day": 86400}
_MAX_PAGE = 500
# The request log counts its matches up to here and then says "more than": an exact count would read every
# matching row, which on a long log costs more than the page itself.
COUNT_LIMIT = 1000
TELEMETRY_HOURS = 24


def history(since: float | None = None, until: float | None = None, bucket: str = "hour") -> dict[str, Any]:
    """Requests, tokens, cost and latency per time bucket, plus totals per provider and per model.

    Read from the rollups, so the cost follows the number of buckets shown, not of requests. The window is
    widened to whole buckets (whole UTC hours, or local days), and `since`/`until` in the answer say so.
    """
    width = BUCKETS.get(bucket)
    if width is None:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    until = until or time.time()
    since = since or until - 7 * 86400
    first = rollups.bucket_start(since, bucket)
    end = rollups.bucket_start(until, bucket)
    if end < until:
        end = rollups.next_bucket_start(end, bucket)
    table = UsageHourModel if bucket == "hour" else UsageDayModel  # per provider and model: all it needs
    window = (table.bucket_start >= first) & (table.bucket_start < end)
    series = _grouped(table, window, table.bucket_start)
    models = _grouped(table, window, table.provider, table.model)
    providers: dict[Any, list[Any]] = {}
    for (provider, _), sums in models.items():
        _add(providers, provider, sums)
    totals: dict[Any, list[Any]] = {}
    for sums in providers.values():
        _add(totals, None, sums)

    def by_requests(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda r: -r["requests"])

    return {
        "since": first, "until": end, "bucket": bucket,
        "series": [{"start": start, **_totals(sums)} for (start,), sums in series.items()],
        "byProvider": by_requests([{"provider": provider or None, **_totals(sums)}
                                   for provider, sums in providers.items()]),
        "byModel": by_requests([{"provider": provider or None, "model": model or None, **_totals(sums)}
                                for (provider, model), sums in models.items()]),
        "totals": _totals(totals.get(None, [0] * len(_SUMMED))),
    }


def _grouped(table: Any, window: Any, *keys: Any) -> dict[tuple[Any, ...], list[Any]]:
    """The window's sums per `keys` value, in key order."""
    query = table.select(*keys, *_sums(table)).where(window).group_by(*keys).order_by(*keys).tuples()
    try:
        rows = list(query)
    except OperationalError:  # integer sums past 64 bits (absurd token counts): the same sums as floats
        rows = list(query.clone().select(*keys, *_sums(table, as_float=True)))
    return {tuple(row[:len(keys)]): list(row[len(keys):]) for row in rows}


def _add(into: dict[Any, list[Any]], key: Any, sums: list[Any]) -> None:
    found = into.get(key)
    into[key] = list(sums) if found is None else [a + b for a, b in zip(found, sums)]


def logs(provider: str | None = None, model: str | None = None, status: str | None = None,
         search: str | None = None, since: float | None = None, until: float | None = None,
         limit: int = 50, offset: int = 0, before: int | None = None) -> dict[str, Any]:
    """One page of requests, newest first. `status` is 'ok', 'error' or an exact code.

    `before` pages by key: the requests older than that id (the answer's `nextBefore`), so a deep page costs
    what the first does; `offset` still works but costs what it skips. `total` counts the matches up to
    COUNT_LIMIT; `totalIsExact` is false when there are more.
    """
    query = UsageRow.select()
    if provider:
        query = query.where(UsageRow.provider == provider)
    if model:
        query = query.where(UsageRow.model == model)
    if status == "ok":
        query = query.where(UsageRow.status < 400)
    elif status == "error":
        query = query.where(UsageRow.status >= 400)
    elif status:
        query = query.where(UsageRow.status == int(status))
    if search:
        pattern = f"%{search}%"
        query = query.where(UsageRow.provider ** pattern | UsageRow.model ** pattern)
    if since is not None:
        query = query.where(UsageRow.ts >= since)
    if until is not None:
        query = query.where(UsageRow.ts < until)
    limit = max(1, min(int(limit), _MAX_PAGE))
    total = query.select(UsageRow.id).limit(COUNT_LIMIT + 1).count()
    if before is not None:
        query = query.where(UsageRow.id < before)
    # ids grow with time (one writer appends in arrival order): the primary key orders newest first for free
    # one row more than the page: whether an older page exists, so "older" never leads to an empty one
    page = list(query.order_by(UsageRow.id.desc()).limit(limit + 1).offset(max(0, int(offset))))
    more = len(page) > limit
    page = page[:limit]
    return {"total": min(total, COUNT_LIMIT), "totalIsExact": total <= COUNT_LIMIT, "limit": limit,
            "offset": offset, "items": [_log_item(row) for row in page], "nextBefore": page[-1].id if more else None}


def telemetry(now: float | None = None, hours: int = TELEMETRY_HOURS) -> dict[str, Any]:
    """Latency percentiles per provider over the last `hours` whole hours, from the hourly rollups."""
    now = time.time() if now is None else now
    first = rollups.hour_start(now) - (hours - 1) * rollups.HOUR
    table = UsageHourModel
    summary = {}
    for (provider,), sums in _grouped(table, table.bucket_start >= first, table.provider).items():
        totals = _totals(sums)
        bins = [int(value or 0) for value in sums[_FIRST_BIN:]]
        if provider and totals["latencyAvgMs"] is not None:
            summary[provider] = {"p50": totals["latencyP50Ms"], "p95": totals["latencyP95Ms"],
                                 "p99": rollups.percentile_ms(bins, 99), "count": int(sums[_LATENCIES]),
                                 "avgMs": totals["latencyAvgMs"]}
    return {"providers": summary, "since": first, "until": rollups.hour_start(now) + rollups.HOUR}


# The summed rollup columns, in the order `_totals` reads them.
_SUMMED = rollups.SUM_COLUMNS
_LATENCIES = _SUMMED.index("latency_count")
_FIRST_BIN = _SUMMED.index(rollups.LATENCY_COLUMNS[0])


def _sums(table: Any, as_float: bool = False) -> list[Any]:
    """SUM of each of _SUMMED. `as_float` for the rare store whose integer sums overflow 64 bits (an error in
    SQL): casting every value costs a third more, so it is only the fallback."""
    def total(name: str) -> Any:
        column = getattr(table, name)
        return fn.SUM(column.cast("REAL") if as_float else column).alias(name)

    return [total(name) for name in _SUMMED]


def _totals(sums: list[Any]) -> dict[str, Any]:
    requests, errors, t_in, t_out, t_cached, t_reasoning, cost, latencies, latency_sum = (
        (value or 0) for value in sums[:_FIRST_BIN])
    bins = [int(value or 0) for value in sums[_FIRST_BIN:]]
    return {"requests": int(requests), "promptTokens": int(t_in), "completionTokens": int(t_out),
            "cachedTokens": int(t_cached), "reasoningTokens": int(t_reasoning),
            "cost": round(_finite(float(cost)) or 0.0, 6), "errors": int(errors),
            "latencyAvgMs": round(latency_sum / latencies, 1) if latencies else None,
            "latencyP50Ms": rollups.percentile_ms(bins, 50), "latencyP95Ms": rollups.percentile_ms(bins, 95)}


def _log_item(row: UsageRow) -> dict[str, Any]:
    return {
        "id": row.id, "timestamp": row.ts, "provider": row.provider, "model": row.model,
        "accountId": row.account_id, "apiKeyId": row.api_key_id, "status": row.status,
        "promptTokens": row.tokens_in, "completionTokens": row.tokens_out, "cachedTokens": row.tokens_cached,
        "reasoningTokens": row.tokens_reasoning, "latencyMs": row.latency_ms, "ttftMs": row.ttft_ms,
        "cost": _finite(row.cost), "path": row.path, "error": row.error, "attempts": row.attempts,
    }


def _finite(value: Any) -> Any:
    """Rows written before costs were bounded may hold an infinite one: it reads as unknown, never as an
    answer JSON cannot carry."""
    return value if not isinstance(value, float) or math.isfinite(value) else None
