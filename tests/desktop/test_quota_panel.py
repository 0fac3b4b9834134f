"""The quota panel a left click opens: a card per account with a bar per window, countdowns that tick in
place (the same widgets, new texts), a one-line error with details in its tooltip, hidden identities, a
height that fits the screen (scrolling beyond it), Esc to close, Tab through cards and buttons, placement
next to the tray icon, and colours from the palette."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from core.quota.cards import account_card
from core.quota.model import QuotaSnapshot, QuotaWindow
from core.quota.order import display_order
from desktop.quota_panel import SCREEN_MARGIN, QuotaPanel, anchored_position

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
THRESHOLDS = (50.0, 20.0)


def claude(session: float = 62.0, account: str = "jane@example.com", key: str = "code") -> QuotaSnapshot:
    return QuotaSnapshot("claude", key, account, plan="Max", fetched_at=NOW - timedelta(minutes=2), windows=(
        QuotaWindow.from_remaining("five_hour", "Session", session, window_seconds=5 * 3600,
                                   resets_at=NOW + timedelta(hours=2, minutes=14)),
        QuotaWindow.from_remaining("seven_day", "Weekly", 15.0, window_seconds=7 * 86400,
                                   resets_at=NOW + timedelta(days=3, hours=4)),
    ))


def zai_failed() -> QuotaSnapshot:
    return QuotaSnapshot.failure("zai", "k1", "zai-…cdef", "auth",
                                 "Z.ai rejected the sign-in from OpenCode (HTTP 401). Sign in again: run "
                                 "`opencode auth login`.", now=NOW)


def cards(snapshots: list[QuotaSnapshot], now: datetime = NOW, hide_personal: bool = False):
    return [account_card(s, THRESHOLDS, now, hide_personal) for s in display_order(snapshots)]


@pytest.fixture
def panel(qapp, qtbot):
    widget = QuotaPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.hide()


def test_a_card_per_account_with_a_bar_per_window(panel) -> None:
    panel.show_cards(cards([zai_failed(), claude()]), NOW)
    shown = panel.card_widgets()
    assert [c.provider.text() for c in shown] == ["Claude", "Z.ai"]
    first = shown[0]
    assert (first.identity.text(), first.plan.text()) == ("jane@example.com", "Max")
    rows = list(first.rows.values())
    assert [(r.label.text(), r.left.text()) for r in rows] == [("Session", "62 % left"), ("Weekly", "15 % left")]
    assert [(r.bar.remaining, r.bar.level) for r in rows] == [(62.0, "ok"), (15.0, "critical")]
    assert rows[0].details.text() == "resets in 2h 14m · 17 % in reserve"
    assert first.updated.text() == "updated 2 min ago"


def test_a_reset_more_than_two_days_away_is_a_date(panel) -> None:
    panel.show_cards(cards([claude()]), NOW)
    weekly = panel.card_widgets()[0].rows["seven_day"]
    local = (NOW + timedelta(days=3, hours=4)).astimezone()
    assert weekly.details.text().startswith(f"resets {local.strftime('%b %d, %H:%M')} · ")


def test_a_tick_changes_texts_in_the_same_widgets(panel) -> None:
    panel.show_cards(cards([claude(), zai_failed()]), NOW)
    card = panel.card_widgets()[0]
    row, bar, details = card.rows["five_hour"], card.rows["five_hour"].bar, card.rows["five_hour"].details
    later = NOW + timedelta(minutes=30)
    panel.show_cards(cards([claude(session=40.0), zai_failed()], now=later), later)
    assert panel.card_widgets()[0] is card
    assert card.rows["five_hour"] is row and row.bar is bar and row.details is details
    assert details.text().startswith("resets in 1h 44m · ")
    assert (row.left.text(), bar.remaining) == ("40 % left", 40.0)
    assert card.updated.text() == "updated 32 min ago"


def test_accounts_that_come_and_go_keep_the_others_widgets(panel) -> None:
    panel.show_cards(cards([zai_failed()]), NOW)
    zai = panel.card_widgets()[0]
    panel.show_cards(cards([zai_failed(), claude()]), NOW)
    assert [c.provider.text() for c in panel.card_widgets()] == ["Claude", "Z.ai"]
    assert panel.card_widgets()[1] is zai
    panel.show_cards(cards([zai_failed()]), NOW)
    assert panel.card_widgets() == [zai]


def test_an_error_is_one_line_with_the_details_in_its_tooltip(panel) -> None:
    panel.show_cards(cards([zai_failed()]), NOW)
    card = panel.card_widgets()[0]
    assert card.error.text() == "⚠ sign-in rejected"
    assert card.error.toolTip().startswith("Z.ai rejected the sign-in from OpenCode (HTTP 401). Sign in again")
    assert card.rows == {}


def test_stale_numbers_say_the_refresh_failed(panel) -> None:
    stale = claude()
    stale = QuotaSnapshot(stale.provider, stale.account_key, stale.account, stale.plan, stale.windows,
                          NOW - timedelta(minutes=20), "Could not reach Claude (timed out).", "timeout", stale=True)
    panel.show_cards(cards([stale]), NOW)
    card = panel.card_widgets()[0]
    assert card.error.text() == "⚠ could not refresh: no answer in time"
    assert card.rows["five_hour"].left.text() == "62 % left"
    assert card.updated.text() == "updated 20 min ago"


def test_hidden_personal_information_masks_the_identity(panel) -> None:
    panel.show_cards(cards([claude()], hide_personal=True), NOW)
    card = panel.card_widgets()[0]
    assert card.identity.text() == "j…e@example.com"
    assert "jane" not in card.accessibleName()


def test_with_no_accounts_it_says_how_to_start(panel) -> None:
    panel.show_cards([], NOW)
    assert not panel.empty.isHidden() and panel.empty.text().startswith("No subscriptions found yet")
    panel.show_cards(cards([claude()]), NOW)
    assert panel.empty.isHidden()


def test_many_accounts_fit_the_screen_and_scroll(panel) -> None:
    many = [claude(account=f"person{i}@example.com", key=f"k{i}") for i in range(12)]
    panel.show_cards(cards(many), NOW)
    panel.popup(None)
    area = QGuiApplication.primaryScreen().availableGeometry()
    assert panel.height() <= area.height() - 2 * SCREEN_MARGIN
    assert area.contains(panel.frameGeometry())
    assert panel.scroll.verticalScrollBar().maximum() > 0


def test_a_few_accounts_need_no_scrolling(panel) -> None:
    panel.show_cards(cards([claude()]), NOW)
    panel.popup(None)
    QApplication.processEvents()
    assert panel.scroll.verticalScrollBar().maximum() == 0
    assert panel.height() < 400


def test_escape_closes_it(panel, qtbot) -> None:
    panel.show_cards(cards([claude()]), NOW)
    panel.popup(None)
    assert panel.isVisible()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert not panel.isVisible()


def test_tab_goes_through_the_cards_then_the_buttons(panel) -> None:
    panel.show_cards(cards([claude(), zai_failed()]), NOW)
    panel.show_cards(cards([claude(), zai_failed(), claude(account="b@example.com", key="b")]), NOW)
    chain, widget = [panel.card_widgets()[0]], panel.card_widgets()[0]
    while len(chain) < 5:
        widget = widget.nextInFocusChain()
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisibleTo(panel):
            chain.append(widget)
    assert chain == [*panel.card_widgets(), panel.refresh_button, panel.settings_button]
    assert all(c.focusPolicy() == Qt.FocusPolicy.StrongFocus for c in panel.card_widgets())


def test_refresh_and_settings_buttons(panel, qtbot) -> None:
    panel.popup(None)
    with qtbot.waitSignal(panel.refresh_requested, timeout=1000):
        panel.refresh_button.click()
    panel.set_refreshing(True)
    assert not panel.refresh_button.isEnabled() and panel.refresh_button.text() == "Refreshing…"
    panel.set_refreshing(False)
    with qtbot.waitSignal(panel.settings_requested, timeout=1000):
        panel.settings_button.click()
    assert not panel.isVisible()


def _background_lightness(panel: QuotaPanel) -> int:
    card = panel.card_widgets()[0]
    image = panel.grab().toImage()
    point = card.mapTo(panel, QPoint(card.width() - 6, card.height() // 2))
    return QColor(image.pixel(point)).lightness()


def test_it_follows_light_and_dark_palettes(panel) -> None:
    panel.show_cards(cards([claude()]), NOW)
    panel.popup(None)
    light = QPalette(QColor("#f3f3f3"))
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    panel.setPalette(light)
    assert _background_lightness(panel) > 200
    dark = QPalette(QColor("#2b2b2b"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#eeeeee"))
    panel.setPalette(dark)
    assert _background_lightness(panel) < 60


AREA = QRect(0, 0, 1280, 800)


def test_it_opens_below_an_icon_on_a_top_panel_inside_the_screen() -> None:
    position = anchored_position(QSize(360, 500), QRect(1250, 0, 24, 24), None, AREA)
    assert position == QPoint(1280 - SCREEN_MARGIN - 360, 24 + 4)


def test_it_opens_above_an_icon_on_a_bottom_panel() -> None:
    position = anchored_position(QSize(360, 500), QRect(600, 776, 24, 24), None, AREA)
    assert position == QPoint(611 - 180, 776 - 4 - 500)  # centred on the icon


def test_without_an_icon_position_it_opens_at_the_cursor_or_the_top_right() -> None:
    assert anchored_position(QSize(360, 500), QRect(), QPoint(100, 100), AREA) == QPoint(SCREEN_MARGIN, 101 + 4)
    assert anchored_position(QSize(360, 500), None, None, AREA) == QPoint(1280 - SCREEN_MARGIN - 360, SCREEN_MARGIN)


def test_a_left_click_on_the_tray_opens_the_panel_as_a_popup(make_desktop, qloop) -> None:
    desktop = make_desktop(tray_available=True)
    qloop.run_until_complete(desktop.start())
    from PySide6.QtWidgets import QSystemTrayIcon

    desktop.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    panel = desktop.quota_glance.panel
    assert panel.isVisible() and panel.windowType() == Qt.WindowType.Popup
    panel.settings_button.click()
    assert not panel.isVisible() and desktop.window.isVisible()


def test_without_a_tray_the_panel_is_offered_once_as_a_small_window_on_top(make_desktop, qloop, qtbot) -> None:
    from desktop.app import PANEL_LINK

    desktop = make_desktop(tray_available=False)
    qloop.run_until_complete(desktop.start())
    notice = desktop.window.notice
    assert notice.text().count(PANEL_LINK) == 1
    notice.linkActivated.emit(PANEL_LINK)  # the user follows the link
    panel = desktop.quota_glance.panel
    assert panel.isVisible() and panel.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert panel.windowType() == Qt.WindowType.Window
    assert not desktop.window.isVisible()
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    assert not panel.isVisible() and desktop.window.isVisible()  # never nothing on screen


def test_a_failure_without_numbers_says_when_it_was_tried_not_updated(panel) -> None:
    panel.show_cards(cards([zai_failed()], now=NOW + timedelta(minutes=3)), NOW + timedelta(minutes=3))
    assert panel.card_widgets()[0].updated.text() == "tried 3 min ago"


def test_clicking_the_icon_of_an_open_panel_closes_it(make_desktop, qloop, qtbot) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    desktop = make_desktop(tray_available=True)
    qloop.run_until_complete(desktop.start())
    panel, click = desktop.quota_glance.panel, desktop.tray.icon.activated
    click.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert panel.isVisible()
    panel.hide()  # what a popup does on the press outside it, before the tray reports the click
    click.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert not panel.isVisible()
    qtbot.wait(400)
    click.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert panel.isVisible()


def test_the_screenshot_command_renders_the_panel_in_both_languages(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from PySide6.QtGui import QImage

    script = Path(__file__).resolve().parents[2] / "scripts" / "screenshots"
    done = subprocess.run([sys.executable, str(script), "panel", "--out", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["panel-en-dark.png", "panel-en-light.png", "panel-zh-dark.png", "panel-zh-light.png"]
    image = QImage(str(tmp_path / "panel-zh-light.png"))
    assert image.width() == 360 and 200 < image.height() <= 800
