"""Secrets stay secret: encrypted at rest, masked in answers, absent from the log file."""

from __future__ import annotations

import logging
import sqlite3
import stat

import pytest
from cryptography.fernet import Fernet

from core.secrets import KEY_FILE_NAME, SecretBox, SecretUnreadable, mask

PROVIDER_KEY = "sk-proj-SECRETVALUE1234567890abcdef"


async def test_account_keys_are_encrypted_in_the_database(services) -> None:
    services.accounts.create_account("openai", "work", PROVIDER_KEY)
    services.store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    raw = sqlite3.connect(services.store.path).execute("SELECT secret FROM provider_account").fetchone()[0]
    assert PROVIDER_KEY.encode() not in raw
    assert PROVIDER_KEY.encode() not in services.store.path.read_bytes()
    assert services.accounts.accounts()[0].api_key == PROVIDER_KEY


async def test_the_master_key_file_is_owner_only(services) -> None:
    key_file = services.data_folder / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_a_secret_from_another_master_key_marks_the_account_as_needing_its_key(services) -> None:
    services.accounts.create_account("openai", "work", PROVIDER_KEY)
    services.accounts.box = SecretBox(Fernet.generate_key())  # as on a machine with another master key
    account = services.accounts.accounts()[0]
    assert account.needs_key and account.api_key is None


def test_decrypting_with_the_wrong_key_is_a_clear_error() -> None:
    token = SecretBox(Fernet.generate_key()).encrypt("x")
    with pytest.raises(SecretUnreadable, match="another master key"):
        SecretBox(Fernet.generate_key()).decrypt(token)


def test_mask_shows_only_the_ends() -> None:
    assert mask(PROVIDER_KEY) == "sk-p…cdef"
    assert mask("short") == "•••••"
    assert mask(None) == ""


async def test_provider_keys_never_reach_answers_or_logs(services, client, upstream, openai_via_fake,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await openai_via_fake(services, "sk-status-401", PROVIDER_KEY)
    answers = [
        await client.post("/v1/chat/completions", json={"model": "openai/gpt-4.1",
                                                         "messages": [{"role": "user", "content": "hi"}]}),
        await client.post("/v1/chat/completions", json={"model": "nope/x", "messages": [{"role": "user"}]}),
        await client.get("/v1/models"),
    ]
    for response in answers:
        assert PROVIDER_KEY not in response.text and "sk-status-401" not in response.text
    assert PROVIDER_KEY not in caplog.text
    assert all(PROVIDER_KEY not in repr(account.public()) for account in services.accounts.accounts())
