"""Backups for the running program: export, inspect, import, automatic snapshots, retention, restore.

A restore validates first, prepares the incoming database beside the store (migrated, secrets re-sealed
for this machine), takes a safety snapshot of the current store, and only then swaps files; if anything
after that fails, the safety snapshot is swapped back, so the store ends exactly as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

from core.i18n import tr
from core import __version__, paths
from core.backup import archive, database
from core.backup.errors import BackupError
from core.secrets import SecretBox
from core.store import migrations
from core.store.database import connect as connect_store

log = logging.getLogger(__name__)

SNAPSHOT_DIR = "snapshots"
DEFAULT_KEEP_COUNT = 20
DEFAULT_KEEP_DAYS = 30
DEFAULT_MAX_IMPORT_MB = 512
CHANGE_SNAPSHOT_INTERVAL = 600  # at most one automatic snapshot per 10 minutes of configuration changes
DAILY = 86400

Swapper = Callable[[Path], Awaitable[None]]


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds: shown before an import so the user knows what they are restoring."""

    id: str
    kind: str  # "sqlite", "archive" or "snapshot"
    created_at: float
    reason: str
    size_bytes: int
    schema_version: int
    app_version: str | None
    counts: dict[str, int]
    secrets: str  # "machine" (this machine's key) or "passphrase"

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "createdAt": self.created_at, "reason": self.reason,
                "sizeBytes": self.size_bytes, "schemaVersion": self.schema_version,
                "appVersion": self.app_version, "counts": self.counts, "secrets": self.secrets}


