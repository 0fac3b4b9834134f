"""Usage and latency: recorded per request without touching disk on the request path.

Rows go to the store's batching writer; latencies also stay in a bounded in-memory window per provider
for `/api/telemetry/summary`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from core.gateway.dialects.common import Usage
from core.store.models import UsageRow
from core.store.writer import BatchWriter

_LATENCY_WINDOW = 2000


class UsageRecorder:
    def __init__(self, writer: BatchWriter | None, cost: Callable[[str, str, Usage], float]) -> None:
        self._writer = writer
        self._cost = cost
        self._latencies: dict[str, deque[float]] = {}
        self.spent: Callable[[int | None, float], None] | None = None  # each request's cost, per client key

    def use_writer(self, writer: BatchWriter) -> None:
        """After a restore, new rows go to the new store."""
        self._writer = writer

    def record(self, *, path: str, status: int, provider: str | None, model: str | None,
               account_id: int | None, api_key_id: int | None, tokens: Usage, latency_ms: float,
               ttft_ms: float | None = None, error: str | None = None) -> None:
        now = time.time()
        cost = self._cost(provider, model, tokens) if provider and model and status < 400 else 0.0
        if cost and self.spent is not None:
            self.spent(api_key_id, cost)
        if provider:
            self._latencies.setdefault(provider, deque(maxlen=_LATENCY_WINDOW)).append(latency_ms)
        if self._writer is None:
            return
        self._writer.submit(UsageRow, {
            "ts": now, "api_key": api_key_id, "provider": provider, "account": account_id, "model": model,
            "tokens_in": tokens.prompt, "tokens_out": tokens.completion, "tokens_cached": tokens.cached,
            "tokens_reasoning": tokens.reasoning, "latency_ms": round(latency_ms, 3),
            "ttft_ms": round(ttft_ms, 3) if ttft_ms is not None else None, "status": status, "cost": cost,
            "path": path, "error": error,
        })

    def telemetry_summary(self) -> dict[str, Any]:
        """p50/p95/p99 latency (ms) per provider over the recent window, as the reference API answers."""
        summary = {}
        for provider, window in self._latencies.items():
            ordered = sorted(window)
            if ordered:
                summary[provider] = {"p50": _percentile(ordered, 50), "p95": _percentile(ordered, 95),
                                     "p99": _percentile(ordered, 99), "count": len(ordered)}
        return {"providers": summary}


def _percentile(ordered: list[float], pct: float) -> float:
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 1)
