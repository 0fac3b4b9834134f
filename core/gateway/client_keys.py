"""Client API keys: the keys IDE tools present to the gateway. Stored as SHA-256 hashes; the plaintext is
shown once at creation. Verification is a set lookup in memory, so it costs nothing on the request path."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from peewee import fn

from core.gateway.key_limits import KeyLimits, parse_limits
from core.settings import ConfigError
from core.store.models import ApiKey, UsageDay

KEY_PREFIX = "qg-"


@dataclass(frozen=True)
class CreatedKey:
    id: int
    name: str
    key: str  # plaintext: returned once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(name: str, limits: KeyLimits | None = None) -> CreatedKey:
    name = name.strip() or "unnamed"
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey.create(name=name, key_prefix=key[:8], key_hash=hash_key(key), created_at=time.time(),
                        limits=json.dumps((limits or KeyLimits()).public()))
    return CreatedKey(row.id, name, key)


def update_key(key_id: int, name: str | None = None, limits: KeyLimits | None = None) -> bool:
    changes: dict[Any, Any] = {}
    if name is not None:
        changes[ApiKey.name] = name.strip() or "unnamed"
    if limits is not None:
        changes[ApiKey.limits] = json.dumps(limits.public())
    if not changes:
        return ApiKey.get_or_none(ApiKey.id == key_id) is not None
    return ApiKey.update(changes).where(ApiKey.id == key_id).execute() > 0


def key_limits() -> dict[int, KeyLimits]:
    """Limits of every active key that has any (a row unreadable here counts as no limits)."""
    found = {}
    for row in ApiKey.select().where(ApiKey.revoked_at.is_null()):
        limits = _stored_limits(row.limits)
        if not limits.empty:
            found[row.id] = limits
    return found


def spent_since(day_start: float, month_start: float) -> list[tuple[int, float, float]]:
    """(key id, USD spent since `day_start`, since `month_start`) from the daily usage rollups."""
    spent: dict[int, list[float]] = {}
    rows = (UsageDay.select(UsageDay.api_key_id, UsageDay.bucket_start, fn.SUM(UsageDay.cost).alias("usd"))
            .where((UsageDay.bucket_start >= min(day_start, month_start)) & (UsageDay.api_key_id != 0))
            .group_by(UsageDay.api_key_id, UsageDay.bucket_start))
    for row in rows:
        totals = spent.setdefault(row.api_key_id, [0.0, 0.0])
        usd = row.usd or 0.0
        if row.bucket_start >= day_start:
            totals[0] += usd
        if row.bucket_start >= month_start:
            totals[1] += usd
    return [(key_id, day, month) for key_id, (day, month) in spent.items()]


def _stored_limits(value: str | None) -> KeyLimits:
    try:
        return parse_limits(json.loads(value or "{}"))
    except (ValueError, ConfigError):
        return KeyLimits()


def revoke_key(key_id: int) -> bool:
    updated = (ApiKey.update(revoked_at=time.time())
               .where((ApiKey.id == key_id) & (ApiKey.revoked_at.is_null())).execute())
    return updated > 0


def list_keys() -> list[dict]:
    """Every key, masked: the prefix identifies it, nothing more."""
    return [
        {
            "id": row.id,
            "name": row.name,
            "key": f"{row.key_prefix}…",
            "createdAt": row.created_at,
            "lastUsedAt": row.last_used_at,
            "revoked": row.revoked_at is not None,
            "limits": _stored_limits(row.limits).public(),
        }
        for row in ApiKey.select().order_by(ApiKey.id)
    ]


def active_key_hashes() -> dict[str, int]:
    """hash -> key id for every key not revoked (the gateway's in-memory check)."""
    return {row.key_hash: row.id for row in ApiKey.select().where(ApiKey.revoked_at.is_null())}


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key a client sent, from `Authorization: Bearer …` or `x-api-key` (Anthropic style)."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None
