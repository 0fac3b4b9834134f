"""Quota notifications end to end: the real engine polls a fake Z.ai (and Zhipu) on loopback for keys stored
in Quotagate; thresholds crossing down notify once, recovery re-arms, a restart does not repeat, what
several accounts cross in one round (as at start) is one notification, and API keys stored for the gateway
alone (OpenAI) never reach the glance."""

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
        self.add_key("zai", "zai-key-0123456789abcdef")

    def add_key(self, provider: str, key: str) -> None:
        self.services.accounts.create_account(provider, "Work", key)
        self.qloop.run_until_complete(self.services.reload_gateway_config())

    def refresh(self) -> None:
        self.qloop.run_until_complete(self.services.quota.refresh_now())
        self.qloop.run_until_complete(_settle())

    def stop(self) -> None:
        self.glance.dispose()
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


def test_the_tray_menu_and_the_panel_show_the_stored_account(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", LIMITS, json=zai_body(30))
    app.add_zai_key()
    app.refresh()
    texts = [a.text() for a in app.tray.quota_actions]
    assert texts == ["Z.ai\tTokens · 5-hour 70 % left · 2h 59m"]
    card = app.glance.panel.card_widgets()[0]
    assert card.provider.text() == "Z.ai"
    assert [row.left.text() for row in card.rows.values()] == ["70 % left"]


def start_with_two_plans(app: Running, fake: FakeServer, zai_used: float, zhipu_used: float) -> None:
    """A first refresh with a Z.ai and a Zhipu coding plan, as at start."""
    fake.reply("GET", LIMITS, json=zai_body(zai_used), host="api.z.ai")
    fake.reply("GET", LIMITS, json=zai_body(zhipu_used), host="bigmodel.cn")
    app.add_key("zhipu", "zhipu-key-0123456789abcdef")
    app.add_zai_key()
    app.refresh()


def test_several_accounts_crossing_at_start_are_one_notification(app: Running, fake: FakeServer) -> None:
    start_with_two_plans(app, fake, zai_used=90, zhipu_used=60)
    assert app.notices == [("Z.ai Tokens · 5-hour: 10 % left",
                            "Resets in 2h 59m. Also: Zhipu Tokens · 5-hour: 40 % left.")]


def test_a_used_up_window_leads_the_start_up_notification(app: Running, fake: FakeServer) -> None:
    start_with_two_plans(app, fake, zai_used=60, zhipu_used=100)
    assert [title for title, _ in app.notices] == ["Zhipu Tokens · 5-hour is used up"]
    assert app.notices[0][1].endswith("Also: Z.ai Tokens · 5-hour: 40 % left.")


def test_a_gateway_api_key_is_not_a_subscription(app: Running, fake: FakeServer) -> None:
    fake.reply("GET", "/backend-api/wham/usage", status=401, json={"detail": "Unauthorized"})
    fake.reply("GET", LIMITS, json=zai_body(30))
    app.add_key("openai", "sk-proj-0123456789abcdefghijklmnop")
    app.add_key("gemini", "AIzaSy0123456789abcdefghijklmnopqrstu")
    app.add_zai_key()
    app.refresh()
    app.refresh()
    assert [s.provider for s in app.glance.snapshots()] == ["zai"]
    assert [c.provider.text() for c in app.glance.panel.card_widgets()] == ["Z.ai"]
    assert not [r for r in fake.requests if r.host in ("chatgpt.com", "cloudcode-pa.googleapis.com",
                                                        "oauth2.googleapis.com")]


def test_a_hidden_provider_leaves_the_menu(app: Running, fake: FakeServer) -> None:
    from core import settings

    fake.reply("GET", LIMITS, json=zai_body(30))
    app.add_zai_key()
    app.refresh()
    app.services.store.set_setting(settings.KEY_QUOTA_HIDDEN, ["zai"])
    app.qloop.run_until_complete(app.glance.apply_settings())
    assert [a.text() for a in app.tray.quota_actions] == ["No subscriptions found yet"]
