"""The settings window feels like one app: every page under the same heading at the same place, one way to
commit settings (Save / Revert with an unsaved hint), refusals shown beside the field without moving the
form, long actions that count their seconds and can be cancelled, % left and the tray's order of accounts."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QWidget

from core import settings
from core.i18n import tr
from core.quota.history import history_row
from core.quota.model import QuotaSnapshot, QuotaWindow
from core.quota.order import display_order
from core.store.models import QuotaSnapshotRow
from desktop.pages.quota_history import QuotaHistoryPage
from desktop.pages.quota_settings import QuotaSettingsPage
from desktop.widgets.feedback import StatusLabel
from desktop.widgets.format import plural
from desktop.widgets.long_action import LongAction
from desktop.widgets.page import PAGE_MARGINS
from desktop.widgets.tasks import PageTasks


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


@pytest.fixture
def desktop(make_desktop, qloop, qtbot):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.proxies_page.settle())
    window = app.window
    window.resize(1000, 680)
    window.show()
    qtbot.waitExposed(window)
    return app


def show(desktop, title: str) -> QWidget:
    desktop.window.show_page(title)
    QApplication.processEvents()
    return desktop.window.current_page()


def at(widget: QWidget, window: QWidget) -> QPoint:
    return widget.mapTo(window, QPoint(0, 0))


def fits(label: QLabel) -> bool:
    """All of the label's text is visible: it is as tall as its wrapped text needs."""
    return label.height() >= label.heightForWidth(label.width())


# -- the same heading and margins on every page ---------------------------------------------------------------

def test_every_page_has_its_title_as_heading_at_the_same_place(desktop) -> None:
    window = desktop.window
    places = {}
    for title, frame in zip(window.page_titles(), window.frames()):
        show(desktop, title)
        assert frame.heading.text() == title
        places[title] = (at(frame.heading, window), at(frame.page, window).x(), frame.page.layout().contentsMargins())
    headings = {point.x() for point, _x, _m in places.values()}
    tops = {point.y() for point, _x, _m in places.values()}
    contents = {x for _p, x, _m in places.values()}
    assert len(headings) == 1 and len(tops) == 1, places
    assert contents == headings  # every page's content starts where its heading does
    assert all(m.left() == m.top() == m.right() == m.bottom() == 0 for _p, _x, m in places.values())
    assert window.frames()[0].layout().contentsMargins().left() == PAGE_MARGINS[0]


def test_no_page_repeats_the_heading_the_window_gives_it(desktop) -> None:
    for title, frame in zip(desktop.window.page_titles(), desktop.window.frames()):
        repeats = [label for label in frame.page.findChildren(QLabel) if label.text() == title]
        assert not repeats, title


# -- one way to commit: Save / Revert, with the unsaved hint ---------------------------------------------------

def test_an_edit_shows_the_unsaved_hint_and_save_commits_it_through_the_configuration(desktop, qloop) -> None:
    page = show(desktop, "Proxies")
    nav = desktop.window.navigation.item(desktop.window.page_titles().index("Proxies"))
    assert not page.commit.save_button.isEnabled() and page.commit.status.isHidden()
    page.global_field.address.setText("http://127.0.0.1:3128")
    assert page.commit.dirty and page.commit.status.text() == "Unsaved changes."
    assert page.commit.save_button.isEnabled() and page.commit.revert_button.isEnabled()
    assert nav.text() == "Proxies •"
    page.commit.save_button.click()
    run(qloop, page.commit.save_task)
    assert desktop.services.store.get_setting(settings.KEY_PROXY) == {"global": "http://127.0.0.1:3128",
                                                                     "providers": {}}
    assert not page.commit.dirty and page.commit.status.kind == "ok"
    assert page.commit.status.text() == "Saved. New requests use these proxies."  # one line, replaced
    assert nav.text() == "Proxies" and not page.commit.save_button.isEnabled()


