"""How a combo orders its targets for one request: small functions over a list of candidates.

A strategy only orders; the relay carries the order out, falling back along it. Strategies read what the
gateway has seen (`RoutingStats`: requests, recent latency and errors, the last target that answered),
which the relay feeds after each attempt. The state is in memory and per process, behind this one class, so
that it could later live in a shared store.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.providers import catalog

_EWMA = 0.2  # weight of the newest sample in the moving averages
_UNKNOWN_LATENCY_MS = 1_000.0  # what an untried target is assumed to take: tried soon, not first


class Attempt(Protocol):
    provider: str
    model: str
    account_id: int | None


def attempt_key(attempt: Attempt) -> str:
    """One (account, model) pair: what is measured, and what a cooldown will later apply to."""
    return f"{attempt.provider}/{attempt.model}#{attempt.account_id}"


@dataclass
class Candidate:
    """A combo target for one request: its listed position, weight and the attempts it expands to."""

    position: int
    weight: float
    attempts: tuple[Attempt, ...]
    price: float | None = None  # USD per 1M input + output tokens of its first attempt, None if unknown
    headroom: float | None = None  # % left in its tightest quota window (subscriptions, coding plans)
    resets_in: float | None = None  # seconds until that window resets


@dataclass
class _Seen:
    requests: int = 0
    latency_ms: float = _UNKNOWN_LATENCY_MS
    error_rate: float = 0.0


class RoutingStats:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._seen: dict[str, _Seen] = {}
        self._turns: dict[str, int] = {}
        self._last_good: dict[str, str] = {}
        self._now = now

    def record(self, attempt: Attempt, ok: bool, latency_ms: float, combo: str | None = None) -> None:
        """One finished attempt; `combo` names the combo it was made for (for last-known-good)."""
        key = attempt_key(attempt)
        seen = self._seen.setdefault(key, _Seen())
        first = seen.requests == 0
        seen.requests += 1
        if ok:
            seen.latency_ms = latency_ms if first else (1 - _EWMA) * seen.latency_ms + _EWMA * latency_ms
            if combo is not None:
                self._last_good[combo] = key
        seen.error_rate = (1 - _EWMA) * seen.error_rate + _EWMA * (0.0 if ok else 1.0)

    def turn(self, combo: str) -> int:
        """How many plans `combo` has had before this one (round-robin's counter)."""
        value = self._turns.get(combo, 0)
        self._turns[combo] = value + 1
        return value

    def requests(self, candidate: Candidate) -> int:
        return sum(self.requests_of(attempt) for attempt in candidate.attempts)

    def requests_of(self, attempt: Attempt) -> int:
        seen = self._seen.get(attempt_key(attempt))
        return seen.requests if seen is not None else 0

    def score(self, candidate: Candidate) -> float:
        """Lower is better: the recent latency of its best attempt, inflated by its recent errors."""
        best = _UNKNOWN_LATENCY_MS
        for attempt in candidate.attempts:
            seen = self._seen.get(attempt_key(attempt))
            if seen is not None:
                best = min(best, seen.latency_ms * (1 + 10 * seen.error_rate))
        return best

    def last_good(self, combo: str) -> str | None:
        return self._last_good.get(combo)


Order = Callable[[str, list[Candidate], RoutingStats, random.Random], list[Candidate]]


def _priority(combo: str, candidates: list[Candidate], stats: RoutingStats, rng: random.Random) -> list[Candidate]:
    return list(candidates)


def _round_robin(combo: str, candidates: list[Candidate], stats: RoutingStats,
                 rng: random.Random) -> list[Candidate]:
    start = stats.turn(combo) % len(candidates)
    return candidates[start:] + candidates[:start]


def _weighted(combo: str, candidates: list[Candidate], stats: RoutingStats, rng: random.Random) -> list[Candidate]:
    # Weighted order without replacement (Efraimidis–Spirakis): the first place goes to each target in
    # proportion to its weight, and the rest stay as fallbacks in the same spirit.
    return sorted(candidates, key=lambda c: rng.random() ** (1.0 / c.weight), reverse=True)


def _random(combo: str, candidates: list[Candidate], stats: RoutingStats, rng: random.Random) -> list[Candidate]:
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    return shuffled


def _least_used(combo: str, candidates: list[Candidate], stats: RoutingStats,
                rng: random.Random) -> list[Candidate]:
    return sorted(candidates, key=stats.requests)  # stable: ties keep the listed order


def _cost_optimized(combo: str, candidates: list[Candidate], stats: RoutingStats,
                    rng: random.Random) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (c.price is None, c.price or 0.0))  # unknown prices last


