"""The tray menu: one summary row per account (its tightest window), accounts in the one shared order, the
icon and tooltip drawn from the tightest quota, and rows changed in place — never rebuilt — so that an open
menu keeps its highlight through ticks and refreshes and stays on the screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtGui import QGuiApplication

from core.quota.model import QuotaSnapshot, QuotaWindow
from core.quota.order import display_order
from core.services import GatewayState
from desktop.tray import TrayController

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def claude(remaining_session: float = 62.0, stale: bool = False, account: str = "jane@example.com",
           key: str = "code") -> QuotaSnapshot:
    return QuotaSnapshot(
        "claude", key, account, plan="Max", fetched_at=NOW - timedelta(minutes=12 if stale else 0),
        stale=stale, error="Could not reach Claude (timed out). Will retry." if stale else None,
        error_kind="timeout" if stale else None,
        windows=(
            QuotaWindow.from_remaining("five_hour", "Session", remaining_session, window_seconds=5 * 3600,
                                       resets_at=NOW + timedelta(hours=2, minutes=14)),
            QuotaWindow.from_remaining("seven_day", "Weekly", 80.0, window_seconds=7 * 86400,
                                       resets_at=NOW + timedelta(days=3, hours=4)),
        ))


def codex(remaining: float = 90.0) -> QuotaSnapshot:
    return QuotaSnapshot("openai", "acct", "sam@example.com", plan="Plus", fetched_at=NOW, windows=(
        QuotaWindow.from_remaining("primary", "Session", remaining, window_seconds=5 * 3600,
                                   resets_at=NOW + timedelta(hours=1)),))


def zai_error() -> QuotaSnapshot:
    return QuotaSnapshot.failure("zai", "k1", "zai-…cdef", "auth",
                                 "Z.ai rejected the sign-in from OpenCode (HTTP 401). Sign in again: run "
                                 "`opencode auth login`.", now=NOW)


@pytest.fixture
def tray(qapp):
    controller = TrayController(GatewayState("127.0.0.1", 20128, running=True))
    yield controller
    controller.menu.hide()
    controller.dispose()


def rows(tray: TrayController) -> list[str]:
    return [a.text() for a in tray.quota_actions]


def test_each_account_is_one_row_with_its_tightest_window(tray) -> None:
    tray.show_quota([claude(remaining_session=62.0)], now=NOW)
    assert rows(tray) == ["Claude · Max\tSession 62 % left · 2h 14m"]
    assert not tray.quota_actions[0].icon().isNull()
    assert tray.quota_actions[0].isEnabled()  # a row opens the panel: not a grey header


def test_a_row_tooltip_has_every_window_and_the_error(tray) -> None:
    tray.show_quota([claude(stale=True)], now=NOW)
    tooltip = tray.quota_actions[0].toolTip().splitlines()
    assert tooltip[1] == "Session: 62 % left · resets in 2h 14m · 17 % in reserve"
    assert tooltip[2].startswith("Weekly: 80 % left · resets in 3d 4h")
    assert tooltip[3:] == ["stale, 12m old", "Could not reach Claude (timed out). Will retry."]


def test_a_row_tooltip_says_when_the_numbers_were_read(tray) -> None:
    tray.show_quota([claude()], now=NOW + timedelta(minutes=5))
    assert tray.quota_actions[0].toolTip().splitlines()[-1] == "updated 5 min ago"


def test_an_error_is_one_short_phrase_in_the_row_with_details_in_the_tooltip(tray) -> None:
    tray.show_quota([zai_error()], now=NOW)
    assert rows(tray) == ["Z.ai\t⚠ sign-in rejected"]
    assert "Sign in again" in tray.quota_actions[0].toolTip()


def test_accounts_follow_the_shared_order_whatever_their_state(tray) -> None:
    snapshots = [zai_error(), claude(), codex()]
    tray.show_quota(snapshots, now=NOW)
    expected = [s.key for s in display_order(snapshots)]
    assert [r.split("\t")[0].split(" · ")[0] for r in rows(tray)] == ["ChatGPT / Codex", "Claude", "Z.ai"]
    assert expected == ["openai/acct", "claude/code", "zai/k1"]


def test_stale_data_is_marked_in_the_row(tray) -> None:
    tray.show_quota([claude(stale=True)], now=NOW)
    assert rows(tray)[0].endswith("· ⚠")


def test_the_identity_is_named_where_a_provider_has_several_accounts(tray) -> None:
    tray.show_quota([claude(), claude(account="bob@example.com", key="bob"), codex()], now=NOW)
    assert [r.split("\t")[0] for r in rows(tray)] == [
        "ChatGPT / Codex · Plus", "Claude · bob@example.com · Max", "Claude · jane@example.com · Max"]
    assert tray.quota_actions[0].toolTip().startswith("ChatGPT / Codex · sam@example.com · Plus\n")


def test_hiding_personal_information_masks_the_email(tray) -> None:
    tray.show_quota([claude(), claude(account="bob@example.com", key="bob")], hide_personal=True, now=NOW)
    assert [r.split("\t")[0] for r in rows(tray)] == ["Claude · b…b@example.com · Max", "Claude · j…e@example.com · Max"]
    assert all("jane@" not in a.toolTip() and "bob@" not in a.toolTip() for a in tray.quota_actions)


def test_countdowns_move_on_without_a_refetch(tray) -> None:
    tray.show_quota([claude()], now=NOW)
    tray.tick(now=NOW + timedelta(minutes=30))
    assert rows(tray)[0].endswith("Session 62 % left · 1h 44m")


def test_rows_are_changed_in_place_and_the_highlight_survives_a_refresh(tray) -> None:
    tray.show_quota([claude(), zai_error()], now=NOW)
    tray.menu.popup(QGuiApplication.primaryScreen().availableGeometry().center())
    highlighted = tray.quota_actions[0]
    tray.menu.setActiveAction(highlighted)
    before = list(tray.menu.actions())
    tray.show_quota([claude(remaining_session=40.0), zai_error()], now=NOW + timedelta(minutes=1))
    tray.tick(now=NOW + timedelta(minutes=2))
    assert tray.menu.activeAction() is highlighted
    assert tray.menu.actions() == before  # the very same QAction objects, in the same places
    assert "Session 40 % left" in highlighted.text()


def test_a_new_account_is_inserted_in_order_without_losing_the_highlight(tray) -> None:
    tray.show_quota([claude(), zai_error()], now=NOW)
    tray.menu.popup(QGuiApplication.primaryScreen().availableGeometry().center())
    highlighted = tray.quota_actions[1]  # Z.ai
    tray.menu.setActiveAction(highlighted)
    tray.show_quota([claude(), zai_error(), codex()], now=NOW)
    assert [r.split("\t")[0].split(" · ")[0] for r in rows(tray)] == ["ChatGPT / Codex", "Claude", "Z.ai"]
    assert tray.menu.activeAction() is highlighted


def test_a_vanished_account_leaves_the_menu(tray) -> None:
    tray.show_quota([claude(), zai_error()], now=NOW)
    tray.show_quota([claude()], now=NOW)
    assert [r.split("\t")[0].split(" · ")[0] for r in rows(tray)] == ["Claude"]


def test_an_open_menu_that_grows_stays_on_the_screen(tray) -> None:
    area = QGuiApplication.primaryScreen().availableGeometry()
    tray.show_quota([claude()], now=NOW)
    tray.menu.popup(area.bottomRight())  # opened in the corner, as from a tray at the bottom right
    long_names = [claude(account=f"someone.with.a.long.name{i}@a-rather-long-company-domain.example", key=f"k{i}")
                  for i in range(6)]
    tray.show_quota([claude(), *long_names], now=NOW)
    assert area.contains(tray.menu.frameGeometry())


def test_long_identities_keep_the_menu_narrow(tray) -> None:
    tray.show_quota([claude(account="x" * 200 + "@example.com"), claude(account="y" * 200 + "@example.com", key="y")],
                    now=NOW)
    assert rows(tray)[0].split("\t")[0] == "Claude · xxxxxxxxxxxxx…x@example.com · Max"  # shortened in the middle


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
    assert rows(tray) == ["No subscriptions found yet"]
    tray.show_quota([claude()], now=NOW)
    assert "No subscriptions found yet" not in rows(tray)


def test_a_left_click_asks_for_the_panel_and_a_row_does_too(tray, qtbot) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    tray.show_quota([claude()], now=NOW)
    with qtbot.waitSignal(tray.panel_requested, timeout=1000):
        tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    with qtbot.waitSignal(tray.panel_requested, timeout=1000):
        tray.quota_actions[0].trigger()


def test_the_commands_stay_after_updates(tray) -> None:
    tray.show_quota([claude()], now=NOW)
    tray.show_quota([claude(), zai_error()], now=NOW)
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator() and a.isVisible()]
    assert texts[-5:] == ["Refresh now", "Back up now", "Restore…", "Settings…", "Quit"]
