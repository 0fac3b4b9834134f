"""The store: one SQLite database in the data folder, its settings, and its off-loop writer."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from core import paths, settings
from core.secrets import SecretBox, SecretUnreadable, is_sealed, open_sealed, seal_text
from core.store import migrations, space
from core.store.database import discard_unfinished_restore, open_database, protect_files
from core.store.models import Setting
from core.store.retention import DEFAULT_MAX_AGE_DAYS, DEFAULT_MAX_ROWS, Retention
from core.store.writer import BatchWriter

log = logging.getLogger(__name__)

# Settings that can hold a password (a proxy's sign-in): kept sealed with the machine's key at rest.
SEALED_SETTINGS = frozenset({settings.KEY_PROXY})
RETENTION_SETTINGS = frozenset({settings.KEY_REQUEST_LOG_DAYS, settings.KEY_REQUEST_LOG_ROWS})


class Store:
    """The opened store. Reads and small writes are direct; high-volume rows go through `writer`."""

    def __init__(self, path: Path, db: SqliteDatabase) -> None:
        self.path = path
        self.db = db
        self.retention = Retention()
        self.writer = BatchWriter(db, maintenance=self._upkeep)
        self.box: SecretBox | None = None  # set by the running program; seals SEALED_SETTINGS
        self._reported: set[str] = set()

    @classmethod
    def open(cls, folder: Path) -> Store:
        path = paths.database_path(folder)
        discard_unfinished_restore(path)
        return cls(path, open_database(path))

    def use_secrets(self, box: SecretBox) -> None:
        self.box = box

    def get_setting(self, key: str, default: Any = None) -> Any:
        """The stored value, or `default` when there is none or it is one Quotagate cannot use (reported in
        the log once): whatever a store holds, reading it never stops the program."""
        row = Setting.get_or_none(Setting.key == key)
        if row is None:
            return default
        try:
            value = json.loads(row.value)
            if is_sealed(value):
                if self.box is None:
                    return default
                value = json.loads(open_sealed(self.box, value))
        except (ValueError, RecursionError, SecretUnreadable) as exc:
            self._report(key, "it cannot be read" if not isinstance(exc, SecretUnreadable)
                         else "it was encrypted with another machine's key")
            return default
        if value is None:
            return default
        if not settings.usable(key, value):
            self._report(key, "it is out of range or of the wrong type")
            return default
        return value

    def set_setting(self, key: str, value: Any) -> None:
        """Low level: no checks (`core.configuration` validates every change before it gets here)."""
        if key in SEALED_SETTINGS and value is not None and self.box is not None:
            value = seal_text(self.box, json.dumps(value))
        encoded = json.dumps(value, allow_nan=False)
        Setting.insert(key=key, value=encoded).on_conflict_replace().execute()
        self._reported.discard(key)
        protect_files(self.path)

    def unusable_settings(self) -> list[str]:
        """Keys whose stored value cannot be used (for a repair at start)."""
        found = []
        for row in Setting.select(Setting.key).where(Setting.key.in_(list(settings.RULES))):
            marker = object()
            if self.get_setting(row.key, marker) is marker:
                found.append(row.key)
        return found

    def _report(self, key: str, why: str) -> None:
        if key not in self._reported:
            self._reported.add(key)
            log.warning("Setting %s is not usable (%s); using its default instead", key, why)

    def settings_changed(self, keys: Any) -> None:
        """After a committed change: new request-log limits are applied now, not at the next upkeep."""
        if set(keys) & RETENTION_SETTINGS:
            self.writer.upkeep_soon()

    def retention_limits(self) -> tuple[float, int]:
        """The request log's limits: days kept, rows kept."""
        return (self.get_setting(settings.KEY_REQUEST_LOG_DAYS, DEFAULT_MAX_AGE_DAYS),
                int(self.get_setting(settings.KEY_REQUEST_LOG_ROWS, DEFAULT_MAX_ROWS)))

    def space(self) -> dict[str, Any]:
        """What the store takes on disk and which part takes what (blocking: call it off the loop)."""
        return space.report(self.db, self.path)

    def _upkeep(self, db: SqliteDatabase) -> int:
        """On the writer's thread: one pruning step at the current limits, then one slice of freed space
        given back. Non-zero while there is more to do."""
        self.retention.max_age_days, self.retention.max_rows = self.retention_limits()
        return self.retention.step(db) + space.reclaim(db)

    def health(self) -> dict[str, Any]:
        """State for `/api/monitoring/health`: reachable, schema version, size, journal mode."""
        try:
            version = migrations.current_version(self.db)
            journal = self.db.execute_sql("PRAGMA journal_mode").fetchone()[0]
            size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
            return {"status": "ok", "schema_version": version, "journal_mode": journal, "size_bytes": size}
        except Exception as exc:  # reported, not raised: health must answer even when the store is sick
            return {"status": "error", "error": str(exc)}

    def close(self) -> None:
        """Flush queued writes, fold the WAL back into the database, close."""
        self.writer.close()
        try:
            self.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # closing must go on; SQLite replays the WAL at the next open anyway
            log.warning("WAL checkpoint at close failed", exc_info=True)
        self.db.close()
