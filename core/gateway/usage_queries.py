"""Reading recorded usage back: time series, totals per provider/model, and the searchable request log.

Shared by the management API and the dashboard window so both show the same numbers. These read the
store, so callers on the event loop run them in an executor.
"""

from __future__ import annotations

import math
import time
from typing import Any

from peewee import fn

from core.store import rollups
from core.store.models import UsageDay, UsageHour, UsageRow

BUCKETS = {"hour": 3600, "day": 86400}
_MAX_PAGE = 500


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
    table = UsageHour if bucket == "hour" else UsageDay
    window = (table.bucket_start >= first) & (table.bucket_start < end)

    def grouped(*keys: Any) -> Any:
        query = table.select(*keys, *_sums(table)).where(window)
        return query.group_by(*keys).order_by(*keys) if keys else query

    by_requests = lambda rows: sorted(rows, key=lambda r: -r["requests"])
    return {
        "since": first, "until": end, "bucket": bucket,
        "series": [{"start": row.bucket_start, **_row_totals(row)} for row in grouped(table.bucket_start)],
        "byProvider": by_requests([{"provider": row.provider or None, **_row_totals(row)}
                                   for row in grouped(table.provider)]),
        "byModel": by_requests([{"provider": row.provider or None, "model": row.model or None, **_row_totals(row)}
                                for row in grouped(table.provider, table.model)]),
        "totals": _row_totals(grouped().get()),
    }


def logs(provider: str | None = None, model: str | None = None, status: str | None = None,
         search: str | None = None, since: float | None = None, until: float | None = None,
         limit: int = 50, offset: int = 0, before: int | None = None) -> dict[str, Any]:
    """One page of requests, newest first. `status` is 'ok', 'error' or an exact code.

    `before` pages by key: the requests older than that id (the answer's `nextBefore`), so a deep page costs
    what the first does; `offset` still works but costs what it skips.
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
    total = query.count()
    if before is not None:
        query = query.where(UsageRow.id < before)
    # ids grow with time (one writer appends in arrival order): the primary key orders newest first for free
    page = list(query.order_by(UsageRow.id.desc()).limit(limit).offset(max(0, int(offset))))
    return {"total": total, "limit": limit, "offset": offset, "items": [_log_item(row) for row in page],
            "nextBefore": page[-1].id if len(page) == limit else None}


def _sums(table: Any) -> list[Any]:
    # summed as floats: integer sums overflow (an error in SQL) once a few rows hold absurd counts
    def total(column: Any, name: str) -> Any:
        return fn.COALESCE(fn.SUM(column.cast("REAL")), 0).alias(name)

    return [total(table.requests, "requests"), total(table.errors, "errors"), total(table.tokens_in, "tokens_in"),
            total(table.tokens_out, "tokens_out"), total(table.tokens_cached, "tokens_cached"),
            total(table.tokens_reasoning, "tokens_reasoning"), fn.COALESCE(fn.SUM(table.cost), 0).alias("cost"),
            total(table.latency_count, "latency_count"), fn.COALESCE(fn.SUM(table.latency_ms_sum), 0).alias("latency_sum"),
            *(total(getattr(table, column), column) for column in rollups.LATENCY_COLUMNS)]


def _row_totals(row: Any) -> dict[str, Any]:
    bins = [int(getattr(row, column)) for column in rollups.LATENCY_COLUMNS]
    latencies = int(row.latency_count)
    return {"requests": int(row.requests), "promptTokens": int(row.tokens_in),
            "completionTokens": int(row.tokens_out), "cachedTokens": int(row.tokens_cached),
            "reasoningTokens": int(row.tokens_reasoning), "cost": round(_finite(row.cost) or 0.0, 6),
            "errors": int(row.errors),
            "latencyAvgMs": round(row.latency_sum / latencies, 1) if latencies else None,
            "latencyP50Ms": rollups.percentile_ms(bins, 50), "latencyP95Ms": rollups.percentile_ms(bins, 95)}


def _log_item(row: UsageRow) -> dict[str, Any]:
    return {
        "id": row.id, "timestamp": row.ts, "provider": row.provider, "model": row.model,
        "accountId": row.account_id, "apiKeyId": row.api_key_id, "status": row.status,
        "promptTokens": row.tokens_in, "completionTokens": row.tokens_out, "cachedTokens": row.tokens_cached,
        "reasoningTokens": row.tokens_reasoning, "latencyMs": row.latency_ms, "ttftMs": row.ttft_ms,
        "cost": _finite(row.cost), "path": row.path, "error": row.error,
    }


def _finite(value: Any) -> Any:
    """Rows written before costs were bounded may hold an infinite one: it reads as unknown, never as an
    answer JSON cannot carry."""
    return value if not isinstance(value, float) or math.isfinite(value) else None
