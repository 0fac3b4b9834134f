"""Limits per client key: which models it may use, requests per minute, and a daily and monthly USD budget.

Limits are data on the key (`api_key.limits`, checked by `parse_limits`); the gateway enforces them before
any provider is called: a model the key may not use is a 403, a rate or a budget spent is a 429 whose
message says which limit and when it resets, with `Retry-After`. Spend starts from the day's usage rollups
when the configuration is loaded and grows with every recorded request, so the check costs nothing on disk.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from core.gateway.errors import GatewayError
from core.settings import ConfigError

MAX_MODELS = 200
MAX_RPM = 1_000_000
MAX_USD = 1_000_000.0


@dataclass(frozen=True)
class KeyLimits:
    models: tuple[str, ...] = ()  # model names or patterns (`openai/*`); empty: every model
    rpm: int | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None

    @property
    def empty(self) -> bool:
        return not self.models and self.rpm is None and self.daily_usd is None and self.monthly_usd is None

    def public(self) -> dict[str, Any]:
        return {"models": list(self.models), "rpm": self.rpm, "dailyUsd": self.daily_usd,
                "monthlyUsd": self.monthly_usd}


def parse_limits(value: Any) -> KeyLimits:
    """`limits` as the API and the window send it; a `ConfigError` naming the bad field."""
    if value is None:
        return KeyLimits()
    if not isinstance(value, dict) or set(value) - {"models", "rpm", "dailyUsd", "monthlyUsd"}:
        raise ConfigError("`limits` must be an object with `models`, `rpm`, `dailyUsd` and/or `monthlyUsd`.")
    models = value.get("models") or []
    if (not isinstance(models, list) or len(models) > MAX_MODELS
            or not all(isinstance(m, str) and m.strip() and len(m) <= 400 for m in models)):
        raise ConfigError(f"`limits.models` must be a list of at most {MAX_MODELS} model names or patterns "
                          "such as \"coding\" or \"openai/*\".")
    rpm = value.get("rpm")
    if rpm is not None and (not isinstance(rpm, int) or isinstance(rpm, bool) or not 1 <= rpm <= MAX_RPM):
        raise ConfigError(f"`limits.rpm` must be a whole number of requests per minute, 1 to {MAX_RPM:,}.")
    return KeyLimits(tuple(m.strip() for m in models), rpm, _usd(value.get("dailyUsd"), "dailyUsd"),
                     _usd(value.get("monthlyUsd"), "monthlyUsd"))


def _usd(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_USD \
            or not math.isfinite(value):
        raise ConfigError(f"`limits.{field}` must be a positive amount in USD (at most {MAX_USD:,.0f}).")
    return float(value)


def day_start(ts: float) -> float:
    t = time.localtime(ts)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


def month_start(ts: float) -> float:
    t = time.localtime(ts)
    return time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, -1))


def next_month_start(ts: float) -> float:
    t = time.localtime(ts)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return time.mktime((year, month, 1, 0, 0, 0, 0, 0, -1))


class MinuteWindow:
    """The requests admitted in the last minute, for a requests-per-minute limit (a key's, or the gateway's)."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def admit(self, now: float, limit: int) -> float | None:
        """Count a request at `now` when fewer than `limit` came in the last minute; else the seconds to wait."""
        times = self._times
        while times and times[0] <= now - 60:
            times.popleft()
        if len(times) >= limit:
            return times[0] + 60 - now
        times.append(now)
        return None

    def count(self, now: float) -> int:
        return sum(1 for t in self._times if t > now - 60)


class KeyLimiter:
    """The running check: limits per key id, the requests of the last minute, and what each key spent."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._limits: dict[int, KeyLimits] = {}
        self._recent: dict[int, MinuteWindow] = {}
        self._spent_day: dict[int, float] = {}
        self._spent_month: dict[int, float] = {}
        self._day = day_start(now())
        self._month = month_start(now())

    def use(self, limits: dict[int, KeyLimits], spent: Iterable[tuple[int, float, float]] = ()) -> None:
        """New limits (after a configuration change) and, read off the loop, each key's spend so far
        today and this month: (key id, day USD, month USD)."""
        self._limits = {key: value for key, value in limits.items() if not value.empty}
        self._roll()
        for key_id, day, month in spent:
            self._spent_day[key_id] = day
            self._spent_month[key_id] = month

    def spend(self, key_id: int | None, usd: float) -> None:
        """A recorded request's cost (called by the usage recorder)."""
        if key_id is None or not usd or not math.isfinite(usd):
            return
        self._roll()
        self._spent_day[key_id] = self._spent_day.get(key_id, 0.0) + usd
        self._spent_month[key_id] = self._spent_month.get(key_id, 0.0) + usd

    def check(self, key_id: int | None, model: str) -> None:
        """Before a request: a `GatewayError` when the key may not make it now."""
        limits = self._limits.get(key_id) if key_id is not None else None
        if limits is None:
            return
        if limits.models and not any(fnmatch.fnmatchcase(model, pattern) for pattern in limits.models):
            raise GatewayError(403, f"This API key may use only {', '.join(limits.models)}; '{model}' is not "
                                    f"among them. Change the key's limits in Quotagate's API keys window.",
                               "model_not_allowed")
        now = self._now()
        self._roll()
        for spent, cap, resets, period in (
                (self._spent_day.get(key_id, 0.0), limits.daily_usd, day_start(now) + 86400, "daily"),
                (self._spent_month.get(key_id, 0.0), limits.monthly_usd, next_month_start(now), "monthly")):
            if cap is not None and spent >= cap:
                when = dt.datetime.fromtimestamp(resets).strftime("%Y-%m-%d %H:%M")
                raise GatewayError(429, f"This API key's {period} budget of ${cap:,.2f} is spent (${spent:,.2f}); "
                                        f"it resets at {when}.", "budget_exceeded",
                                   {"retry-after": str(max(1, math.ceil(resets - now)))})
        if limits.rpm is not None:
            waiting = self._recent.setdefault(key_id, MinuteWindow()).admit(now, limits.rpm)
            if waiting is not None:
                wait = max(1, math.ceil(waiting))
                raise GatewayError(429, f"This API key may send {limits.rpm} requests per minute; try again in "
                                        f"{wait} s.", "rate_limit_exceeded", {"retry-after": str(wait)})

    def spent(self, key_id: int) -> tuple[float, float]:
        """What the key spent today and this month, USD (for the budget status)."""
        self._roll()
        return self._spent_day.get(key_id, 0.0), self._spent_month.get(key_id, 0.0)

    def resets(self) -> tuple[float, float]:
        """When the daily and the monthly budgets start again (Unix seconds, local midnight)."""
        now = self._now()
        return day_start(now) + 86400, next_month_start(now)

    def _roll(self) -> None:
        """A new day or month starts its budget from zero."""
        now = self._now()
        if day_start(now) != self._day:
            self._day, self._spent_day = day_start(now), {}
        if month_start(now) != self._month:
            self._month, self._spent_month = month_start(now), {}