def test_revert_puts_back_what_is_saved(desktop, qloop) -> None:
    page = show(desktop, "Quota")
    before = page.thresholds.text()
    page.thresholds.setText("70, 30")
    page.interval.setValue(page.interval.value() + 3)
    assert page.commit.dirty
    page.commit.revert_button.click()
    assert page.thresholds.text() == before and not page.commit.dirty and page.commit.status.isHidden()
    assert desktop.services.store.get_setting(settings.KEY_QUOTA_THRESHOLDS) is None  # nothing was written


def test_editing_back_to_the_saved_value_is_not_a_change(desktop) -> None:
    page = show(desktop, "API keys")
    page.require_box.setChecked(True)
    assert page.commit.dirty
    page.require_box.setChecked(False)
    assert not page.commit.dirty and not page.commit.save_button.isEnabled()


# -- validation: once in the core, shown beside the field, focus there, nothing moves ---------------------------

def test_a_refused_proxy_is_shown_under_its_field_with_the_focus_there_and_nothing_moves(desktop, qloop,
                                                                                          qtbot) -> None:
    page = show(desktop, "Proxies")
    window = desktop.window
    below = [page.table, page.override_result.parentWidget(), page.commit.save_button]
    before = [at(widget, window) for widget in below]
    error_box = page.global_field.error.geometry()
    page.global_field.address.setText("ftp://127.0.0.1:21")
    page.commit.save_button.setFocus()
    page.commit.save_button.click()
    assert not run(qloop, page.commit.save_task)
    QApplication.processEvents()
    error = page.global_field.error
    assert error.text().startswith("'ftp://' proxies are not supported")
    assert page.commit.status.text() == "Not saved: see the message under the field."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.global_field.address)
    assert [at(widget, window) for widget in below] == before and error.geometry() == error_box
    assert fits(error)
    assert desktop.services.store.get_setting(settings.KEY_PROXY) is None
    page.global_field.address.setText("ftp://127.0.0.1:2")  # editing the field clears its message
    assert error.text() == "" and page.commit.status.text() == "Unsaved changes."


def test_a_refused_threshold_is_shown_under_its_field_by_the_settings_rule(desktop, qloop, qtbot) -> None:
    page = show(desktop, "Quota")
    window = desktop.window
    before = at(page.language, window)
    page.thresholds.setText("50, lots")
    assert not run(qloop, page.save())
    assert page.thresholds_error.text() == "Notify below (% left): “lots” is not a number."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.thresholds)
    assert at(page.language, window) == before and fits(page.thresholds_error)


def test_a_proxy_without_a_scheme_is_saved_as_http_and_shown_so(desktop, qloop) -> None:
    page = show(desktop, "Proxies")
    page.global_field.address.setText("localhost:3128")
    assert run(qloop, page.save())
    assert desktop.services.store.get_setting(settings.KEY_PROXY)["global"] == "http://localhost:3128"
    assert page.global_field.address.text() == "http://localhost:3128" and not page.commit.dirty


def test_a_port_the_gateway_cannot_take_is_shown_under_the_port(desktop, qloop, qtbot) -> None:
    page = show(desktop, "General")
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        page.port_input.setValue(other_program.getsockname()[1])
        assert not run(qloop, page.commit.save())
    assert page.port_error.text().startswith("Port ") and fits(page.port_error)
    qtbot.waitUntil(lambda: page.port_input.hasFocus())


# -- long actions: elapsed time and Cancel -------------------------------------------------------------------