class BackupManager:
    def __init__(self, data_folder: Path, store_path: Path, box: SecretBox, swap: Swapper,
                 keep_count: int = DEFAULT_KEEP_COUNT, keep_days: float = DEFAULT_KEEP_DAYS,
                 max_import_mb: float = DEFAULT_MAX_IMPORT_MB) -> None:
        self.folder = data_folder
        self.store_path = store_path
        self.box = box
        self._swap = swap
        self.keep_count, self.keep_days, self.max_import_mb = keep_count, keep_days, max_import_mb
        self.snapshots = paths.ensure_private_dir(data_folder / SNAPSHOT_DIR)
        for leftover in [*data_folder.glob("restore-*"), *data_folder.glob("backup-*")]:
            shutil.rmtree(leftover, ignore_errors=True)  # from a run killed mid-restore
        self._lock = asyncio.Lock()
        self._last_change_snapshot = 0.0

    # -- snapshots ------------------------------------------------------------------------------------
    def create_snapshot(self, reason: str = "manual") -> BackupInfo:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        snapshot_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
        target = self.snapshots / f"{snapshot_id}.sqlite"
        database.copy_live(self.store_path, target)
        version, counts = database.check(target)
        info = BackupInfo(snapshot_id, "snapshot", time.time(), reason, target.stat().st_size, version,
                          __version__, counts, "machine")
        sidecar = target.with_suffix(".json")
        sidecar.write_text(json.dumps(asdict(info)))
        paths.make_private(sidecar)
        self.prune()
        return info

    def list_snapshots(self) -> list[BackupInfo]:
        found = []
        for sidecar in self.snapshots.glob("*.json"):
            if not sidecar.with_suffix(".sqlite").exists():
                continue
            try:
                found.append(BackupInfo(**json.loads(sidecar.read_text())))
            except (ValueError, TypeError):
                log.warning("Ignoring unreadable snapshot description %s", sidecar.name)
        return sorted(found, key=lambda info: info.created_at, reverse=True)

    def prune(self, now: float | None = None) -> list[str]:
        """Keep the newest `keep_count` snapshots younger than `keep_days`; never delete the newest one."""
        now = now or time.time()
        removed = []
        for index, info in enumerate(self.list_snapshots()):
            too_many = index >= self.keep_count
            too_old = now - info.created_at > self.keep_days * DAILY
            if index > 0 and (too_many or too_old):
                for suffix in (".sqlite", ".json"):
                    (self.snapshots / f"{info.id}{suffix}").unlink(missing_ok=True)
                removed.append(info.id)
        return removed

    def snapshot_before_change(self, reason: str) -> BackupInfo | None:
        """An automatic snapshot before a configuration change, throttled."""
        if time.monotonic() - self._last_change_snapshot < CHANGE_SNAPSHOT_INTERVAL and self._last_change_snapshot:
            return None
        self._last_change_snapshot = time.monotonic()
        return self.create_snapshot(f"before {reason}")

    def daily_snapshot_due(self, now: float | None = None) -> bool:
        newest = next(iter(self.list_snapshots()), None)
        return newest is None or (now or time.time()) - newest.created_at >= DAILY

    # -- export ---------------------------------------------------------------------------------------
    # The rollups (the usage history) always go along; the raw request log, which can be most of the store,
    # only when `include_request_log` (the default).
    def export_sqlite(self, destination: Path, passphrase: str | None = None,
                      include_request_log: bool = True) -> BackupInfo:
        with self._workdir() as work:
            copy = self._sealed_copy(work, passphrase, include_request_log)
            version, counts = database.check(copy)
            shutil.move(str(copy), str(destination))
            paths.make_private(destination)
        return self._file_info(destination, "sqlite", version, counts, "passphrase" if passphrase else "machine")

    def export_archive(self, destination: Path, passphrase: str | None = None,
                       include_request_log: bool = True) -> BackupInfo:
        with self._workdir() as work:
            copy = self._sealed_copy(work, passphrase, include_request_log)
            version, counts = database.check(copy)
            archive.write_archive(copy, destination, version, counts, include_request_log)
        return self._file_info(destination, "archive", version, counts, "passphrase" if passphrase else "machine")

    # -- inspect / import / restore -------------------------------------------------------------------
    def inspect(self, source: Path) -> BackupInfo:
        """Validate a backup file and describe it; `BackupError` if it must not be restored."""
        with self._workdir() as work:
            candidate, manifest = self._extract(source, work)
            version, counts = database.check(candidate)
            info = self._file_info(source, "archive" if manifest else "sqlite", version, counts,
                                   database.seal_kind(candidate))
        if manifest:
            return BackupInfo(info.id, info.kind, _parse_time(manifest.get("createdAt"), info.created_at),
                              info.reason, info.size_bytes, version, manifest.get("appVersion"), counts, info.secrets)
        return info

    async def import_file(self, source: Path, passphrase: str | None = None) -> dict[str, Any]:
        """Restore from a `.sqlite` or `.tar.gz` file. Returns what was restored and what needs attention."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            work = Path(tempfile.mkdtemp(prefix="restore-", dir=self.folder))
            try:
                candidate, _ = await loop.run_in_executor(None, self._extract, source, work)
                return await self._restore(candidate, work, passphrase)
            finally:
                shutil.rmtree(work, ignore_errors=True)

    async def restore_snapshot(self, snapshot_id: str) -> dict[str, Any]:
        source = self.snapshots / f"{Path(snapshot_id).name}.sqlite"
        if not source.exists():
            raise BackupError(tr("There is no snapshot {id}; list them with `quotagate backup list`.",
                                 id=repr(snapshot_id)))
        return await self.import_file(source)

    async def _restore(self, candidate: Path, work: Path, passphrase: str | None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        incoming = work / "incoming.sqlite"
        needs_keys = await loop.run_in_executor(None, self._prepare, candidate, incoming, passphrase)
        safety = await loop.run_in_executor(None, self.create_snapshot, "before restore")
        # Beside the store: the final rename is then atomic (same file system).
        staged = self.store_path.with_name(self.store_path.name + ".incoming")
        shutil.copyfile(incoming, staged)
        paths.make_private(staged)
        try:
            await self._swap(staged)
        except Exception as exc:
            log.exception("Restore failed; putting the previous store back")
            rollback = self.store_path.with_name(self.store_path.name + ".incoming")
            shutil.copyfile(self.snapshots / f"{safety.id}.sqlite", rollback)
            await self._swap(rollback)
            raise BackupError(tr("The restore failed and was rolled back; nothing changed ({error}).",
                                 error=exc)) from exc
        finally:
            staged.unlink(missing_ok=True)
        version, counts = await loop.run_in_executor(None, database.check, self.store_path)
        return {"restored": True, "counts": counts, "schemaVersion": version, "accountsNeedingKeys": needs_keys,
                "safetySnapshot": safety.id}

    def _prepare(self, candidate: Path, incoming: Path, passphrase: str | None) -> int:
        database.check(candidate)
        database.copy_live(candidate, incoming)
        db = connect_store(incoming)  # older schemas are brought up to date on the copy, never in place
        try:
            migrations.migrate(db)
        finally:
            db.close()
        return database.unseal_after_transfer(incoming, self.box, passphrase)

    def _extract(self, source: Path, work: Path) -> tuple[Path, dict[str, Any] | None]:
        limit = int(self.max_import_mb * 2**20)
        if not source.is_file():
            raise BackupError(tr("{path} is not a file.", path=source))
        if source.stat().st_size > limit:
            raise BackupError(archive.too_large(limit))
        with open(source, "rb") as handle:
            magic = handle.read(16)
        if magic.startswith(b"\x1f\x8b"):
            return archive.read_archive(source, work, limit)
        if magic == database.SQLITE_MAGIC:
            return source, None
        raise BackupError(tr("This is not a Quotagate backup: expected a .sqlite or .tar.gz file."))

    def _sealed_copy(self, work: Path, passphrase: str | None, include_request_log: bool = True) -> Path:
        copy = work / "export.sqlite"
        database.copy_live(self.store_path, copy)
        if not include_request_log:
            database.drop_request_log(copy)
        database.seal_for_transfer(copy, self.box, passphrase)
        return copy

    def _file_info(self, path: Path, kind: str, version: int, counts: dict[str, int], secrets: str) -> BackupInfo:
        stat = path.stat()
        return BackupInfo(path.name, kind, stat.st_mtime, "file", stat.st_size, version, None, counts, secrets)

    def _workdir(self) -> "_TemporaryFolder":
        return _TemporaryFolder(self.folder)


class _TemporaryFolder:
    """A private temporary folder inside the data folder (same file system as the store)."""

    def __init__(self, parent: Path) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="backup-", dir=parent))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _parse_time(text: Any, default: float) -> float:
    try:
        return time.mktime(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except (ValueError, OverflowError):
        return default
