"""Reading other tools' credential files — read-only, never written — and the tokens inside them.

A missing file means "not configured" (None). A file that exists but cannot be used raises
`CredentialFileError`, whose message names the file, because only the user can fix it.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.i18n import tr
from core.quota.parsing import epoch_seconds

# Tools rewrite their auth files when they renew a token; a read can land between truncate and write.
_REREAD_DELAY = 0.05


class CredentialFileError(Exception):
    def __init__(self, path: Path, reason: str, transient: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.transient = transient  # could be a half-written file: worth one more read


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in `path`; None when there is no such file."""
    try:
        return _decode(path)
    except CredentialFileError as first:
        if not first.transient:
            raise
        time.sleep(_REREAD_DELAY)
        return _decode(path)


def _decode(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise CredentialFileError(path, tr("it is a folder, not a file")) from None
    except PermissionError:
        raise CredentialFileError(path, tr("permission denied")) from None
    except UnicodeDecodeError:
        raise CredentialFileError(path, tr("it is not UTF-8 text")) from None
    except OSError as exc:
        raise CredentialFileError(path, exc.strerror or str(exc)) from None
    if not text.strip():
        raise CredentialFileError(path, tr("it is empty"), transient=True)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CredentialFileError(path, tr("it is not valid JSON (line {line}, column {column})", line=exc.lineno,
                                           column=exc.colno), transient=True) from None
    if not isinstance(data, dict):
        raise CredentialFileError(path, tr("it does not hold a JSON object"))
    return data


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only used to read identity and expiry the issuer put there.
    Not a JWT (or unreadable) → {}."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> datetime | None:
    exp = jwt_claims(token).get("exp")
    return epoch_seconds(exp)


def is_expired(expires_at: datetime | None, now: datetime, leeway: timedelta = timedelta(seconds=30)) -> bool:
    """True when a token is past (or within `leeway` of) its expiry; unknown expiry counts as valid."""
    return expires_at is not None and expires_at - leeway <= now


def text_field(data: Any, *keys: str) -> str | None:
    """The first non-empty string among `keys` of `data` (stripped), or None."""
    if not isinstance(data, dict):
        return None
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