@pytest.fixture
def silent_server():
    """A proxy that accepts connections and never answers: a dead endpoint."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_testing_a_dead_proxy_counts_the_seconds_and_cancel_stops_it(desktop, qloop, silent_server) -> None:
    page = show(desktop, "Proxies")
    page.global_field.address.setText(f"127.0.0.1:{silent_server}")

    async def test_then_cancel() -> None:
        task = page.test_global()
        await asyncio.sleep(0.35)
        text = page.global_result.text()
        assert re.fullmatch(rf"testing http://127\.0\.0\.1:{silent_server}… 0\.[2-9] s", text), text
        assert not page.global_test.cancel_button.isHidden() and not page.global_test_button.isEnabled()
        page.global_test.cancel_button.click()
        await asyncio.gather(task, return_exceptions=True)

    run(qloop, test_then_cancel())
    assert re.fullmatch(r"test cancelled after 0\.\d s\.", page.global_result.text())
    assert page.global_test.cancel_button.isHidden() and page.global_test_button.isEnabled()


def test_cancel_stands_where_the_button_that_started_the_action_was(qloop, qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    row = QHBoxLayout(holder)
    trigger = QPushButton("Test")
    status = StatusLabel()
    action = LongAction(PageTasks("test"), status, holder)
    slot = action.button_slot(trigger)
    row.addWidget(status)
    row.addStretch(1)  # as in the pages' button rows
    row.addWidget(slot)
    holder.resize(500, 60)
    holder.show()
    qtbot.waitExposed(holder)
    place = (at(trigger, holder), slot.geometry())
    release = asyncio.Event()
    task = action.start("Testing…", release.wait, lambda _r, _s: status.ok("done"), lambda s: f"cancelled after {s}")
    QApplication.processEvents()
    assert trigger.isHidden() and action.cancel_button.isVisible()
    assert (at(action.cancel_button, holder), slot.geometry()) == place  # nothing moved
    action.cancel_button.click()
    run(qloop, asyncio.gather(task, return_exceptions=True))
    assert status.kind == "info" and status.text().startswith("cancelled after 0.")
    assert trigger.isVisible() and action.cancel_button.isHidden() and not action.running()


def test_a_long_actions_outcome_replaces_its_busy_line(qloop, qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    status = StatusLabel(holder)
    action = LongAction(PageTasks("test"), status, holder)

    async def work() -> str:
        await asyncio.sleep(0.15)
        return "pong"

    task = action.start("Pinging…", work, lambda answer, _s: status.ok(f"Got {answer}."), lambda s: f"cancelled {s}")
    assert status.kind == "busy" and status.text() == "Pinging… 0.0 s" and action.running()
    run(qloop, task)
    assert status.kind == "ok" and status.text() == "Got pong." and not action.running()


# -- % left and the tray's order ----------------------------------------------------------------------------

NOW = datetime.now(timezone.utc)


def snapshot(provider: str, key: str, account: str, left: float = 50) -> QuotaSnapshot:
    return QuotaSnapshot(provider, key, account, fetched_at=NOW,
                         windows=(QuotaWindow.from_remaining("five_hour", "Session (5-hour)", left),))


SCRAMBLED = [snapshot("copilot", "gh", "@octocat"), snapshot("claude", "b", "zed@example.com"),
             snapshot("openai", "acct", "jane@example.com"), snapshot("claude", "a", "amy@example.com"),
             snapshot("zai", "k1", "zai-…cdef")]


def test_the_history_picker_and_the_quota_page_list_accounts_in_the_trays_order(desktop, qtbot) -> None:
    tray_order = [s.key for s in display_order(SCRAMBLED)]
    history = QuotaHistoryPage(SCRAMBLED)
    qtbot.addWidget(history)
    picked = [history.account.itemData(i) for i in range(history.account.count())]
    assert [f"{provider}/{key}" for provider, key in picked] == tray_order
    quota = QuotaSettingsPage(desktop.services, SCRAMBLED)
    qtbot.addWidget(quota)
    listed = [quota.shown.item(i).data(Qt.ItemDataRole.UserRole) for i in range(quota.shown.count())]
    assert [key for key in listed if "/" in key] == tray_order


def test_history_charts_percent_left_with_used_as_the_secondary_figure(desktop, qloop, qtbot) -> None:
    for hours, left in ((5, 80), (1, 35)):
        older = QuotaSnapshot("claude", "a", "amy@example.com", fetched_at=NOW - timedelta(hours=hours),
                              windows=(QuotaWindow.from_remaining("five_hour", "Session (5-hour)", left),))
        QuotaSnapshotRow.create(**history_row(older))
    page = QuotaHistoryPage([snapshot("claude", "a", "amy@example.com", 35)])
    qtbot.addWidget(page)
    run(qloop, page.tasks.settle())
    series = page.chart.series[0]
    assert [v for v in series.values if v is not None][-1] == 35
    last = max(i for i, v in enumerate(series.values) if v is not None)
    assert "Session (5-hour): 35 % left (65 % used)" in page.chart.describe_bucket(last)


def test_an_evaluation_run_counts_its_seconds_and_can_be_cancelled(openai_via_fake, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-slow"))  # the fake provider waits 2 s per answer
    panel = desktop.dashboard_page.evals_panel
    run(qloop, panel.refresh())
    panel.targets_field.setText("openai/gpt-4.1")

    async def run_then_cancel() -> None:
        task = panel.run()
        await asyncio.sleep(0.35)
        assert re.fullmatch(r"Running “smoke”… 0\.[2-9] s", panel.status.text()), panel.status.text()
        assert not panel.running.cancel_button.isHidden() and panel.run_button.isHidden()
        panel.running.cancel_button.click()
        await asyncio.gather(task, return_exceptions=True)

    run(qloop, run_then_cancel())
    assert re.fullmatch(r"smoke: cancelled after 0\.\d s\.", panel.status.text())
    assert panel.run_button.isEnabled() and not panel.run_button.isHidden()


@pytest.mark.parametrize("count, text", [(0, "0 failures in a row"), (1, "1 failure in a row"),
                                         (3, "3 failures in a row"), (1200, "1,200 failures in a row")])
def test_counts_read_in_the_singular_for_one(count: int, text: str) -> None:
    assert plural(count, tr("{count} failure in a row"), tr("{count} failures in a row")) == text


# -- the same commit bar and long actions on Backups, the Dashboard's Storage tab, Requests and Providers ------

def nav_item(desktop, title: str):
    return desktop.window.navigation.item(desktop.window.page_titles().index(title))


def loaded(desktop, qloop, title: str) -> QWidget:
    """The page shown and done reading what is saved (the commit bar's baseline)."""
    page = show(desktop, title)
    run(qloop, page.tasks.settle())
    return page


def open_storage_tab(desktop, qloop) -> Any:
    page = show(desktop, "Dashboard")
    page.tabs.setCurrentWidget(page.storage_panel)
    run(qloop, page.settle())
    return page.storage_panel


# title -> (the page's commit bar, an edit, the setting it commits and the value it should then hold)
EDITS = {
    "Backups": (lambda desktop, qloop: loaded(desktop, qloop, "Backups").commit,
                lambda desktop: desktop.backups_page.keep_count.setValue(3),
                settings.KEY_BACKUP_KEEP_COUNT, 3),
    "Dashboard": (lambda desktop, qloop: open_storage_tab(desktop, qloop).commit,
                  lambda desktop: desktop.dashboard_page.storage_panel.keep_days.setValue(9),
                  settings.KEY_REQUEST_LOG_DAYS, 9),
    "Gateway rules": (lambda desktop, qloop: loaded(desktop, qloop, "Gateway rules").commit,
                      lambda desktop: desktop.gateway_rules_page.allow_edit.setPlainText("192.168.1.0/24\n"),
                      settings.KEY_IP_FILTER, {"allow": ["192.168.1.0/24"], "block": []}),
    "Request defaults": (lambda desktop, qloop: loaded(desktop, qloop, "Request defaults").commit,
                 lambda desktop: (desktop.requests_page.prompt_enabled.setChecked(True),
                                  desktop.requests_page.prompt_text.setPlainText("Be kind.")),
                 settings.KEY_SYSTEM_PROMPT, {"enabled": True, "prompt": "Be kind.", "position": "prefix"}),
}


@pytest.mark.parametrize("title", sorted(EDITS))
def test_an_edit_is_hinted_and_saved_through_the_configuration(desktop, qloop, title: str) -> None:
    open_bar, edit, key, value = EDITS[title]
    bar = open_bar(desktop, qloop)
    assert not bar.dirty and bar.status.isHidden() and not bar.save_button.isEnabled()  # loading is no edit
    edit(desktop)
    assert bar.dirty and bar.status.text() == "Unsaved changes." and nav_item(desktop, title).text() == f"{title} •"
    bar.save_button.click()
    assert run(qloop, bar.save_task)
    assert desktop.services.store.get_setting(key) == value
    assert not bar.dirty and bar.status.kind == "ok" and nav_item(desktop, title).text() == title
    assert not bar.save_button.isEnabled() and not bar.revert_button.isEnabled()


@pytest.mark.parametrize("title", sorted(EDITS))
def test_revert_puts_the_saved_values_back_on_each_page(desktop, qloop, title: str) -> None:
    open_bar, edit, key, _value = EDITS[title]
    bar = open_bar(desktop, qloop)
    saved = bar._state()
    edit(desktop)
    assert bar._state() != saved
    bar.revert_button.click()
    assert bar._state() == saved and not bar.dirty and bar.status.isHidden()
    assert nav_item(desktop, title).text() == title
    assert desktop.services.store.get_setting(key) is None  # nothing was written


def test_a_dashboard_refresh_does_not_overwrite_an_unsaved_limit(desktop, qloop) -> None:
    panel = open_storage_tab(desktop, qloop)
    panel.keep_rows.setValue(5000)
    run(qloop, panel.refresh(limits_too=True))
    assert panel.keep_rows.value() == 5000 and panel.commit.dirty


def test_a_refused_gateway_rule_is_shown_under_its_list_with_the_focus_there(desktop, qloop, qtbot) -> None:
    page = loaded(desktop, qloop, "Gateway rules")
    window = desktop.window
    below = [page.rate_spin, page.commit.save_button]
    before = [at(widget, window) for widget in below]
    page.block_edit.setPlainText("203.0.113.7\n10.0.0.300")
    page.commit.save_button.setFocus()
    page.commit.save_button.click()
    assert not run(qloop, page.commit.save_task)
    QApplication.processEvents()
    assert "'10.0.0.300' is not an IP address or a CIDR range" in page.ip_error.text() and fits(page.ip_error)
    assert page.commit.status.text() == "Not saved: see the message under the field."
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.block_edit)  # the list that holds the entry
    assert [at(widget, window) for widget in below] == before
    assert desktop.services.store.get_setting(settings.KEY_IP_FILTER) is None
    page.block_edit.setPlainText("203.0.113.7")  # editing a list clears the message
    assert page.ip_error.text() == "" and page.commit.status.text() == "Unsaved changes."
    assert page.commit.save_button.isEnabled()
    page.allow_edit.setPlainText("not-an-address")
    assert not run(qloop, page.save())
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.allow_edit)


