"""Short-lived access tokens obtained by refresh or exchange, kept in memory until they expire.

Refreshing on every five-minute poll would hammer token endpoints and can get a refresh token revoked;
one lock per key makes concurrent refreshes of the same account share a single request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.quota.model import secret_fingerprint

Fetcher = Callable[[], Awaitable[tuple[str, datetime | None]]]


@dataclass(frozen=True)
class _Cached:
    value: str
    expires_at: datetime | None


class TokenCache:
    def __init__(self, margin: timedelta = timedelta(seconds=60)) -> None:
        self._margin = margin
        self._tokens: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def key(kind: str, secret: str) -> str:
        """Cache key for a token derived from `secret`, without keeping the secret as a key."""
        return f"{kind}:{secret_fingerprint(secret)}"

    def get(self, key: str, now: datetime) -> str | None:
        cached = self._tokens.get(key)
        if cached is None:
            return None
        if cached.expires_at is not None and cached.expires_at - self._margin <= now:
            del self._tokens[key]
            return None
        return cached.value

    def put(self, key: str, value: str, expires_at: datetime | None) -> None:
        self._tokens[key] = _Cached(value, expires_at)

    def drop(self, key: str) -> None:
        self._tokens.pop(key, None)

    async def get_or_fetch(self, key: str, now: datetime, fetch: Fetcher) -> str:
        """The cached token for `key`, or a new one from `fetch()` (cached until its expiry)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self.get(key, now)
            if cached is not None:
                return cached
            value, expires_at = await fetch()
            self.put(key, value, expires_at)
            return value
