"""Quota notifications end to end: the real engine polls a fake Z.ai on loopback for a key stored in
Quotagate; thresholds crossing down notify once, recovery re-arms, and a restart does not repeat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.services import CoreServices
from desktop.quota_glance import QuotaGlance
from desktop.tray import TrayController
from tests.conftest import QUOTA_HOSTS
from tests.quota.fakes import FakeServer

LIMITS = "/api/monitor/usage/quota/limit"


def zai_body(used_percent: float) -> dict:
    reset_ms = int((time.time() + 3 * 3600) * 1000)
    return {"code": 200, "msg": "ok", "success": True, "data": {"limits": [
        {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": used_percent, "nextResetTime": reset_ms}]}}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    server = FakeServer().start()
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(f"{h}={server.url}" for h in QUOTA_HOSTS))
    yield server
    server.stop()


class Running:
    """Services + tray + glance on the session's qasync loop, restartable on the same data folder."""

    def __init__(self, qloop, data_dir: Path) -> None:
        self.qloop, self.data_dir = qloop, data_dir
        self.notices: list[tuple[str, str]] = []

    def start(self) -> None:
        self.services = CoreServices(self.data_dir, port=0)
        self.qloop.run_until_complete(self.services.start())
        self.tray = TrayController(self.services.gateway_state)
        self.glance = QuotaGlance(self.services, self.tray)
        self.glance.notified.connect(lambda title, message: self.notices.append((title, message)))
        self.qloop.run_until_complete(self.glance.apply_settings())

    def add_zai_key(self) -> None:
        self.services.accounts.create_account("zai", "Work", "zai-key-0123456789abcdef")
        self.qloop.run_until_complete(self.services.reload_gateway_config())

    def refresh(self) -> None:
        self.qloop.run_until_complete(self.services.quota.refresh_now())
        self.qloop.run_until_complete(_settle())

    def stop(self) -> None:
        self.glance.stop()
        self.qloop.run_until_complete(self.services.stop())
        self.tray.dispose()


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(0.05)  # let the notifier's state reach the store


@pytest.fixture
def app(qloop, data_dir: Path, fake: FakeServer):
    running = Running(qloop, data_dir)
    running.start()
    yield running
    if running.services.store is not None:
        running.stop()


def titles(app: Running) -> list[str]:
    return [title for title, _ in app.notices]


def test_falling_past_a_threshold_notifies_once(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(40))
    app.add_zai_key()
    app.refresh()
    assert app.notices == []
    fake.reply("GET", LIMITS, json=zai_body(55))
    app.refresh()
    app.refresh()
    assert app.notices == [("Z.ai Tokens · 5-hour: 45 % left", "Resets in 2h 59m.")]


def test_falling_past_two_thresholds_at_once_is_one_notice(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(90))
    app.add_zai_key()
    app.refresh()
    assert [title for title, _ in app.notices] == ["Z.ai Tokens · 5-hour: 10 % left"]


def test_recovery_re_arms_the_threshold(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(85))
    app.add_zai_key()
    app.refresh()
    fake.reply("GET", LIMITS, json=zai_body(10))  # the window reset
    app.refresh()
    fake.reply("GET", LIMITS, json=zai_body(85))
    app.refresh()
    assert len(app.notices) == 2


def test_depleted_and_restored_are_announced(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(100))
    app.add_zai_key()
    app.refresh()
    fake.reply("GET", LIMITS, json=zai_body(5))
    app.refresh()
    assert app.notices == [("Z.ai Tokens · 5-hour is used up", "Resets in 2h 59m."),
                           ("Z.ai Tokens · 5-hour is available again", "95 % left.")]


def test_a_restart_does_not_repeat_a_notice(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(85))
    app.add_zai_key()
    app.refresh()
    assert len(app.notices) == 1
    app.stop()
    app.start()
    app.refresh()
    assert len(app.notices) == 1


def test_the_tray_menu_shows_the_stored_account(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(30))
    app.add_zai_key()
    app.refresh()
    texts = [a.text() for a in app.tray.quota_actions]
    assert texts[0].startswith("Z.ai · ")
    assert any("70 % left · resets in 2h" in t for t in texts)


def test_a_hidden_provider_leaves_the_menu(app: Running, fake: FakeServer) -> None:
    from core import settings

    fake.reply("GET", LIMITS, json=zai_body(30))
    app.add_zai_key()
    app.refresh()
    app.services.store.set_setting(settings.KEY_QUOTA_HIDDEN, ["zai"])
    app.qloop.run_until_complete(app.glance.apply_settings())
    assert [a.text() for a in app.tray.quota_actions] == ["No subscriptions found yet"]