def test_a_gateway_rules_refresh_keeps_unsaved_edits_and_the_bar_stays_under_every_tab(desktop, qloop) -> None:
    page = loaded(desktop, qloop, "Gateway rules")
    page.rate_spin.setValue(90)
    run(qloop, desktop.services.configuration.update_settings({settings.KEY_IP_FILTER: {"allow": ["10.0.0.1"]}}))
    run(qloop, page.refresh())  # changed elsewhere (the API) while the user edits
    assert page.rate_spin.value() == 90 and page.allow_edit.toPlainText() == "" and page.commit.dirty
    assert page.audit_table.rowCount() == 1  # the read-only views still follow
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        assert page.commit.isVisible() and page.commit.status.text() == "Unsaved changes."
    page.commit.revert_button.click()  # back to what was read last, then the next refresh follows the API
    assert page.rate_spin.value() == 0 and not page.commit.dirty
    run(qloop, page.refresh())
    assert page.allow_edit.toPlainText() == "10.0.0.1"


def test_backing_up_counts_its_seconds_and_offers_no_cancel(desktop, qloop) -> None:
    page = show(desktop, "Backups")

    async def back_up() -> Any:
        task = asyncio.ensure_future(page.back_up_now())
        await asyncio.sleep(0)
        assert page.status.kind == "busy" and re.fullmatch(r"Backing up… 0\.\d s", page.status.text())
        assert page.action.cancel_button.isHidden() and not page.back_up_button.isEnabled()
        assert not page.import_button.isEnabled() and not page.export_button.isEnabled()
        return await task

    assert run(qloop, back_up()) is not None
    assert page.status.kind == "ok" and page.status.text().startswith("Backed up (")
    assert page.back_up_button.isEnabled() and page.export_button.isEnabled()


