"""Answers kept for a moment: an exact cache for deterministic requests, and idempotent retries.

- Exact cache: a non-streamed request with `temperature` 0 and the same body in the same dialect gets the
  stored answer (`X-Quotagate-Cache: HIT`) instead of a second provider call; `X-Quotagate-No-Cache: true`
  bypasses it. Bounded by entries, bytes and age; only successful answers are kept.
- Idempotency: a retry carrying the same `Idempotency-Key` (or `X-Request-Id`) within a few seconds gets the
  first answer (`X-Quotagate-Idempotent: true`); a retry arriving while the first is still running waits for it.

In memory and per process; both are keyed by a hash of the client key id, the dialect and the body, so one
client never sees another's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

CACHE_ENTRIES = 500
CACHE_BYTES = 64 * 1024 * 1024
CACHE_TTL_S = 3600.0
IDEMPOTENCY_WINDOW_S = 5.0
_KEPT_HEADERS = ("content-type", "x-quotagate-provider", "x-quotagate-model", "x-quotagate-account")


@dataclass(frozen=True)
class _Stored:
    status: int
    body: bytes
    headers: dict[str, str]
    at: float

    def response(self, marker: tuple[str, str]) -> Response:
        return Response(self.body, status_code=self.status, headers={**self.headers, marker[0]: marker[1]})


def request_key(client_key: int | None, dialect: str, model: str, payload: dict[str, Any]) -> str:
    """The same request from the same client in the same dialect, whatever the key order of its body."""
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return f"{client_key}:{dialect}:{model}:{hashlib.sha256(body).hexdigest()}"


class AnswerCache:
    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._answers: OrderedDict[str, _Stored] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._recent: dict[str, _Stored] = {}  # idempotency key -> answer
        self._running: dict[str, asyncio.Future[Response]] = {}

    # -- the exact cache --------------------------------------------------------------------------------
    async def cached(self, key: str, produce: Callable[[], Awaitable[Response]]) -> Response:
        stored = self._answers.get(key)
        if stored is not None and self._now() - stored.at < CACHE_TTL_S:
            self._answers.move_to_end(key)
            self._hits += 1
            return stored.response(("x-quotagate-cache", "HIT"))
        self._misses += 1
        response = await produce()
        kept = self._keep(response)
        if kept is not None and len(kept.body) <= CACHE_BYTES // 8:
            self._store(key, kept)
        response.headers["x-quotagate-cache"] = "MISS"
        return response

    def _store(self, key: str, stored: _Stored) -> None:
        previous = self._answers.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous.body)
        self._answers[key] = stored
        self._bytes += len(stored.body)
        while len(self._answers) > CACHE_ENTRIES or self._bytes > CACHE_BYTES:
            _, evicted = self._answers.popitem(last=False)
            self._bytes -= len(evicted.body)

    # -- idempotent retries -----------------------------------------------------------------------------
    async def once(self, key: str, produce: Callable[[], Awaitable[Response]]) -> Response:
        self._forget_old()
        stored = self._recent.get(key)
        if stored is not None:
            return stored.response(("x-quotagate-idempotent", "true"))
        running = self._running.get(key)
        if running is not None:
            first = await asyncio.shield(running)
            kept = self._keep(first)
            return kept.response(("x-quotagate-idempotent", "true")) if kept is not None else first
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            response = await produce()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: a retry that never came must not log "never retrieved"
            raise
        finally:
            self._running.pop(key, None)
        kept = self._keep(response)
        if kept is not None:
            self._recent[key] = kept
        if not future.done():
            future.set_result(response)
        return response

    def _forget_old(self) -> None:
        now = self._now()
        for key in [k for k, v in self._recent.items() if now - v.at >= IDEMPOTENCY_WINDOW_S]:
            del self._recent[key]

    # -- shared -----------------------------------------------------------------------------------------
    def _keep(self, response: Response) -> _Stored | None:
        """Only whole, successful answers are reused (a stream or an error goes to the provider again)."""
        body = getattr(response, "body", None)
        if response.status_code != 200 or not isinstance(body, bytes):
            return None
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        return _Stored(response.status_code, body, headers, self._now())

    def clear(self) -> None:
        self._answers.clear()
        self._bytes = 0
        self._recent.clear()

    def stats(self) -> dict[str, Any]:
        """`GET /api/cache`, in the reference gateway's shape."""
        self._forget_old()
        asked = self._hits + self._misses
        return {"semanticCache": {"memorySize": len(self._answers), "memoryMaxSize": CACHE_ENTRIES,
                                  "bytes": self._bytes, "hits": self._hits, "misses": self._misses,
                                  "hitRate": round(self._hits / asked, 4) if asked else 0.0},
                "idempotency": {"activeKeys": len(self._recent) + len(self._running),
                                "windowMs": int(IDEMPOTENCY_WINDOW_S * 1000)}}
