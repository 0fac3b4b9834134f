"""The compliance audit log: every configuration change — when, from where (window, API, CLI), what changed.

`core.configuration` writes one entry per change, inside the change's own transaction, so a refused change
leaves no entry and an accepted one always has one. Secrets never reach the table: values under secret-looking
names are masked (first and last 4 characters), proxy URLs lose their credentials, and free text is passed
through the same redaction as the log file. Entries are kept for a year, and at most the newest 10,000.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.logs import redact
from core.secrets import mask, mask_url_credentials
from core.store.models import AuditEntry

SOURCES = ("window", "api", "cli")
MAX_AGE_DAYS = 365
MAX_ENTRIES = 10_000
MAX_LIMIT = 1000
_SECRET_WORDS = ("key", "password", "secret", "token", "authorization", "credential")
_HEADERS = ("headers",)  # header values may carry anything: all masked

_source: contextvars.ContextVar[str | None] = contextvars.ContextVar("quotagate_change_source", default=None)
_process_source = "cli"


def set_process_source(source: str) -> None:
    """Where changes come from when nothing more specific is known: the desktop says "window"."""
    global _process_source
    _process_source = _checked(source)


@contextmanager
def changes_from(source: str) -> Iterator[None]:
    """Changes made inside come from `source` (the management API wraps each request in "api")."""
    token = _source.set(_checked(source))
    try:
        yield
    finally:
        _source.reset(token)


def current_source() -> str:
    return _source.get() or _process_source


def record(action: str, details: dict[str, Any] | None = None, source: str | None = None,
           now: float | None = None) -> None:
    """Write one entry (blocking; called inside the change's transaction) and prune past the retention.
    `source`: read on the loop by the caller, since an executor thread does not see the task's context."""
    now = time.time() if now is None else now
    AuditEntry.create(ts=now, source=_checked(source) if source else current_source(), action=redact(action)[:500],
                      details=json.dumps(masked(details or {}), ensure_ascii=False, default=str)[:20_000])
    AuditEntry.delete().where(AuditEntry.ts < now - MAX_AGE_DAYS * 86400).execute()
    newest = AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id.desc()).offset(MAX_ENTRIES).limit(1).first()
    if newest is not None:
        AuditEntry.delete().where(AuditEntry.id <= newest.id).execute()


def recent(limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries first (blocking)."""
    rows = AuditEntry.select().order_by(AuditEntry.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    return [{"id": row.id, "timestamp": row.ts, "source": row.source, "action": row.action,
             "details": _loaded(row.details)} for row in rows]


def masked(value: Any, name: str = "") -> Any:
    """`value` with every secret in it masked, by the name it is stored under and by its shape."""
    lowered = name.lower().replace("_", "").replace("-", "")
    if isinstance(value, dict):
        if lowered in _HEADERS:
            return {key: mask(str(item)) for key, item in value.items()}
        return {key: masked(item, str(key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(item, name) for item in value]
    if isinstance(value, str):
        if any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(("id", "ids")):
            return mask(value)
        return redact(mask_url_credentials(value))
    return value


def _checked(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"an audit source is one of {', '.join(SOURCES)}, not {source!r}")
    return source


def _loaded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return {}
