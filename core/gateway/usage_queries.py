"""Reading recorded usage back: time series, totals per provider/model, and the searchable request log.

Shared by the management API and the dashboard window so both show the same numbers. These read the
store, so callers on the event loop run them in an executor.
"""

from __future__ import annotations

import math
import time
from typing import Any

from peewee import fn

from core.store.models import UsageRow

BUCKETS = {"hour": 3600, "day": 86400}
_MAX_PAGE = 500


def history(since: float | None = None, until: float | None = None, bucket: str = "hour") -> dict[str, Any]:
    """Requests, tokens and cost per time bucket, plus totals per provider and per model."""
    until = until or time.time()
    since = since or until - 7 * 86400
    width = BUCKETS.get(bucket)
    if width is None:
        raise ValueError(f"bucket must be one of {', '.join(BUCKETS)}")
    window = (UsageRow.ts >= since) & (UsageRow.ts < until)
    start = ((UsageRow.ts - since) / width).cast("INTEGER")
    series = (UsageRow.select(start.alias("slot"), *_totals()).where(window).group_by(start).order_by(start))
    return {
        "since": since, "until": until, "bucket": bucket,
        "series": [{"start": since + row.slot * width, **_row_totals(row)} for row in series],
        "byProvider": [{"provider": row.provider, **_row_totals(row)} for row in
                       UsageRow.select(UsageRow.provider, *_totals()).where(window)
                       .group_by(UsageRow.provider).order_by(fn.COUNT(UsageRow.id).desc())],
        "byModel": [{"provider": row.provider, "model": row.model, **_row_totals(row)} for row in
                    UsageRow.select(UsageRow.provider, UsageRow.model, *_totals()).where(window)
                    .group_by(UsageRow.provider, UsageRow.model).order_by(fn.COUNT(UsageRow.id).desc())],
        "totals": _row_totals(UsageRow.select(*_totals()).where(window).get()),
    }


def logs(provider: str | None = None, model: str | None = None, status: str | None = None,
         search: str | None = None, since: float | None = None, until: float | None = None,
         limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of requests, newest first. `status` is 'ok', 'error' or an exact code."""
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
    page = query.order_by(UsageRow.ts.desc(), UsageRow.id.desc()).limit(limit).offset(max(0, int(offset)))
    return {"total": total, "limit": limit, "offset": offset, "items": [_log_item(row) for row in page]}


def _totals() -> list[Any]:
    return [
        fn.COUNT(UsageRow.id).alias("requests"),
        # summed as REAL: integer sums overflow (an error in SQL) once a few rows hold absurd counts
        fn.COALESCE(fn.SUM(UsageRow.tokens_in.cast("REAL")), 0).alias("tokens_in"),
        fn.COALESCE(fn.SUM(UsageRow.tokens_out.cast("REAL")), 0).alias("tokens_out"),
        fn.COALESCE(fn.SUM(UsageRow.cost), 0).alias("cost"),
        fn.COALESCE(fn.SUM(fn.IIF(UsageRow.status >= 400, 1, 0)), 0).alias("errors"),
    ]


def _row_totals(row: Any) -> dict[str, Any]:
    return {"requests": row.requests, "promptTokens": int(row.tokens_in), "completionTokens": int(row.tokens_out),
            "cost": round(_finite(row.cost) or 0.0, 6), "errors": row.errors}


def _log_item(row: UsageRow) -> dict[str, Any]:
    return {
        "id": row.id, "timestamp": row.ts, "provider": row.provider, "model": row.model,
        "accountId": row.account_id, "apiKeyId": row.api_key_id, "status": row.status,
        "promptTokens": row.tokens_in, "completionTokens": row.tokens_out, "cachedTokens": row.tokens_cached,
        "reasoningTokens": row.tokens_reasoning, "latencyMs": row.latency_ms, "ttftMs": row.ttft_ms,
        "cost": _finite(row.cost),
    }


def _finite(value: Any) -> Any:
    """Rows written before costs were bounded may hold an infinite one: it reads as unknown, never as an
    answer JSON cannot carry."""
    return value if not isinstance(value, float) or math.isfinite(value) else None
