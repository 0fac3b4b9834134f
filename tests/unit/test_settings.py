"""Where the gateway's port comes from, and which hosts count as loopback."""

from __future__ import annotations

import pytest

from core import settings


def test_command_line_port_beats_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_PORT", "20300")
    assert settings.resolve_port(20400, 20500) == 20400


def test_environment_port_beats_the_saved_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_PORT", "20300")
    assert settings.resolve_port(None, 20500) == 20300


def test_saved_setting_beats_the_default() -> None:
    assert settings.resolve_port(None, 20500) == 20500


def test_default_port_is_20128() -> None:
    assert settings.resolve_port(None, None) == 20128


def test_a_corrupt_saved_port_falls_back_to_the_default() -> None:
    assert settings.resolve_port(None, "not a port") == 20128


@pytest.mark.parametrize("value", ["abc", "70000", "-1", "20128.5"])
def test_an_unusable_environment_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("QUOTAGATE_PORT", value)
    with pytest.raises(settings.SettingError, match="QUOTAGATE_PORT"):
        settings.resolve_port(None, None)


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.5.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("192.168.1.10", False), ("::", False), ("example.com", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert settings.is_loopback_host(host) is loopback