def _p2c(combo: str, candidates: list[Candidate], stats: RoutingStats, rng: random.Random) -> list[Candidate]:
    """Power of two choices: of two targets drawn at random the one with the better recent record goes
    first; the rest follow in the listed order."""
    if len(candidates) < 2:
        return list(candidates)
    first, second = rng.sample(candidates, 2)
    chosen = min((first, second), key=lambda c: (stats.score(c), c.position))
    return [chosen] + [c for c in candidates if c is not chosen]


def _last_known_good(combo: str, candidates: list[Candidate], stats: RoutingStats,
                     rng: random.Random) -> list[Candidate]:
    good = stats.last_good(combo)
    winner = next((c for c in candidates if any(attempt_key(a) == good for a in c.attempts)), None)
    return list(candidates) if winner is None else [winner] + [c for c in candidates if c is not winner]


def _headroom(combo: str, candidates: list[Candidate], stats: RoutingStats, rng: random.Random) -> list[Candidate]:
    """Most quota left first; targets whose quota is unknown (pay-per-token keys) after them."""
    return sorted(candidates, key=lambda c: (c.headroom is None, -(c.headroom or 0.0)))


RESET_AWARE_MIN_LEFT = 5.0  # % a window needs left to be spent first: no point racing a window to empty


def _reset_aware(combo: str, candidates: list[Candidate], stats: RoutingStats,
                 rng: random.Random) -> list[Candidate]:
    """Spend first what is about to be renewed anyway: the window that resets soonest, while it still has
    quota; then the rest by the listed order."""
    def key(c: Candidate) -> tuple[int, float]:
        if c.headroom is not None and c.resets_in is not None and c.headroom >= RESET_AWARE_MIN_LEFT:
            return (0, c.resets_in)
        return (1, float(c.position))
    return sorted(candidates, key=key)


ORDERS: dict[str, Order] = {
    "priority": _priority, "round-robin": _round_robin, "weighted": _weighted, "random": _random,
    "least-used": _least_used, "cost-optimized": _cost_optimized, "p2c": _p2c, "lkgp": _last_known_good,
    "headroom": _headroom, "reset-aware": _reset_aware,
}


def order(strategy: str, combo: str, candidates: Sequence[Candidate], stats: RoutingStats,
          rng: random.Random) -> list[Candidate]:
    return ORDERS[strategy](combo, list(candidates), stats, rng) if candidates else []


class QuotaAttempt(Attempt, Protocol):
    quota_key: str | None


Headroom = Callable[[str | None], "tuple[float, float | None] | None"]  # quota key -> (% left, s to reset)


def order_accounts(selection: str, attempts: tuple[QuotaAttempt, ...], stats: RoutingStats,
                   quota: Headroom) -> tuple[QuotaAttempt, ...]:
    """The accounts of one provider behind one target, in the order `selection` (settings.ACCOUNT_SELECTIONS)
    gives them; fill-first keeps the listed (priority) order."""
    if len(attempts) < 2 or selection == "fill-first":
        return attempts
    if selection == "round-robin":
        first = attempts[0]
        start = stats.turn(f"accounts:{first.provider}/{first.model}") % len(attempts)
        return attempts[start:] + attempts[:start]
    if selection == "least-used":
        return tuple(sorted(attempts, key=stats.requests_of))  # stable: ties keep the priority order
    if selection == "headroom":
        def left(attempt: QuotaAttempt) -> tuple[bool, float]:
            known = quota(attempt.quota_key)
            return (known is None, -known[0] if known else 0.0)
        return tuple(sorted(attempts, key=left))
    raise ValueError(f"unknown account selection {selection!r}")


def price_of(provider: str, model: str, overrides: dict | None = None) -> float | None:
    """Input + output USD per 1M tokens from the price table, None when either is unknown."""
    try:
        price = catalog.price_for(provider, model, overrides or {})
    except ValueError:
        return None
    if price is None or price.input is None or price.output is None:
        return None
    return price.input + price.output
