"""The store: one SQLite database in the data folder, its settings, and its off-loop writer."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from core import paths
from core.store import migrations
from core.store.database import discard_unfinished_restore, open_database, protect_files
from core.store.models import Setting
from core.store.writer import BatchWriter

log = logging.getLogger(__name__)


class Store:
    """The opened store. Reads and small writes are direct; high-volume rows go through `writer`."""

    def __init__(self, path: Path, db: SqliteDatabase) -> None:
        self.path = path
        self.db = db
        self.writer = BatchWriter(db)

    @classmethod
    def open(cls, folder: Path) -> "Store":
        path = paths.database_path(folder)
        discard_unfinished_restore(path)
        return cls(path, open_database(path))

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = Setting.get_or_none(Setting.key == key)
        if row is None:
            return default
        try:
            return json.loads(row.value)
        except ValueError:
            log.warning("Setting %r holds invalid JSON; using the default", key)
            return default

    def set_setting(self, key: str, value: Any) -> None:
        encoded = json.dumps(value)
        Setting.insert(key=key, value=encoded).on_conflict_replace().execute()
        protect_files(self.path)

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