def test_a_cancelled_export_leaves_no_file_and_keeps_the_one_it_would_replace(desktop, qloop, tmp_path) -> None:
    page = show(desktop, "Backups")
    exports = tmp_path / "exports"
    exports.mkdir()
    target = exports / "older.tar.gz"
    target.write_bytes(b"the backup the user chose to replace")
    work_folder = page.services.backups.folder

    def exporting() -> bool:  # the export's thread has begun (its work folder) or just finished (its file)
        return bool(list(work_folder.glob("backup-*")) or list(exports.glob(".exporting-*")))

    async def export_then_cancel() -> Any:
        task = asyncio.ensure_future(page.export_to(target, None))
        deadline = time.monotonic() + 10
        while not exporting():
            assert time.monotonic() < deadline
            await asyncio.sleep(0)
        assert re.fullmatch(r"Exporting older\.tar\.gz… \d+\.\d s", page.status.text())
        assert page.action.cancel_button.isVisible() and page.export_button.isHidden()  # in the button's place
        page.action.cancel_button.click()
        return await task

    assert run(qloop, export_then_cancel()) is None
    assert re.fullmatch(r"Export cancelled after \d+\.\d s; older\.tar\.gz was not written\.", page.status.text())

    async def thread_done() -> None:  # the thread cannot be stopped: its file goes once it ends
        deadline = time.monotonic() + 10
        while list(exports.glob(".exporting-*")) or list(work_folder.glob("backup-*")):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)

    run(qloop, thread_done())
    assert target.read_bytes() == b"the backup the user chose to replace"
    assert sorted(p.name for p in exports.iterdir()) == ["older.tar.gz"]
    assert page.export_button.isVisible() and page.export_button.isEnabled()


