"""The store's disk space: what each part takes, and giving freed space back to the file system.

Deleting rows (retention) only marks their pages free inside the file. With SQLite's incremental
auto-vacuum those pages can be handed back a slice at a time (`reclaim`), each slice a short write, so the
file shrinks to what it holds without one long `VACUUM` that would lock writers out. New stores are created
in that mode (see `core.store.database`); a store made before it is switched once, by a `VACUUM`, the first
time pruning has freed enough to be worth it.

This module is SQLite's side of space; a PostgreSQL store would report `pg_total_relation_size` and leave
reclaiming to autovacuum.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from core.store import rollups

log = logging.getLogger(__name__)

INCREMENTAL = 2  # PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental
RECLAIM_PAGES = 1024  # per step: 4 MiB with 4 KiB pages, a few milliseconds of writing
# A store from before incremental auto-vacuum is switched (one VACUUM, writers wait meanwhile) only once
# pruning has freed at least this much of it and this share of the file: then the wait buys real space.
SWITCH_MIN_FREE_BYTES = 8 * 2**20
SWITCH_MIN_FREE_SHARE = 0.2

REQUEST_LOG_TABLES = ("usage_row",)
ROLLUP_TABLES = (*rollups.TABLES.values(), *rollups.MODEL_TABLES.values())


def reclaim(db: Any, pages: int = RECLAIM_PAGES) -> int:
    """Give up to `pages` free pages back to the file system; returns how many are still free after.
    Runs on the writer's thread (between batches), never on the event loop."""
    mode, free, total, page_size = _pages(db)
    if not free:
        return 0
    if mode != INCREMENTAL:
        if free * page_size < SWITCH_MIN_FREE_BYTES or free < total * SWITCH_MIN_FREE_SHARE:
            return 0  # freed pages are reused by new rows; not yet worth locking writers out for a VACUUM
        switch_to_incremental(db)
        return 0
    # executescript steps the pragma to its end; a plain execute frees only one page (it has no result rows)
    db.connection().executescript(f"PRAGMA incremental_vacuum({max(1, int(pages))});")
    return int(db.execute_sql("PRAGMA freelist_count").fetchone()[0])


def switch_to_incremental(db: Any) -> None:
    """Rewrite the file once in incremental auto-vacuum mode (compacting it on the way)."""
    started = time.monotonic()
    db.execute_sql(f"PRAGMA auto_vacuum = {INCREMENTAL}")
    db.execute_sql("VACUUM")
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the VACUUM went through the WAL: fold it back now
    log.info("Store compacted and switched to incremental space reclaiming in %.1f s", time.monotonic() - started)


def report(db: Any, path: Path) -> dict[str, Any]:
    """Bytes on disk (database and its WAL), split into the request log, the rollups, the rest and free
    space, with the row counts of the first two. Exact where SQLite's `dbstat` is built in, else estimated
    from the row counts (`exact` says which)."""
    _, free, _, page_size = _pages(db)
    on_disk = sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    tables = _bytes_per_table(db)
    rows = {"requestLog": _count(db, REQUEST_LOG_TABLES), "rollups": _count(db, ROLLUP_TABLES)}
    free_bytes = free * page_size
    if tables is not None:
        log_bytes = sum(tables.get(t, 0) for t in REQUEST_LOG_TABLES)
        rollup_bytes = sum(tables.get(t, 0) for t in ROLLUP_TABLES)
    else:  # typical stored sizes, indexes included (measured on this store's schema)
        log_bytes, rollup_bytes = rows["requestLog"] * 150, rows["rollups"] * 170
    other = max(0, on_disk - log_bytes - rollup_bytes - free_bytes)
    oldest = db.execute_sql("SELECT MIN(ts) FROM usage_row").fetchone()[0]
    return {"totalBytes": on_disk, "exact": tables is not None,
            "requestLog": {"bytes": log_bytes, "rows": rows["requestLog"], "oldest": oldest},
            "rollups": {"bytes": rollup_bytes, "rows": rows["rollups"]},
            "otherBytes": other, "freeBytes": free_bytes}


def _pages(db: Any) -> tuple[int, int, int, int]:
    mode = db.execute_sql("PRAGMA auto_vacuum").fetchone()[0]
    free = db.execute_sql("PRAGMA freelist_count").fetchone()[0]
    total = db.execute_sql("PRAGMA page_count").fetchone()[0]
    page_size = db.execute_sql("PRAGMA page_size").fetchone()[0]
    return int(mode), int(free), int(total), int(page_size)


def _bytes_per_table(db: Any) -> dict[str, int] | None:
    """Bytes of each table with its indexes, or None where SQLite was built without `dbstat`."""
    owners = dict(db.execute_sql("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    try:
        measured = db.execute_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except Exception:  # no dbstat in this SQLite build
        return None
    sizes: dict[str, int] = {}
    for name, size in measured:
        owner = owners.get(name, name)
        sizes[owner] = sizes.get(owner, 0) + int(size or 0)
    return sizes


def _count(db: Any, tables: tuple[str, ...]) -> int:
    return sum(int(db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]) for table in tables)
