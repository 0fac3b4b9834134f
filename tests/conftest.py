"""Shared fixtures: every test gets its own data folder, HOME and config folder; Qt runs offscreen."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.fakes.fixtures"]


# The developer's own keys and tool folders must not leak into a test.
LEAKY_ENVIRONMENT = ("CODEX_HOME", "CLAUDE_CONFIG_DIR", "ZHIPU_API_KEY", "Z_AI_API_KEY", "GOOGLE_CLOUD_PROJECT",
                     "GOOGLE_CLOUD_PROJECT_ID", "QUOTAGATE_ANTIGRAVITY_CLIENT_ID",
                     "QUOTAGATE_ANTIGRAVITY_CLIENT_SECRET", "QUOTAGATE_GEMINI_CLIENT_ID",
                     "QUOTAGATE_GEMINI_CLIENT_SECRET", "QUOTAGATE_BACKUP_PASSPHRASE", "QUOTAGATE_DATA_DIR")
QUOTA_HOSTS = ("chatgpt.com", "api.anthropic.com", "bigmodel.cn", "api.z.ai", "oauth2.googleapis.com",
               "cloudcode-pa.googleapis.com", "api.github.com")
# Sign-in, token and subscription hosts (core/subscriptions, core/gateway/executors): a test that forgets its fake
# must fail on the dead port, never renew a real token.
SIGN_IN_HOSTS = ("claude.ai", "console.anthropic.com", "auth.openai.com", "github.com", "accounts.google.com",
                 "www.googleapis.com", "api.githubcopilot.com", "daily-cloudcode-pa.sandbox.googleapis.com")


def external_hosts() -> list[str]:
    """Every internet host the program knows: the quota services and the catalogue's providers."""
    from urllib.parse import urlsplit

    from core.providers import catalog

    hosts = set(QUOTA_HOSTS) | set(SIGN_IN_HOSTS)
    for provider in catalog.providers():
        for url in (provider.base_url, provider.openai_base_url):
            host = urlsplit(url).hostname if url else None
            if host and host not in ("127.0.0.1", "localhost"):
                hosts.add(host)
    return sorted(hosts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on `port` now (with SO_REUSEADDR, as servers bind: connections
    still closing in TIME_WAIT don't count, a listener does)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing a test does may touch the real user's files or settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("QUOTAGATE_KEYRING", "off")  # the master key goes to a file in the test data dir
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("QUOTAGATE_PORT", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # English, whatever the machine's locale
    i18n.set_language(None)
    for name in LEAKY_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # A safety net: any request a test forgets to point at a fake fails on loopback instead of leaving
    # the machine. Tests that need a host set QUOTAGATE_HOST_MAP themselves, replacing this.
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(f"{host}=http://127.0.0.1:9" for host in external_hosts()))
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return home


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC for one test (days start at UTC midnight), whatever the machine's zone."""
    yield from local_zone(monkeypatch, "UTC")


def local_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> Iterator[None]:
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def chinese_ui(isolated_environment: Path) -> Iterator[None]:
    """The program speaks Chinese for one test; the next one starts in English again."""
    i18n.set_language("zh")
    yield
    i18n.set_language(None)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("QUOTAGATE_DATA_DIR", str(folder))
    return folder
