"""Client API keys: the keys IDE tools present to the gateway. Stored as SHA-256 hashes; the plaintext is
shown once at creation. Verification is a set lookup in memory, so it costs nothing on the request path."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from core.store.models import ApiKey

KEY_PREFIX = "qg-"


@dataclass(frozen=True)
class CreatedKey:
    id: int
    name: str
    key: str  # plaintext: returned once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(name: str) -> CreatedKey:
    name = name.strip() or "unnamed"
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey.create(name=name, key_prefix=key[:8], key_hash=hash_key(key), created_at=time.time())
    return CreatedKey(row.id, name, key)


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
