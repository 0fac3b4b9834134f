"""OpenCode's `auth.json`: one file holding the sign-ins of several providers, each under its own key."""

from __future__ import annotations

from typing import Any

from core.i18n import tr
from core.quota.accounts import OPENCODE, Discovery
from core.quota.locations import Locations
from core.quota.providers.base import QuotaProvider


def opencode_entry(provider: QuotaProvider[Any], found: Discovery[Any], locations: Locations,
                   key: str) -> dict[str, Any] | None:
    """The `key` entry of OpenCode's auth.json; None when the file or the entry is absent (not configured).
    A broken file or a non-object entry is recorded as a problem of `provider`."""
    path = locations.opencode_auth
    auth = provider.read_file(found, locations, path, OPENCODE)
    if auth is None or auth.get(key) is None:
        return None
    entry = auth[key]
    if not isinstance(entry, dict):
        provider.unusable_entry(found, locations, path, OPENCODE, key, tr("expected an object"))
        return None
    return entry
