"""Backup fixtures: a running store filled with one of everything, and a dump to compare stores by."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from core.gateway import client_keys
from core.services import CoreServices
from core.store.models import Combo, UsageRow

PROVIDER_KEY = "sk-live-PROVIDERKEY-0123456789abcdef"
NODE_KEY = "node-secret-KEY-0123456789"


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (the migration ledger aside), for before/after comparisons."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                             "AND name NOT IN ('sqlite_sequence', 'schema_migrations')")]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def without_secrets(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Secrets are re-encrypted on every export/import, so compare everything but their ciphertext."""
    result = dict(rows)
    for table, secret_column in (("provider_account", 3), ("provider_node", 6)):
        result[table] = [row[:secret_column] + row[secret_column + 1:] for row in rows[table]]
    return result


async def fill(services: CoreServices) -> None:
    services.accounts.create_account("openai", "work", PROVIDER_KEY, priority=1, default_model="gpt-4.1")
    services.accounts.create_account("deepseek", "cheap", "sk-ds-0123456789abcdef")
    services.accounts.create_endpoint("mynode", "My node", "http://127.0.0.1:9/v1", headers={"X-Team": "blue"},
                                  api_key=NODE_KEY)
    services.accounts.set_alias("fast", "openai/gpt-4.1-mini")
    client_keys.create_key("ide")
    Combo.create(name="coding", strategy="fallback", targets='["openai/gpt-4.1", "ds/deepseek-chat"]',
                 created_at=time.time(), updated_at=time.time())
    services.store.set_setting("quota.thresholds", [50, 20])
    for i in range(50):
        UsageRow.create(ts=time.time() - i, provider="openai", model="gpt-4.1", status=200, tokens_in=i)
    await services.reload_gateway_config()


@pytest.fixture
async def services(data_dir: Path):
    running = CoreServices(data_dir, port=0)
    await running.start()
    await fill(running)
    yield running
    await running.stop()