def test_snapshot_reasons_and_counts_read_in_the_language_in_use(desktop, qloop, chinese_ui) -> None:
    run(qloop, desktop.services.configuration.add_account("openai", api_key="sk-ok"))
    page = desktop.backups_page
    run(qloop, page.refresh())
    rows = range(page.table.rowCount())
    assert [page.table.item(row, 1).text() for row in rows] == ["添加提供商连接前"]
    contents = page.table.item(0, 3)
    assert contents.text().startswith("0 个账户、0 个自定义端点") and contents.toolTip() == contents.text()


def test_a_dead_endpoints_test_counts_the_seconds_and_cancel_stops_it(desktop, qloop, silent_server) -> None:
    configuration = desktop.services.configuration
    endpoint = run(qloop, configuration.add_endpoint({"prefix": "lab", "name": "Lab", "api_format": "openai",
                                                      "base_url": f"http://127.0.0.1:{silent_server}/v1"}))
    page = show(desktop, "Providers")
    run(qloop, page.settle())
    page.select("node", endpoint.id)

    async def test_then_cancel() -> None:
        task = page.test_selected()
        await asyncio.sleep(0.35)
        assert re.fullmatch(r"Testing Lab… 0\.[2-9] s", page.endpoint_status.text()), page.endpoint_status.text()
        assert page.endpoint_test_button.isHidden() and page.endpoint_test_action.cancel_button.isVisible()
        page.endpoint_test_action.cancel_button.click()
        await asyncio.gather(task, return_exceptions=True)

    run(qloop, test_then_cancel())
    assert re.fullmatch(r"Lab: test cancelled after 0\.\d s\.", page.endpoint_status.text())
    assert page.endpoint_test_button.isVisible() and page.endpoint_test_button.isEnabled()


