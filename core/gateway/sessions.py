"""What is in flight right now (`GET /api/sessions`) and what each upstream last said about its rate limits
(`GET /api/rate-limits`).

Cheap on purpose — the request path is benchmarked: the gateway door opens a `Session` per request (a dict
insert) and closes it when the answer, streamed or not, has gone (a dict delete); the door counts the bytes
sent. The routes and the relay fill in the key, model and target through a context variable (one lookup and
an attribute write). Upstream headers are kept by reference and parsed only when someone asks.
"""

from __future__ import annotations

import contextvars
import itertools
import time
from collections.abc import Mapping
from typing import Any, Protocol

MAX_ACCOUNTS_SEEN = 1000  # rate-limit headers kept for at most this many (provider, account) pairs


class Target(Protocol):
    provider: str
    model: str
    account_id: int | None
    account_name: str


class Session:
    __slots__ = ("id", "path", "started", "wall", "key_id", "model", "target", "bytes", "registry")

    def __init__(self, registry: "Sessions", session_id: int, path: str) -> None:
        self.registry = registry
        self.id = session_id
        self.path = path
        self.started = time.monotonic()
        self.wall = time.time()
        self.key_id: int | None = None
        self.model: str | None = None
        self.target: Target | None = None
        self.bytes = 0

    def public(self, now: float) -> dict[str, Any]:
        target = self.target
        return {"id": self.id, "path": self.path, "startedAt": self.wall, "ageSeconds": round(now - self.started, 3),
                "apiKeyId": self.key_id, "model": self.model,
                "target": None if target is None else {"provider": target.provider, "model": target.model,
                                                       "accountId": target.account_id,
                                                       "account": target.account_name},
                "bytes": self.bytes}


class Sessions:
    def __init__(self) -> None:
        self._open: dict[int, Session] = {}
        self._ids = itertools.count(1)
        self._limits_seen: dict[tuple[str, int | None], tuple[float, str, Mapping[str, str]]] = {}

    def open(self, path: str) -> Session:
        session = Session(self, next(self._ids), path)
        self._open[session.id] = session
        return session

    def close(self, session: Session) -> None:
        self._open.pop(session.id, None)

    def listed(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [session.public(now) for session in list(self._open.values())]

    def seen(self, target: Target, headers: Mapping[str, str]) -> None:
        key = (target.provider, target.account_id)
        if key not in self._limits_seen and len(self._limits_seen) >= MAX_ACCOUNTS_SEEN:
            self._limits_seen.pop(next(iter(self._limits_seen)))
        self._limits_seen[key] = (time.time(), target.account_name, headers)

    def rate_limits_seen(self) -> list[dict[str, Any]]:
        """Per account: the `x-ratelimit-*` figures of its last answer that carried any."""
        found = []
        for (provider, account_id), (at, name, headers) in list(self._limits_seen.items()):
            figures = {k.lower().removeprefix("x-ratelimit-"): v for k, v in headers.items()
                       if k.lower().startswith("x-ratelimit-")}
            if figures:
                found.append({"provider": provider, "accountId": account_id, "account": name, "seenAt": at,
                              "headers": figures})
        return found


_current: contextvars.ContextVar[Session | None] = contextvars.ContextVar("quotagate_session", default=None)


def entered(session: Session) -> contextvars.Token[Session | None]:
    return _current.set(session)


def left(token: contextvars.Token[Session | None]) -> None:
    _current.reset(token)


# --- hooks on the request path: each a context lookup and a write ---------------------------------------


def requested(key_id: int | None, model: str) -> None:
    session = _current.get()
    if session is not None:
        session.key_id, session.model = key_id, model


def attempting(target: Target) -> None:
    session = _current.get()
    if session is not None:
        session.target = target


def answered(target: Target, headers: Mapping[str, str]) -> None:
    """An upstream answered: keep its headers for the rate-limit view (only parsed when asked for)."""
    session = _current.get()
    if session is not None:
        session.registry.seen(target, headers)
