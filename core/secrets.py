"""Secrets at rest: account keys are encrypted with a master key that never sits in the database.

The master key lives in the OS keyring where one works (the `keyring` package), else in an owner-only
`master.key` file in the data folder. `QUOTAGATE_KEYRING=off` forces the file (headless servers, tests).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from core import paths

log = logging.getLogger(__name__)

KEYRING_ENV = "QUOTAGATE_KEYRING"
KEY_FILE_NAME = "master.key"
_KEYRING_SERVICE = "quotagate"


class SecretUnreadable(ValueError):
    """A stored secret cannot be decrypted with this machine's master key (e.g. a restored backup)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def for_data_folder(cls, folder: Path) -> "SecretBox":
        return cls(load_or_create_master_key(folder))

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except (InvalidToken, ValueError, TypeError) as exc:
            raise SecretUnreadable("This secret was encrypted with another master key.") from exc


MASK_MARKERS = ("•", "…")  # what masked values contain; sent back unchanged they mean "keep the stored one"
SEALED = "$sealed"  # a secret inside a JSON value at rest: {"$sealed": "<Fernet token>"}


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def seal_text(box: SecretBox, plaintext: str) -> dict[str, str]:
    """A secret ready to sit inside a stored JSON value (a proxy URL, a header value)."""
    return {SEALED: box.encrypt(plaintext).decode("ascii")}


def open_sealed(box: SecretBox, value: Any) -> Any:
    """The plaintext of a `seal_text` value; anything else is returned as it is (stored before sealing).
    Raises `SecretUnreadable` when it was sealed with another machine's key."""
    if not is_sealed(value):
        return value
    return box.decrypt(value[SEALED].encode("ascii"))


def is_masked(value: Any) -> bool:
    return isinstance(value, str) and any(marker in value for marker in MASK_MARKERS)


def mask(secret: str | None, keep: int = 4) -> str:
    """First and last few characters only: enough to recognise a key, never enough to use it."""
    if not secret:
        return ""
    if len(secret) <= keep * 2 + 2:
        return "•" * len(secret)
    return f"{secret[:keep]}…{secret[-keep:]}"


def mask_url_credentials(url: Any) -> Any:
    """A URL (a proxy's, say) with its `user:password@` part hidden: scheme, host and port stay."""
    if not isinstance(url, str) or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://•••@{rest.rpartition('@')[2]}"


def load_or_create_master_key(folder: Path) -> bytes:
    account = _keyring_account(folder)
    if _keyring_enabled():
        key = _read_keyring(account)
        if key:
            return key.encode()
    key_file = folder / KEY_FILE_NAME
    if key_file.exists():
        return key_file.read_bytes().strip()
    key = Fernet.generate_key()
    if _keyring_enabled() and _write_keyring(account, key.decode()):
        return key
    paths.ensure_private_dir(folder)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, paths.PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def _keyring_account(folder: Path) -> str:
    # One master key per data folder: portable setups and tests must not share keys.
    return "master-key-" + hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]


def _keyring_enabled() -> bool:
    return os.environ.get(KEYRING_ENV, "").strip().lower() not in ("off", "0", "false", "no")


def _usable_keyring():  # type: ignore[no-untyped-def]
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # keyring missing or broken: fall back to the key file
        return None
    if isinstance(backend, fail.Keyring) or backend.priority < 1:
        return None
    return backend


def _read_keyring(account: str) -> str | None:
    backend = _usable_keyring()
    if backend is None:
        return None
    try:
        return backend.get_password(_KEYRING_SERVICE, account)
    except Exception as exc:
        log.warning("The OS keyring could not be read (%s); using the key file", type(exc).__name__)
        return None


def _write_keyring(account: str, key: str) -> bool:
    backend = _usable_keyring()
    if backend is None:
        return False
    try:
        backend.set_password(_KEYRING_SERVICE, account, key)
        return True
    except Exception as exc:
        log.warning("The OS keyring could not be written (%s); using the key file", type(exc).__name__)
        return False


def derive_key(passphrase: str, salt: bytes) -> bytes:
    """A Fernet key from a passphrase (for backups carried to another machine)."""
    raw = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return base64.urlsafe_b64encode(raw)