def test_an_account_the_gateway_set_aside_says_why_while_the_page_is_shown(openai_via_fake, upstream, desktop,
                                                                          qloop, qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-status-401"))
    page = show(desktop, "Providers")
    page.select("provider", "openai")
    run(qloop, page.settle())
    state = lambda: page.accounts_table.item(0, 3)  # noqa: E731
    assert page.accounts_table.horizontalHeaderItem(3).text() == "State" and state().text() == "Active"
    assert page.marks_timer.isActive()
    page.marks_timer.setInterval(50)  # "every few seconds" made short for the test

    async def chat() -> int:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(f"{desktop.services.gateway_state.url}/v1/chat/completions", json={
                "model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
            return response.status_code

    assert run(qloop, chat()) >= 400  # the provider refused the key
    qtbot.waitUntil(lambda: state().text() != "Active", timeout=3000)
    assert state().text() == "⚠ set aside: rejected the key (HTTP 401)"
    assert "stopped sending requests to this account: rejected the key (HTTP 401)" in state().toolTip()
    show(desktop, "General")
    assert not page.marks_timer.isActive()  # only while the page is shown


def test_a_refused_account_proxy_takes_the_focus_in_the_dialog(desktop, qloop, qtbot) -> None:
    page = show(desktop, "Providers")
    page.select("provider", "openai")
    dialog = page.open_account_dialog()
    dialog.key_field.setText("sk-ok")
    dialog.proxy_field.address.setText("ftp://127.0.0.1:21")
    dialog.save_button.setFocus()
    dialog.save_button.click()
    assert dialog.isVisible() and "'ftp://' proxies are not supported" in dialog.proxy_field.error.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.proxy_field.address)
    assert not desktop.services.accounts.accounts()


def test_why_the_gateway_skips_a_target_reads_in_chinese_on_the_combos_and_providers_pages(desktop, qloop,
                                                                                           chinese_ui) -> None:
    services = desktop.services
    for name in ("Work", "Busy"):
        services.accounts.create_account("openai", name, "sk-ok")
    run(qloop, services.reload_gateway_config())
    upstreams = {u.account_name: u for u in services.runtime.config.table.resolve("openai/gpt-4.1").upstreams}
    services.runtime.resilience.failed(upstreams["Work"], 401)
    services.runtime.resilience.failed(upstreams["Busy"], 429, "120")
    combos = desktop.combos_page
    combos.show_health()
    why = [combos.health_table.item(row, 2).text() for row in range(combos.health_table.rowCount())]
    assert why == ["被限流 (HTTP 429)", "拒绝了密钥 (HTTP 401)"]
    providers = show(desktop, "Providers")  # the window was built in English; its cells follow the language
    providers.select("provider", "openai")
    run(qloop, providers.settle())
    states = {providers.accounts_table.item(row, 0).text(): providers.accounts_table.item(row, 3).text()
              for row in range(providers.accounts_table.rowCount())}
    assert states["Work"] == "⚠ 已暂停使用：拒绝了密钥 (HTTP 401)"
    assert services.runtime.resilience.state()["marks"][0]["reason"] == "rejected the key (HTTP 401)"  # the API's
