"""Errors a Chinese user meets outside the quota glance — a refused backup, a taken port — are Chinese and
keep their specifics."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n
from core.backup import BackupError, database
from core.gateway.server import PortInUseError, bind_socket


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def test_a_file_that_is_not_a_database_is_refused_in_chinese(tmp_path: Path) -> None:
    fake = tmp_path / "notes.sqlite"
    fake.write_text("just some notes")
    with pytest.raises(BackupError) as refused:
        database.check(fake)
    assert str(refused.value) == "这不是 Quotagate 备份：该文件不是 SQLite 数据库。"


def test_a_taken_port_is_explained_in_chinese_with_its_number() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(PortInUseError) as refused:
            bind_socket("127.0.0.1", port)
    finally:
        taken.close()
    assert str(refused.value).startswith(f"127.0.0.1 上的端口 {port} 已被其他程序占用。")
