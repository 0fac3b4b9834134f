"""Changing another program's settings file without ever damaging it.

Before the first change the exact original bytes are kept in Quotagate's data folder with a record of each
value set and what it replaced. Disconnecting restores those bytes when the file is still exactly as
Quotagate left it; when the user edited it since, only Quotagate's own values are taken out again (a value
the user had before is put back, one the user changed since is left alone). Every check is made before any
file is written, so a refusal touches nothing; each write is a temporary file renamed over the old one, with
the old one's mode. Each read-modify-write holds the tool's lock (`locking`), so two writers never interleave."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import paths
from core.cli_tools import locking
from core.cli_tools.formats import FORMATS, MISSING, Format, FormatError
from core.i18n import tr

NEW_FILE_MODE = 0o600  # a tool's settings may now hold a gateway key


class ToolFileError(Exception):
    """A refusal with a message for the user; nothing was written."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class Edit:
    """The values one tool needs in one file."""

    path: Path
    format: Format
    changes: list[tuple[tuple[str, ...], Any]]


@contextmanager
def changing(records_dir: Path, tool: str) -> Iterator[None]:
    """One read-modify-write of a tool's files at a time, across threads and processes (see `locking`)."""
    try:
        with locking.tool_lock(records_dir, tool):
            yield
    except locking.LockTimeout as exc:
        raise ToolFileError(str(exc)) from None


def record_path(records_dir: Path, tool: str) -> Path:
    return records_dir / f"{tool}.json"


