"""The tray glance: a section per account with a row per window, errors inline, the icon and tooltip drawn
from the tightest quota, countdowns that move without refetching."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.quota.model import QuotaSnapshot, QuotaWindow
from core.services import GatewayState
from desktop.tray import TrayController

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def claude(remaining_session: float = 62.0, stale: bool = False) -> QuotaSnapshot:
    return QuotaSnapshot(
        "claude", "code", "jane@example.com", plan="Max", fetched_at=NOW - timedelta(minutes=12 if stale else 0),
        stale=stale, error="Could not reach Claude (timed out). Will retry." if stale else None,
        windows=(
            QuotaWindow.from_remaining("five_hour", "Session", remaining_session, window_seconds=5 * 3600,
                                       resets_at=NOW + timedelta(hours=2, minutes=14)),
            QuotaWindow.from_remaining("seven_day", "Weekly", 80.0, window_seconds=7 * 86400,
                                       resets_at=NOW + timedelta(days=3, hours=4)),
        ))


def zai_error() -> QuotaSnapshot:
    return QuotaSnapshot.failure("zai", "k1", "zai-…cdef", "auth",
                                 "Z.ai rejected the sign-in from OpenCode (HTTP 401). Sign in again: run "
                                 "`opencode auth login`.", now=NOW)


@pytest.fixture
def tray(qapp):
    controller = TrayController(GatewayState("127.0.0.1", 20128, running=True))
    yield controller
    controller.dispose()


def texts(tray: TrayController) -> list[str]:
    return [a.text() for a in tray.menu.actions() if not a.isSeparator()]


def test_each_account_gets_a_title_and_a_row_per_window(tray) -> None:
    tray.show_quota([claude()], now=NOW)
    assert texts(tray)[:3] == [
        "Claude · jane@example.com · Max",
        "Session: 62 % left · resets in 2h 14m · 17 % in reserve",  # 55 % of the window gone, 38 % used
        "Weekly: 80 % left · resets in 3d 4h · 35 % in reserve",
    ]
    assert all(not a.icon().isNull() for a in tray.quota_actions[1:3])


def test_errors_are_shown_inline_after_the_working_accounts(tray) -> None:
    tray.show_quota([zai_error(), claude()], now=NOW)
    rows = texts(tray)
    assert rows.index("Z.ai · zai-…cdef") > rows.index("Claude · jane@example.com · Max")
    error_row = next(a for a in tray.quota_actions if a.text().startswith("⚠"))
    assert "Sign in again" in error_row.toolTip() and not error_row.isEnabled()


def test_stale_data_is_marked_with_its_age(tray) -> None:
    tray.show_quota([claude(stale=True)], now=NOW)
    assert texts(tray)[0] == "Claude · jane@example.com · Max (stale, 12m old)"


def test_hiding_personal_information_masks_the_email(tray) -> None:
    tray.show_quota([claude()], hide_personal=True, now=NOW)
    assert texts(tray)[0] == "Claude · j…e@example.com · Max"


def test_countdowns_move_on_without_a_refetch(tray) -> None:
    tray.show_quota([claude()], now=NOW)
    tray.tick(now=NOW + timedelta(minutes=30))
    assert "resets in 1h 44m" in texts(tray)[1]


def test_the_tooltip_has_a_line_per_provider(tray) -> None:
    tray.show_quota([claude(remaining_session=15.0), zai_error()], now=NOW)
    lines = tray.icon.toolTip().splitlines()
    assert lines[0] == "Quotagate"
    assert lines[1].startswith("Claude: Session 15 % left")
    assert lines[2] == "Z.ai: error — see the menu"
    assert lines[-1] == "Gateway on 127.0.0.1:20128"


def test_the_icon_is_drawn_from_the_tightest_window(tray) -> None:
    tray.show_quota([], now=NOW)
    plain = tray.icon.icon().pixmap(32, 32).toImage()
    tray.show_quota([claude(remaining_session=15.0)], now=NOW)
    low = tray.icon.icon().pixmap(32, 32).toImage()
    tray.show_quota([claude(remaining_session=90.0)], now=NOW)
    high = tray.icon.icon().pixmap(32, 32).toImage()
    assert low != plain and low != high


def test_with_nothing_configured_the_menu_says_how_to_start(tray) -> None:
    tray.show_quota([], now=NOW)
    assert texts(tray)[0] == "No subscriptions found yet"


def test_the_commands_stay_after_rebuilds(tray) -> None:
    tray.show_quota([claude()], now=NOW)
    tray.show_quota([claude(), zai_error()], now=NOW)
    assert texts(tray)[-5:] == ["Refresh now", "Back up now", "Restore…", "Settings…", "Quit"]
