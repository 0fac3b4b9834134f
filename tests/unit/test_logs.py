"""Logs go to an owner-only rotating file in the data folder, and secrets never reach it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from core.logs import redact, setup_logging

SECRETS = [
    "sk-proj-abcdefghijklmnopqrstuvwxyz123456",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "ya29.a0AfH6SMBxyzxyzxyzxyz",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_redact_masks_known_secret_shapes(secret: str) -> None:
    assert secret not in redact(f"upstream said no to {secret} today")


@pytest.mark.parametrize("line", [
    "Authorization: Bearer abcdefghijklmnop1234",
    "x-api-key: 0123456789abcdef0123",
    '{"api_key": "zhipu.0123456789abcdef"}',
    "password=hunter2hunter2",
])
def test_redact_masks_credential_fields(line: str) -> None:
    secret = line.split()[-1].strip('"}').split("=")[-1]
    assert secret not in redact(line)


def test_redact_keeps_ordinary_text() -> None:
    text = "Gateway listening on http://127.0.0.1:20128 with 3 accounts"
    assert redact(text) == text


def test_log_file_is_owner_only_and_redacted(tmp_path: Path) -> None:
    setup = setup_logging(tmp_path)
    try:
        logging.getLogger("test").warning("key rejected: %s", SECRETS[0])
        try:
            raise ValueError(f"bad token {SECRETS[1]}")
        except ValueError:
            logging.getLogger("test").exception("upstream failure")
    finally:
        setup.close()
    text = setup.log_file.read_text()
    assert "key rejected" in text and "upstream failure" in text
    for secret in SECRETS[:2]:
        assert secret not in text
    assert stat.S_IMODE(setup.log_file.stat().st_mode) == 0o600
    assert setup.log_file.parent == tmp_path / "logs"


def test_a_lone_surrogate_never_stops_a_line_being_written(tmp_path: Path) -> None:
    setup = setup_logging(tmp_path)
    try:
        logging.getLogger("test").warning("model %s refused", "bad\ud800name")
        logging.getLogger("test").warning("the next line")
    finally:
        setup.close()
    text = (tmp_path / "logs" / "quotagate.log").read_text(encoding="utf-8")
    assert "bad\\ud800name" in text and "the next line" in text


def test_files_made_by_rotation_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.logs

    monkeypatch.setattr(core.logs, "_MAX_BYTES", 300)
    setup = setup_logging(tmp_path)
    try:
        for i in range(40):
            logging.getLogger("test").warning("line %d %s", i, "x" * 80)
    finally:
        setup.close()
    files = sorted((tmp_path / "logs").iterdir())
    assert len(files) > 2
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
