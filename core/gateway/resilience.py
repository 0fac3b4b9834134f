"""What the gateway remembers between requests about targets that failed, so it stops hitting them.

- A cooldown per (account, model) after a 429, a 5xx or a network failure: as long as the provider's
  `Retry-After` says, else exponential (5 s doubling to 5 min) while the failures repeat. The same key may
  still serve other models, so the account as a whole stays usable.
- A mark on the whole account after 401/402/403 (rejected key, no credit, forbidden), or when a
  subscription's sign-in cannot be renewed: skipped until the configuration changes (a new key, a new
  sign-in) or the marks are reset.
- A circuit breaker per provider on 5xx and timeouts: after 5 in a row it opens for 30 s (doubling while it
  keeps failing, up to 5 min); then one request is let through (half-open) and its outcome closes or reopens it.

All of it lives in memory behind this one class, so that it could later live in a store shared by several
gateway instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from core.i18n import Phrase, translatable

COOL_FIRST_S = 5.0
COOL_MAX_S = 300.0
BREAKER_THRESHOLD = 5
BREAKER_OPEN_S = 30.0
BREAKER_MAX_S = 300.0
RETRY_AFTER_MAX_S = 24 * 3600.0  # a provider's own hint is honoured, within reason
# Why an account or target is skipped: English in the API, `said` in the language in use by the windows.
_MARKS = {401: translatable("rejected the key (HTTP 401)"), 402: translatable("has no credit left (HTTP 402)"),
          403: translatable("refused access (HTTP 403)")}
# what relay.py marks a subscription whose sign-in cannot be renewed with (it passes the same text)
SIGN_IN_AGAIN = translatable("needs to be signed in again")
_BREAKER_STATUSES = frozenset({500, 502, 503, 504, 529})


class Target(Protocol):
    provider: str
    model: str
    account_id: int | None
    account_name: str


@dataclass
class _Cooldown:
    until: float
    failures: int
    reason: str
    rate_limited: bool


@dataclass
class _Breaker:
    failures: int = 0
    opened_until: float = 0.0
    open_for: float = BREAKER_OPEN_S
    probe_started: float | None = None  # a half-open probe in flight (a lost one expires after open_for)


@dataclass(frozen=True)
class Skipped:
    target: Target
    reason: str
    seconds: float | None  # until it is tried again; None: until the configuration changes
    rate_limited: bool


class Resilience:
    def __init__(self, now: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._now, self._wall = now, wall
        self._cooldowns: dict[tuple[str, int | None, str], _Cooldown] = {}
        self._marks: dict[tuple[str, int | None], tuple[str, str]] = {}  # -> (reason, account name)
        self._breakers: dict[str, _Breaker] = {}
        # Marks kept outside, which no reload or reset lifts (subscription sign-ins the user must renew):
        # (provider, account id) -> (reason, account name).
        self.standing: Callable[[], Mapping[tuple[str, int | None], tuple[str, str]]] = dict

    # -- before a request ------------------------------------------------------------------------------
    def usable(self, targets: Sequence[Target]) -> tuple[list[Target], list[Skipped]]:
        """The targets to try, in order, and those skipped with why and for how long."""
        now = self._now()
        kept: list[Target] = []
        skipped: list[Skipped] = []
        probing: set[str] = set()
        standing = self.standing()
        for target in targets:
            mark = self._marks.get((target.provider, target.account_id)) or standing.get((target.provider,
                                                                                           target.account_id))
            if mark is not None:
                why = Phrase(translatable("the account {reason}"), reason=Phrase.of(mark[0]))
                skipped.append(Skipped(target, why, None, False))
                continue
            cooldown = self._cooldowns.get(_key(target))
            if cooldown is not None and cooldown.until > now:
                skipped.append(Skipped(target, cooldown.reason, cooldown.until - now, cooldown.rate_limited))
                continue
            breaker = self._breakers.get(target.provider)
            if breaker is not None and breaker.opened_until:
                if breaker.opened_until > now:
                    skipped.append(Skipped(target, Phrase(translatable("{provider} is failing (circuit open)"),
                                                          provider=target.provider),
                                           breaker.opened_until - now, False))
                    continue
                in_flight = breaker.probe_started is not None and now - breaker.probe_started < breaker.open_for
                if in_flight or target.provider in probing:  # half-open: one request finds out
                    skipped.append(Skipped(target, Phrase(translatable("{provider} is being probed after failures"),
                                                          provider=target.provider), 1.0, False))
                    continue
                probing.add(target.provider)
            kept.append(target)
        for provider in probing:
            self._breakers[provider].probe_started = now
        return kept, skipped

    # -- after an attempt ------------------------------------------------------------------------------
    def succeeded(self, target: Target) -> None:
        self._cooldowns.pop(_key(target), None)
        breaker = self._breakers.get(target.provider)
        if breaker is not None:
            self._breakers[target.provider] = _Breaker()

    def failed(self, target: Target, status: int | None, retry_after: str | None = None) -> float | None:
        """Remember a failure that is the target's, not the request's (status None: network or timeout).
        Returns the seconds the (account, model) now cools down, None for an account mark."""
        if status in _MARKS:
            self._marks[(target.provider, target.account_id)] = (Phrase(_MARKS[status]), target.account_name)
            return None
        now = self._now()
        key = _key(target)
        previous = self._cooldowns.get(key)
        failures = (previous.failures if previous is not None else 0) + 1
        hinted = _retry_after_seconds(retry_after, self._wall())
        seconds = hinted if hinted is not None else min(COOL_FIRST_S * 2 ** (failures - 1), COOL_MAX_S)
        reason = (Phrase(translatable("rate-limited (HTTP 429)")) if status == 429 else
                  Phrase(translatable("failing (HTTP {status})"), status=status) if status is not None else
                  Phrase(translatable("unreachable or timing out")))
        self._cooldowns[key] = _Cooldown(now + seconds, failures, reason, status == 429)
        if status is None or status in _BREAKER_STATUSES:
            self._trip(target.provider, now)
        return seconds

    def mark(self, target: Target, reason: str) -> None:
        """Skip the whole account until the configuration changes, for a reason that is not an HTTP status
        (a subscription whose sign-in must be renewed by the user: signing in again reloads the gateway)."""
        self._marks[(target.provider, target.account_id)] = (Phrase.of(reason), target.account_name)

    def _trip(self, provider: str, now: float) -> None:
        breaker = self._breakers.setdefault(provider, _Breaker())
        breaker.failures += 1
        if breaker.probe_started is not None:  # the half-open probe failed: open again, for longer
            breaker.open_for = min(breaker.open_for * 2, BREAKER_MAX_S)
            breaker.opened_until, breaker.probe_started = now + breaker.open_for, None
        elif breaker.failures >= BREAKER_THRESHOLD and not breaker.opened_until:
            breaker.opened_until = now + breaker.open_for

    # -- managing --------------------------------------------------------------------------------------
    def forget_marks(self) -> None:
        """The configuration changed (a new key, credit added): marked accounts get another chance."""
        self._marks.clear()

    def reset(self) -> None:
        self._cooldowns.clear()
        self._marks.clear()
        self._breakers.clear()

    def state(self) -> dict[str, Any]:
        """What `GET /api/resilience` shows: live cooldowns, account marks and breakers."""
        now = self._now()
        cooldowns = [{"provider": provider, "accountId": account, "model": model, "reason": c.reason,
                      "failures": c.failures, "seconds": round(c.until - now, 1)}
                     for (provider, account, model), c in self._cooldowns.items() if c.until > now]
        marks = [{"provider": provider, "accountId": account, "account": name, "reason": reason}
                 for (provider, account), (reason, name) in {**self._marks, **self.standing()}.items()]
        breakers = [{"provider": provider, "failures": b.failures,
                     "state": "open" if b.opened_until > now else ("half-open" if b.opened_until else "closed"),
                     "seconds": round(max(0.0, b.opened_until - now), 1)}
                    for provider, b in self._breakers.items()]
        return {"cooldowns": cooldowns, "marks": marks, "breakers": breakers}


def _key(target: Target) -> tuple[str, int | None, str]:
    return (target.provider, target.account_id, target.model)


def _retry_after_seconds(value: str | None, wall_now: float) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - wall_now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def describe_wait(seconds: float | None) -> str:
    if seconds is None:
        return "until its configuration changes"
    if seconds < 90:
        return f"for {max(1, round(seconds))} s"
    return f"for {round(seconds / 60)} min"
