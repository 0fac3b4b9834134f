"""`.tar.gz` backups: the database snapshot, a manifest with checksums, and readable JSON without secrets.

Reading never uses `extractall`: only the known member names are accepted, each is a regular file copied
byte by byte with a size cap, and every checksum must match the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
import time
from pathlib import Path
from typing import Any

from core.i18n import tr
from core import __version__, paths
from core.secrets import is_sealed
from core.backup.database import COUNTED_TABLES, SEAL_SETTING
from core.backup.errors import BackupError

DATABASE_MEMBER = "quotagate.sqlite"
MANIFEST_MEMBER = "manifest.json"
READABLE_MEMBERS = ("settings.json", "combos.json", "providers.json")
ALLOWED_MEMBERS = {DATABASE_MEMBER, MANIFEST_MEMBER, *READABLE_MEMBERS}
_PRIVATE_SETTINGS = ("management.", SEAL_SETTING)  # hashes and seals stay inside the database only


def write_archive(snapshot: Path, destination: Path, schema_version: int, counts: dict[str, int],
                  request_log: bool = True) -> None:
    """Pack `snapshot` (a sealed database copy) with its manifest and readable JSON into `destination`.
    `request_log` says in the manifest whether the raw request log was kept (the rollups always are)."""
    members: dict[str, bytes] = {DATABASE_MEMBER: snapshot.read_bytes()}
    members.update({name: json.dumps(value, indent=2, ensure_ascii=False).encode()
                    for name, value in _readable(snapshot).items()})
    manifest = {
        "app": "quotagate", "appVersion": __version__, "schemaVersion": schema_version,
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "counts": counts, "requestLog": request_log,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    members[MANIFEST_MEMBER] = json.dumps(manifest, indent=2).encode()
    temporary = destination.with_name(destination.name + ".partial")
    with tarfile.open(temporary, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
    paths.make_private(temporary)
    temporary.replace(destination)


def read_archive(archive: Path, workdir: Path, limit_bytes: int) -> tuple[Path, dict[str, Any]]:
    """Validate `archive` and extract its database into `workdir`; return it with the manifest."""
    extracted: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            total = 0
            for member in tar:
                if member.name not in ALLOWED_MEMBERS or "/" in member.name or member.name.startswith("."):
                    raise BackupError(tr("The archive holds an unexpected or unsafe member {name}; it was not made "
                                         "by Quotagate and is refused.", name=repr(member.name)))
                if not member.isfile():
                    raise BackupError(tr("The archive member {name} is not a regular file; refused.",
                                         name=repr(member.name)))
                total += member.size
                if total > limit_bytes:
                    raise BackupError(too_large(limit_bytes))
                handle = tar.extractfile(member)
                assert handle is not None
                extracted[member.name] = handle.read(limit_bytes + 1)
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise BackupError(tr("This is not a readable .tar.gz backup (it may be truncated): {error}.",
                             error=exc)) from None
    if MANIFEST_MEMBER not in extracted or DATABASE_MEMBER not in extracted:
        raise BackupError(tr("The archive lacks its manifest or its database; it is not a Quotagate backup."))
    try:
        manifest = json.loads(extracted.pop(MANIFEST_MEMBER))
        checksums = manifest["sha256"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(tr("The archive's manifest is unreadable.")) from None
    if set(checksums) != set(extracted):
        raise BackupError(tr("The archive's members do not match its manifest."))
    for name, data in extracted.items():
        if hashlib.sha256(data).hexdigest() != checksums[name]:
            raise BackupError(tr("The checksum of {name} does not match the manifest: the archive was altered or "
                                 "damaged.", name=name))
    database = workdir / DATABASE_MEMBER
    database.write_bytes(extracted[DATABASE_MEMBER])
    paths.make_private(database)
    return database, manifest


def _readable(snapshot: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        settings = {row["key"]: value for row in conn.execute("SELECT key, value FROM setting")
                    if not row["key"].startswith(_PRIVATE_SETTINGS)
                    and not is_sealed(value := _json(row["value"]))}  # sealed: a secret (proxy sign-ins)
        combos = [{"name": r["name"], "strategy": r["strategy"], "targets": _json(r["targets"])}
                  for r in conn.execute("SELECT name, strategy, targets FROM combo ORDER BY name")]
        accounts = [{"provider": r["provider"], "name": r["name"], "priority": r["priority"],
                     "active": bool(r["active"]), "defaultModel": r["default_model"],
                     "hasKey": r["secret"] is not None}
                    for r in conn.execute("SELECT * FROM provider_account ORDER BY provider, priority, id")]
        endpoints = [{"prefix": r["prefix"], "name": r["name"], "baseUrl": r["base_url"], "apiType": r["api_format"],
                  "headerNames": sorted(_json(r["headers"]) or {}), "hasKey": r["secret"] is not None}
                 for r in conn.execute("SELECT * FROM provider_node ORDER BY prefix")]
        aliases = {r["alias"]: r["target"] for r in conn.execute("SELECT alias, target FROM model_alias")}
    finally:
        conn.close()
    return {"settings.json": settings, "combos.json": combos,
            "providers.json": {"accounts": accounts, "customEndpoints": endpoints, "aliases": aliases}}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def too_large(limit_bytes: int) -> str:
    return tr("The backup is larger than the import limit of {size} MiB (setting backup.max_import_mb).",
              size=limit_bytes // 2**20)


__all__ = ["write_archive", "read_archive", "COUNTED_TABLES", "DATABASE_MEMBER"]
