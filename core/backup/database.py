"""Database-level work on SQLite files that are not the live store: copy, check, count, re-key secrets."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Iterator

from cryptography.fernet import Fernet, InvalidToken

from core.i18n import tr
from core import paths
from core.backup.errors import BackupError
from core.secrets import SEALED, SecretBox, SecretUnreadable, derive_key, is_sealed
from core.store import migrations

SQLITE_MAGIC = b"SQLite format 3\x00"
COUNTED_TABLES = {"accounts": "provider_account", "endpoints": "provider_node", "combos": "combo",
                  "keys": "api_key", "aliases": "model_alias", "usage": "usage_row"}
SEAL_SETTING = "backup.secret_seal"
_SECRET_TABLES = ("provider_account", "provider_node")
# JSON columns that hold secrets sealed inline ({"$sealed": token}): proxy sign-ins and header values.
_SEALED_JSON_COLUMNS = (("setting", "key", "value"), ("provider_account", "id", "options"),
                        ("provider_node", "id", "headers"))
_SEAL_CHECK = b"quotagate-backup"


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def copy_live(source: Path, destination: Path) -> None:
    """A consistent copy of a database that may be written meanwhile (SQLite's online backup), written
    to a temporary name and renamed, so `destination` is either absent or complete."""
    temporary = destination.with_name(destination.name + ".partial")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, paths.PRIVATE_FILE_MODE)
    os.close(fd)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
        dst = sqlite3.connect(temporary)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            dst.close()
            src.close()
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    paths.make_private(destination)


def drop_request_log(path: Path) -> None:
    """Empty the raw request log of a copy (its rollups, the usage history, stay) and compact the file, so an
    export without it is as small as what it holds."""
    with connect(path) as conn:
        conn.execute("DELETE FROM usage_row")
        conn.commit()
        conn.execute("VACUUM")


def schema_version(conn: sqlite3.Connection) -> int:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_migrations" not in tables:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


def check(path: Path) -> tuple[int, dict[str, int]]:
    """Schema version and row counts of a candidate database, or `BackupError` saying what is wrong."""
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            raise BackupError(tr("This is not a Quotagate backup: the file is not an SQLite database."))
    try:
        with connect(path) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(tr("The backup is damaged (SQLite integrity check: {verdict}).", verdict=verdict))
            version = schema_version(conn)
            if version == 0:
                raise BackupError(tr("This SQLite file is not a Quotagate store (it has no schema version)."))
            if version > migrations.LATEST_VERSION:
                raise BackupError(tr("This backup was made by a newer Quotagate (schema {version}; this one knows "
                                     "up to {latest}). Update Quotagate to restore it.", version=version,
                                     latest=migrations.LATEST_VERSION))
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = sorted(set(COUNTED_TABLES.values()) - tables)
            if missing:
                raise BackupError(tr("The backup lacks required tables: {tables}.", tables=", ".join(missing)))
            counts = {label: conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                      for label, table in COUNTED_TABLES.items()}
    except sqlite3.DatabaseError as exc:
        raise BackupError(tr("The backup is damaged or truncated ({error}).", error=exc)) from None
    return version, counts


def seal_for_transfer(path: Path, machine: SecretBox, passphrase: str | None) -> None:
    """In an exported copy, re-encrypt secrets with a key derived from `passphrase`, so another machine
    can open them. Without a passphrase they stay sealed with this machine's key."""
    with connect(path) as conn:
        if passphrase:
            salt = os.urandom(16)
            transfer = Fernet(derive_key(passphrase, salt))
            for table in _SECRET_TABLES:
                for row_id, secret in conn.execute(f"SELECT id, secret FROM {table} WHERE secret IS NOT NULL"):
                    try:
                        plaintext = machine.decrypt(secret)
                    except SecretUnreadable:
                        continue  # already unreadable here: carried as it is
                    conn.execute(f"UPDATE {table} SET secret = ? WHERE id = ?",
                                 (transfer.encrypt(plaintext.encode()), row_id))
            _reseal_json(conn, machine.decrypt, lambda text: transfer.encrypt(text.encode()))
            seal = {"kind": "passphrase", "salt": base64.b64encode(salt).decode(),
                    "check": transfer.encrypt(_SEAL_CHECK).decode()}
        else:
            seal = {"kind": "machine"}
        conn.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (SEAL_SETTING, json.dumps(seal)))
        conn.commit()


def seal_kind(path: Path) -> str:
    with connect(path) as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (SEAL_SETTING,)).fetchone()
    try:
        return json.loads(row[0]).get("kind", "machine") if row else "machine"
    except ValueError:
        return "machine"


def unseal_after_transfer(path: Path, machine: SecretBox, passphrase: str | None) -> int:
    """Re-encrypt a restored copy's secrets with this machine's key. Returns how many secrets could not be
    opened (those accounts will ask for their keys again). A wrong passphrase is refused outright."""
    with connect(path) as conn:
        row = conn.execute("SELECT value FROM setting WHERE key = ?", (SEAL_SETTING,)).fetchone()
        seal = json.loads(row[0]) if row else {"kind": "machine"}
        unreadable = 0
        if seal.get("kind") == "passphrase":
            transfer = None
            if passphrase:
                transfer = Fernet(derive_key(passphrase, base64.b64decode(seal["salt"])))
                try:
                    transfer.decrypt(seal["check"].encode())
                except InvalidToken:
                    raise BackupError(tr("The passphrase does not match the one chosen when this backup was "
                                         "made.")) from None
            for table in _SECRET_TABLES:
                for row_id, secret in list(conn.execute(f"SELECT id, secret FROM {table} WHERE secret IS NOT NULL")):
                    if transfer is None:
                        unreadable += 1
                        continue
                    try:
                        plaintext = transfer.decrypt(bytes(secret)).decode()
                    except InvalidToken:
                        unreadable += 1
                        continue
                    conn.execute(f"UPDATE {table} SET secret = ? WHERE id = ?", (machine.encrypt(plaintext), row_id))
            if transfer is not None:
                unreadable += _reseal_json(conn, lambda token: transfer.decrypt(bytes(token)).decode(),
                                           machine.encrypt)
        else:
            for table in _SECRET_TABLES:
                for (secret,) in conn.execute(f"SELECT secret FROM {table} WHERE secret IS NOT NULL"):
                    try:
                        machine.decrypt(secret)
                    except SecretUnreadable:
                        unreadable += 1
        conn.execute("DELETE FROM setting WHERE key = ?", (SEAL_SETTING,))
        conn.commit()
    return unreadable


def _reseal_json(conn: sqlite3.Connection, open_token, seal_text) -> int:  # type: ignore[no-untyped-def]
    """Re-encrypt every inline-sealed secret of `_SEALED_JSON_COLUMNS` (open with one key, seal with the
    other). Returns how many could not be opened; those are left as they are."""
    unreadable = 0

    def reseal(value):  # type: ignore[no-untyped-def]
        nonlocal unreadable
        if is_sealed(value):
            try:
                return {SEALED: seal_text(open_token(value[SEALED].encode("ascii"))).decode("ascii")}
            except (SecretUnreadable, InvalidToken, ValueError):
                unreadable += 1
                return value
        if isinstance(value, dict):
            return {k: reseal(v) for k, v in value.items()}
        return value

    for table, key, column in _SEALED_JSON_COLUMNS:
        for row_key, text in list(conn.execute(f"SELECT {key}, {column} FROM {table}")):
            if not isinstance(text, str) or SEALED not in text:
                continue
            try:
                value = json.loads(text)
            except ValueError:
                continue
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (json.dumps(reseal(value)), row_key))
    return unreadable
