"""Numbered, forward-only schema migrations, recorded in the database they were applied to.

The DDL is written out here rather than generated from the models: a migration must keep meaning the same
thing after the models move on. `tests/unit/test_store_migrations.py` checks that the models and the
migrated schema agree, and that every earlier version upgrades to the same schema as a fresh database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from peewee import SqliteDatabase

from core.i18n import tr
from core.store import rollups


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer Quotagate; opening it could lose what that version stored."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    # Data work after the statements, in the same transaction (e.g. building rollups from existing rows)
    build: Callable[[SqliteDatabase], None] | None = None


def _rollup_table(name: str, per_model: bool = False) -> str:
    """One rollup table (hour or day): sums per bucket and key. Unknown keys are '' or 0, never NULL.
    `per_model`: the key is the bucket, provider and model only."""
    bins = ",".join(f"\n            latency_bin_{i} INTEGER NOT NULL DEFAULT 0" for i in range(12))
    keys = "" if per_model else """
            account_id INTEGER NOT NULL DEFAULT 0,
            api_key_id INTEGER NOT NULL DEFAULT 0,
            status INTEGER NOT NULL,"""
    return f"""CREATE TABLE {name} (
            id INTEGER PRIMARY KEY,
            bucket_start INTEGER NOT NULL,
            provider TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',{keys}
            requests INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            tokens_cached INTEGER NOT NULL DEFAULT 0,
            tokens_reasoning INTEGER NOT NULL DEFAULT 0,
            cost REAL NOT NULL DEFAULT 0,
            latency_count INTEGER NOT NULL DEFAULT 0,
            latency_ms_sum REAL NOT NULL DEFAULT 0,{bins}
        )"""


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", (
        """CREATE TABLE setting (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE provider_account (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            provider TEXT NOT NULL,
            name TEXT NOT NULL,
            secret BLOB,
            priority INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            default_model TEXT,
            options TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE provider_node (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            prefix TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            base_url TEXT NOT NULL,
            api_format TEXT NOT NULL,
            headers TEXT NOT NULL DEFAULT '{}',
            secret BLOB,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE combo (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            strategy TEXT NOT NULL DEFAULT 'fallback',
            targets TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE api_key (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            key_prefix TEXT NOT NULL,
            key_hash TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            last_used_at REAL,
            revoked_at REAL
        )""",
        """CREATE TABLE model_alias (
            alias TEXT PRIMARY KEY,
            target TEXT NOT NULL
        )""",
        """CREATE TABLE usage_row (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            api_key_id INTEGER REFERENCES api_key (id) ON DELETE SET NULL,
            provider TEXT,
            account_id INTEGER REFERENCES provider_account (id) ON DELETE SET NULL,
            model TEXT,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            tokens_cached INTEGER NOT NULL DEFAULT 0,
            tokens_reasoning INTEGER NOT NULL DEFAULT 0,
            latency_ms REAL,
            ttft_ms REAL,
            status INTEGER NOT NULL,
            cost REAL NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE call_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            method TEXT NOT NULL,
            path TEXT NOT NULL,
            status INTEGER NOT NULL,
            provider TEXT,
            model TEXT,
            duration_ms REAL,
            error TEXT
        )""",
        """CREATE TABLE quota_snapshot (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            provider TEXT NOT NULL,
            account TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
    )),
    Migration(2, "indexes for time-range queries", (
        "CREATE INDEX usage_row_ts ON usage_row (ts)",
        "CREATE INDEX usage_row_provider_ts ON usage_row (provider, ts)",
        "CREATE INDEX call_log_ts ON call_log (ts)",
        "CREATE INDEX quota_snapshot_account_ts ON quota_snapshot (provider, account, ts)",
    )),
    Migration(3, "hourly and daily usage rollups", (
        _rollup_table("usage_hour"),
        ("CREATE UNIQUE INDEX usage_hour_key ON usage_hour"
         " (bucket_start, provider, model, account_id, api_key_id, status)"),
        _rollup_table("usage_day"),
        ("CREATE UNIQUE INDEX usage_day_key ON usage_day"
         " (bucket_start, provider, model, account_id, api_key_id, status)"),
    ), build=rollups.rebuild_full_key),
    Migration(4, "one request log row per request", (
        # call_log said the same as usage_row; new requests write only usage_row (call_log keeps old rows)
        "ALTER TABLE usage_row ADD COLUMN path TEXT",
        "ALTER TABLE usage_row ADD COLUMN error TEXT",
    )),
    Migration(5, "limits per client key", (
        "ALTER TABLE api_key ADD COLUMN limits TEXT NOT NULL DEFAULT '{}'",
    )),
    Migration(6, "combo options: account selection and quota threshold", (
        "ALTER TABLE combo ADD COLUMN options TEXT NOT NULL DEFAULT '{}'",
    )),
    Migration(7, "attempts on the request row; the call log and the raw rows' provider index go", (
        # every attempt of a request (provider, model, account, outcome, ms) as JSON on its one row
        "ALTER TABLE usage_row ADD COLUMN attempts TEXT",
        # nothing reads call_log since version 4 (usage_row holds the same requests), and per-provider
        # views read the rollups: both only cost space and write time
        "DROP INDEX call_log_ts",
        "DROP TABLE call_log",
        "DROP INDEX usage_row_provider_ts",
        # the dashboard's level of detail: sums per bucket, provider and model (built from the full rollups)
        _rollup_table("usage_hour_model", per_model=True),
        "CREATE UNIQUE INDEX usage_hour_model_key ON usage_hour_model (bucket_start, provider, model)",
        _rollup_table("usage_day_model", per_model=True),
        "CREATE UNIQUE INDEX usage_day_model_key ON usage_day_model (bucket_start, provider, model)",
    ), build=rollups.build_per_model),
    Migration(8, "compliance audit log of configuration changes", (
        """CREATE TABLE audit_entry (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts REAL NOT NULL,
            source TEXT NOT NULL,
            action TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX audit_entry_ts ON audit_entry (ts)",
    )),
    Migration(9, "evaluation suites and their runs", (
        """CREATE TABLE eval_suite (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            cases TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE eval_run (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            suite TEXT NOT NULL,
            started_at REAL NOT NULL,
            finished_at REAL NOT NULL,
            results TEXT NOT NULL
        )""",
        "CREATE INDEX eval_run_started_at ON eval_run (started_at)",
    )),
)

LATEST_VERSION = MIGRATIONS[-1].version

_LEDGER_DDL = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL
)"""


def current_version(db: SqliteDatabase) -> int:
    """The highest migration applied to `db`; 0 for an empty database."""
    if not db.table_exists("schema_migrations"):
        return 0
    row = db.execute_sql("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: SqliteDatabase, target: int | None = None) -> list[int]:
    """Apply every pending migration up to `target` (default: all), each in its own transaction."""
    target = LATEST_VERSION if target is None else target
    version = current_version(db)
    if version > LATEST_VERSION:
        raise SchemaTooNewError(tr(
            "This database has schema version {version}, but this Quotagate only knows up to {latest}. Update "
            "Quotagate, or point QUOTAGATE_DATA_DIR at another folder.", version=version, latest=LATEST_VERSION))
    applied: list[int] = []
    db.execute_sql(_LEDGER_DDL)
    for migration in MIGRATIONS:
        if version < migration.version <= target:
            with db.atomic():
                for statement in migration.statements:
                    db.execute_sql(statement)
                if migration.build is not None:
                    migration.build(db)
                db.execute_sql(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
            applied.append(migration.version)
    return applied
