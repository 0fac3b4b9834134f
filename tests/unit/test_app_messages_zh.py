"""Errors and reports a Chinese user meets outside the quota glance — a refused backup, a taken port, a bad
setting or endpoint, a connection test, the CLI — are Chinese and keep their specifics."""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from peewee import SqliteDatabase

from core import cli, i18n, paths, settings
from core.backup import BackupError, database
from core.gateway.accounts import Account, AccountError, AccountStore, CustomEndpoint
from core.gateway.checks import check_connection
from core.gateway.server import PortInUseError, bind_socket
from core.gateway.upstream import UpstreamClients
from core.net.host_map import HostMap, HostMapError
from core.secrets import SecretBox
from core.services import CoreServices
from core.store import Store, migrations
from desktop.display import display_unavailable_reason
from tests.conftest import free_port


pytestmark = pytest.mark.usefixtures("chinese_ui")


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


def test_a_port_that_is_not_a_number_is_refused_in_chinese() -> None:
    with pytest.raises(settings.SettingError) as refused:
        settings.parse_port("http", "--port")
    assert str(refused.value) == "--port：'http' 不是端口号（请使用 1-65535）。"


def test_a_malformed_host_map_names_the_entry_in_chinese() -> None:
    with pytest.raises(HostMapError) as refused:
        HostMap.parse("api.z.ai=ftp://mirror.example")
    assert str(refused.value) == "QUOTAGATE_HOST_MAP：'ftp://mirror.example' 不是 http:// 或 https:// 源地址。"


def test_a_store_from_a_newer_quotagate_is_refused_in_chinese(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "future.sqlite"))
    migrations.migrate(db)
    newer = migrations.LATEST_VERSION + 1
    db.execute_sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)", (newer,))
    with pytest.raises(migrations.SchemaTooNewError) as refused:
        migrations.migrate(db)
    db.close()
    assert str(refused.value).startswith(
        f"该数据库的架构版本为 {newer}，而当前 Quotagate 最高只支持 {migrations.LATEST_VERSION}。")


def test_an_invalid_custom_endpoint_is_refused_in_chinese(data_dir: Path) -> None:
    store = Store.open(paths.ensure_private_dir(data_dir))
    try:
        accounts = AccountStore(SecretBox.for_data_folder(data_dir))
        with pytest.raises(AccountError) as refused:
            accounts.create_endpoint("lab", "Lab", "http://127.0.0.1:8000/v1", api_format="grpc")
        assert str(refused.value) == "`apiType` 必须是以下之一：openai, anthropic, gemini, responses, ollama"
        with pytest.raises(AccountError) as refused:
            accounts.create_endpoint("lab", "  ", "http://127.0.0.1:8000/v1")
        assert str(refused.value) == "`name` 必须是非空字符串"
    finally:
        store.close()


@pytest.fixture
async def clients() -> AsyncIterator[UpstreamClients]:
    pool = UpstreamClients()
    yield pool
    await pool.aclose()


async def test_connection_tests_report_in_chinese(clients: UpstreamClients, upstream, openai_via_fake) -> None:
    working = await check_connection(Account(1, "openai", "work", "sk-ok"), clients)
    assert re.fullmatch(r"已连接，耗时 \d+ ms，有 1 个可用模型。", working.message)
    rejected = await check_connection(Account(1, "openai", "work", "sk-status-401"), clients)
    assert rejected.message.startswith("服务商拒绝了该 API 密钥（HTTP 401）")
    keyless = await check_connection(Account(1, "openai", "work", ""), clients)
    assert keyless.message == "work 还没有 API 密钥；请添加密钥后再测试。"


async def test_an_unreachable_endpoint_keeps_its_address_in_chinese(clients: UpstreamClients) -> None:
    endpoint = CustomEndpoint(1, "down", "Down", "http://127.0.0.1:9/v1", "openai", {}, None)
    result = await check_connection(endpoint, clients)
    assert result.message.startswith("无法连接 http://127.0.0.1:9/v1：")


async def test_an_address_the_gateway_cannot_listen_on_is_explained_in_chinese(data_dir: Path) -> None:
    store = Store.open(paths.ensure_private_dir(data_dir))
    store.set_setting(settings.KEY_LANGUAGE, "zh")
    store.close()
    services = CoreServices(data_dir, host="192.0.2.1", port=free_port())  # TEST-NET-1: never this machine's
    i18n.set_language("en")  # the stored setting, not this test's fixture, makes it Chinese
    try:
        state = await services.start()
    finally:
        await services.stop()
    assert not state.running
    assert state.error is not None and state.error.startswith(f"无法在 192.0.2.1:{state.port} 上监听：")


def test_the_backup_command_speaks_the_language_of_the_settings(data_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    store = Store.open(paths.ensure_private_dir(data_dir))
    store.set_setting(settings.KEY_LANGUAGE, "zh")
    store.close()
    i18n.set_language("en")
    assert cli.main(["backup", "list"]) == cli.EXIT_OK
    assert "还没有快照。" in capsys.readouterr().out
    assert cli.main(["backup", "create"]) == cli.EXIT_OK
    assert cli.main(["backup", "list"]) == cli.EXIT_OK
    listed = capsys.readouterr().out
    assert "0 个账户、0 个端点" in listed and "手动" in listed
    assert cli.main(["backup", "restore", "nope"]) == cli.EXIT_FAILED
    assert "恢复会替换整个数据库" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland checks")
def test_why_there_is_no_window_is_said_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DISPLAY", ":4711")
    assert display_unavailable_reason() == "X 显示 :4711 未运行"