def load_record(records_dir: Path, tool: str) -> dict[str, Any] | None:
    try:
        return json.loads(record_path(records_dir, tool).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- connect ---------------------------------------------------------------------------------------


def apply(tool: str, edits: list[Edit], records_dir: Path) -> None:
    """Set every change of `edits`, or refuse (ToolFileError) having written nothing."""
    with changing(records_dir, tool):
        previous = load_record(records_dir, tool) or {"files": []}
        old_files = {entry["path"]: entry for entry in previous["files"]}
        plans: list[tuple[Path, bytes | None, bytes]] = []
        entries = []
        for edit in edits:
            current = _read_checked(edit.path, edit.format)
            old = old_files.pop(str(edit.path), None)
            if old is not None:  # connected before: start again from the file without our values
                base = _undone(old, edit.path, current, edit.format)
                if current == _b64d(old["written"]):  # untouched since: the first original still stands
                    original, existed = _b64d(old["original"]), old["existed"]
                else:  # edited since: what undo gives back now is the user's latest file
                    original, existed = base, base is not None
            else:
                base, original, existed = current, current, current is not None
            text = (base or b"").decode("utf-8")
            changes = []
            try:
                for key, value in edit.changes:
                    recorded_key = _first_missing(edit.format, text, key)
                    before = edit.format.get(text, recorded_key)
                    text = edit.format.set(text, key, value)
                    changes.append({"key": list(recorded_key), "value": edit.format.get(text, recorded_key),
                                    "had": before is not MISSING, "previous": None if before is MISSING else before})
                edit.format.check(text)  # what we write must parse in the tool's own format
            except FormatError as exc:
                raise ToolFileError(tr("{path} cannot take Quotagate's settings ({error}); it was not changed.",
                                       path=edit.path, error=exc)) from None
            new = text.encode("utf-8")
            plans.append((edit.path, current, new))
            entries.append({"path": str(edit.path), "format": edit.format.key, "existed": existed,
                            "original": _b64e(original), "written": _b64e(new), "changes": changes,
                            "created_dirs": old["created_dirs"] if old else _missing_dirs(edit.path)})
        entries.extend(old_files.values())  # files an earlier connect changed and this one does not: kept for undo
        _save_record(records_dir, tool, {"tool": tool, "files": entries})
        for path, expected, new in plans:
            _write(path, expected, new)


def _first_missing(fmt: Format, text: str, key: tuple[str, ...]) -> tuple[str, ...]:
    """The shortest prefix of `key` that is absent: what the change creates, and so what undo removes."""
    for depth in range(1, len(key)):
        if fmt.get(text, key[:depth]) is MISSING:
            return key[:depth]
    return key


# --- disconnect ------------------------------------------------------------------------------------


def undo(tool: str, records_dir: Path) -> bool:
    """Take Quotagate's values out of the tool's files again. False when there was nothing to undo."""
    with changing(records_dir, tool):
        record = load_record(records_dir, tool)
        if record is None:
            return False
        plans = []
        for entry in record["files"]:
            path = Path(entry["path"])
            fmt = FORMATS.get(entry.get("format", ""))
            current = _read_checked(path, fmt)
            if current is None:
                continue  # the file is gone: nothing of ours is left in it
            plans.append((path, current, _undone(entry, path, current, fmt), entry))
        for path, current, restored, entry in plans:
            if restored is None:
                path.unlink()
                _remove_empty_dirs(entry.get("created_dirs", []))
            elif restored != current:
                _write(path, current, restored)
        record_path(records_dir, tool).unlink(missing_ok=True)
        return True


def _undone(entry: dict[str, Any], path: Path, current: bytes | None, fmt: Format | None) -> bytes | None:
    """The file's bytes without Quotagate's values (None: the file should not exist)."""
    if current is None:
        return None
    if current == _b64d(entry["written"]):  # untouched since: the exact original
        return _b64d(entry["original"]) if entry["existed"] else None
    if fmt is None:
        raise ToolFileError(tr("{path} changed since Quotagate connected it and can no longer be undone "
                               "automatically; remove the Quotagate settings from it yourself.", path=path))
    text = current.decode("utf-8")
    for change in reversed(entry["changes"]):
        key = tuple(change["key"])
        if fmt.get(text, key) != change["value"]:
            continue  # changed by the user since: theirs now
        text = fmt.set(text, key, change["previous"]) if change["had"] else fmt.remove(text, key)
    return text.encode("utf-8")


# --- reading and writing ---------------------------------------------------------------------------


def _read_raw(path: Path) -> bytes | None:
    if path.is_symlink():
        raise ToolFileError(tr("{path} is a symbolic link; Quotagate does not write through links. Change the "
                               "file it points to yourself, or replace the link with a regular file.", path=path))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ToolFileError(tr("{path} is a folder, not a settings file.", path=path)) from None
    except OSError as exc:
        raise ToolFileError(tr("{path} cannot be read: {error}", path=path, error=exc.strerror or exc)) from None


def _read_checked(path: Path, fmt: Format | None) -> bytes | None:
    """The file's bytes (None when it does not exist yet), after every check a write will need."""
    data = _read_raw(path)
    # no write bit at all is the owner saying "leave it" — respected even where access checks pass (root)
    if data is not None and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise ToolFileError(tr("{path} is read-only; make it writable, then try again.", path=path))
    folder = _existing_parent(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ToolFileError(tr("The folder {folder} is not writable, so {path} cannot be changed safely.",
                               folder=folder, path=path))
    if data is not None and fmt is not None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolFileError(tr("{path} is not UTF-8 text; Quotagate leaves it alone.", path=path)) from None
        try:
            fmt.check(text)
        except FormatError as exc:
            raise ToolFileError(tr("{path} is not valid {format} (line {line}: {error}); it was not changed. "
                                   "Fix the file, then try again.", path=path, format=fmt.name, line=exc.line,
                                   error=exc)) from None
    return data


def _existing_parent(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _missing_dirs(path: Path) -> list[str]:
    missing, folder = [], path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(str(folder))
        folder = folder.parent
    return missing


def _remove_empty_dirs(folders: list[str]) -> None:
    for folder in folders:  # deepest first
        try:
            os.rmdir(folder)
        except OSError:
            return


def _write(path: Path, expected: bytes | None, data: bytes) -> None:
    """Replace `path` with `data` atomically, keeping its mode — unless it changed since it was read."""
    if _read_raw(path) != expected:
        raise ToolFileError(tr("{path} changed while Quotagate was updating it; nothing was written. Try "
                               "again.", path=path))
    try:
        mode = path.stat().st_mode & 0o7777 if expected is not None else NEW_FILE_MODE
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data, mode)
    except OSError as exc:
        raise ToolFileError(tr("{path} could not be written: {error}", path=path,
                               error=exc.strerror or exc)) from None


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".quotagate", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _save_record(records_dir: Path, tool: str, record: dict[str, Any]) -> None:
    paths.ensure_private_dir(records_dir)
    data = json.dumps(record, indent=1, ensure_ascii=False, default=str).encode("utf-8")
    atomic_write(record_path(records_dir, tool), data, paths.PRIVATE_FILE_MODE)


def _b64e(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _b64d(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""
