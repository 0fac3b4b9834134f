"""Opening the SQLite store: WAL, foreign keys, owner-only files, schema brought up to date."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from peewee import SqliteDatabase

from core import paths
from core.store import migrations
from core.store.models import database_proxy

log = logging.getLogger(__name__)

PRAGMAS = {
    # before anything creates a table: a new store hands freed pages back (core.store.space.reclaim);
    # on an existing store this only takes effect at its next VACUUM
    "auto_vacuum": "incremental",
    "journal_mode": "wal",
    "journal_size_limit": 64 * 2**20,  # the WAL file is cut back to this after a checkpoint, not kept at its peak
    "foreign_keys": 1,
    "synchronous": "normal",  # safe under WAL; a crash loses at most the last commits, never consistency
    "busy_timeout": 5000,
}


def connect(path: Path) -> SqliteDatabase:
    """A peewee database for `path` with Quotagate's pragmas (no migration)."""
    paths.ensure_private_dir(path.parent)
    # Create the file ourselves first so it is owner-only from its first byte.
    if not path.exists():
        path.touch(mode=paths.PRIVATE_FILE_MODE)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS)
    db.connect(reuse_if_open=True)
    protect_files(path)
    return db


def open_database(path: Path) -> SqliteDatabase:
    """Connect, migrate to the latest schema, and bind the models to it."""
    db = connect(path)
    try:
        applied = migrations.migrate(db)
    except Exception:
        db.close()
        raise
    if applied:
        log.info("Store %s migrated to schema %s", path, applied[-1])
    database_proxy.initialize(db)
    protect_files(path)
    return db


def protect_files(path: Path) -> None:
    """The database and its WAL side files are owner-only."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        paths.make_private(candidate)


def replace_database_file(incoming: Path, path: Path) -> None:
    """Put `incoming` in place of the (closed) database at `path` in one atomic rename. The old WAL side
    files go first: SQLite would otherwise replay them onto the new file."""
    for side in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    os.replace(incoming, path)
    protect_files(path)


def discard_unfinished_restore(path: Path) -> None:
    """A restore killed before its final rename leaves `<store>.incoming`; the store itself is intact."""
    path.with_name(path.name + ".incoming").unlink(missing_ok=True)
