"""`/api/db-backups*`: the reference's backup endpoints over the backup manager — list, create, restore a
snapshot, download a `.sqlite` or `.tar.gz`, and upload one to restore. A passphrase travels in the
`X-Backup-Passphrase` header (never in a URL, which ends up in logs)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from core import paths
from core.backup import BackupError, archive
from core.backup.manager import BackupManager
from core.gateway.management.common import ManagementError, off_loop, read_object, resource, text

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

log = logging.getLogger(__name__)
PASSPHRASE_HEADER = "x-backup-passphrase"


def backup_routes(context: "GatewayContext") -> list[Route]:
    def manager() -> BackupManager:
        if context.backups is None:
            raise ManagementError(503, "Backups are not available in this process.")
        return context.backups

    async def list_backups(request: Request) -> Response:
        snapshots = await off_loop(manager().list_snapshots)
        return JSONResponse({"backups": [s.public() for s in snapshots], "total": len(snapshots)})

    async def create_backup(request: Request) -> Response:
        info = await off_loop(manager().create_snapshot, "manual (API)")
        return JSONResponse({"backup": info.public()}, status_code=201)

    async def restore_backup(request: Request) -> Response:
        body = await read_object(request)
        snapshot_id = text(body.get("id") or body.get("backupId"), "id", max_length=100)
        try:
            result = await manager().restore_snapshot(snapshot_id)
        except BackupError as exc:
            raise ManagementError(400, str(exc)) from None
        return JSONResponse(result)

    async def export_sqlite(request: Request) -> Response:
        return await _download(manager(), request, archive=False)

    async def export_all(request: Request) -> Response:
        return await _download(manager(), request, archive=True)

    async def import_backup(request: Request) -> Response:
        current = manager()
        folder = Path(tempfile.mkdtemp(prefix="backup-upload-", dir=current.folder))
        try:
            upload = await _receive(request, folder / "upload", int(current.max_import_mb * 2**20))
            try:
                info = await off_loop(current.inspect, upload)
                result = await current.import_file(upload, request.headers.get(PASSPHRASE_HEADER) or None)
            except BackupError as exc:
                raise ManagementError(400, str(exc)) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse({**result, "backup": info.public()})

    return [
        resource("/api/db-backups", GET=list_backups, PUT=create_backup, POST=restore_backup),
        resource("/api/db-backups/export", GET=export_sqlite),
        resource("/api/db-backups/exportAll", GET=export_all),
        resource("/api/db-backups/import", POST=import_backup),
    ]


async def _download(manager: BackupManager, request: Request, archive: bool) -> Response:
    folder = Path(tempfile.mkdtemp(prefix="backup-download-", dir=manager.folder))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"quotagate-{stamp}.tar.gz" if archive else f"quotagate-{stamp}.sqlite"
    target = folder / name
    export = manager.export_archive if archive else manager.export_sqlite
    include = request.query_params.get("requestLog", "true").strip().lower()
    if include not in ("true", "false", "1", "0"):
        shutil.rmtree(folder, ignore_errors=True)
        raise ManagementError(400, "`requestLog` must be true or false (false: without the raw request log; the "
                                   "usage sums are always included).")
    try:
        await off_loop(export, target, request.headers.get(PASSPHRASE_HEADER) or None,
                       include_request_log=include in ("true", "1"))
    except BackupError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ManagementError(500, str(exc)) from None
    media = "application/gzip" if archive else "application/vnd.sqlite3"
    return FileResponse(target, media_type=media, filename=name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


async def _receive(request: Request, destination: Path, limit: int) -> Path:
    """The uploaded file: a multipart `file` field or the raw body, written to an owner-only file with a
    size cap (checked as it arrives, not after)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise _too_large(limit)
    content_type = request.headers.get("content-type", "")
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, paths.PRIVATE_FILE_MODE)
    size = 0
    with os.fdopen(fd, "wb") as handle:
        if content_type.startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=5, max_part_size=limit + 1)
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ManagementError(400, "Send the backup as the multipart field `file`, or as the raw body.")
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                handle.write(chunk)
        else:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                handle.write(chunk)
    if size == 0:
        raise ManagementError(400, "The upload is empty; send a .sqlite or .tar.gz backup.")
    return destination


def _too_large(limit: int) -> ManagementError:
    return ManagementError(413, archive.too_large(limit))
