"""Usage: recorded per request without touching disk on the request path.

Each request is one row, sent to the store's batching writer (which also keeps the hourly and daily
rollups). The request's attempts (every provider tried, and why it was left) travel on that row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from core.gateway.dialects.common import Usage
from core.store.models import UsageRow
from core.store.writer import BatchWriter

# A request's attempts kept on its row: enough for any sane combo, bounded against a runaway one.
MAX_ATTEMPTS = 20
_MAX_TEXT = 300  # characters of one attempt's text field (an upstream's error message, say)


class UsageRecorder:
    def __init__(self, writer: BatchWriter | None, cost: Callable[[str, str, Usage], float]) -> None:
        self._writer = writer
        self._cost = cost
        self.spent: Callable[[int | None, float], None] | None = None  # each request's cost, per client key

    def use_writer(self, writer: BatchWriter) -> None:
        """After a restore, new rows go to the new store."""
        self._writer = writer

    def record(self, *, path: str, status: int, provider: str | None, model: str | None,
               account_id: int | None, api_key_id: int | None, tokens: Usage, latency_ms: float,
               ttft_ms: float | None = None, error: str | None = None,
               attempts: list[dict[str, Any]] | None = None) -> None:
        """`attempts`: each upstream attempt in order, as {provider, model, account, status or error/skip
        reason, ms}; stored with the request (JSON, encoded on the writer's thread)."""
        now = time.time()
        cost = self._cost(provider, model, tokens) if provider and model and status < 400 else 0.0
        if cost and self.spent is not None:
            self.spent(api_key_id, cost)
        if self._writer is None:
            return
        self._writer.submit(UsageRow, {
            "ts": now, "api_key": api_key_id, "provider": provider, "account": account_id, "model": model,
            "tokens_in": tokens.prompt, "tokens_out": tokens.completion, "tokens_cached": tokens.cached,
            "tokens_reasoning": tokens.reasoning, "latency_ms": round(latency_ms, 3),
            "ttft_ms": round(ttft_ms, 3) if ttft_ms is not None else None, "status": status, "cost": cost,
            "path": path, "error": error, "attempts": bounded_attempts(attempts),
        })


def bounded_attempts(attempts: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """At most MAX_ATTEMPTS attempts, texts cut to a readable length; None when there were none."""
    if not attempts:
        return None
    return [{key: value[:_MAX_TEXT] if isinstance(value, str) else value for key, value in attempt.items()}
            for attempt in attempts[:MAX_ATTEMPTS] if isinstance(attempt, dict)] or None
