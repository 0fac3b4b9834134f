"""The Dashboard's usage views on a long history, the request log's attempts and paging, the Storage tab with
the request log's limits, and the Backups page's choice to leave the request log out; driven as a user would,
on real core services."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from core import settings
from core.services import CoreServices
from core.store.models import UsageRow
from desktop.pages.backups import BackupsPage
from desktop.pages.dashboard import PAGE_SIZE, DashboardPage, cost_axis, count_axis_top, describe_request

ATTEMPTS = [{"provider": "openai", "model": "gpt-4.1", "account": 2, "status": 429, "ms": 38.0},
            {"provider": "deepseek", "model": "deepseek-chat", "account": 5, "status": 200, "ms": 910.0}]


@pytest.fixture
def services(qloop, data_dir: Path):
    running = CoreServices(data_dir, port=0)
    qloop.run_until_complete(running.start())
    yield running
    qloop.run_until_complete(running.stop())


@pytest.fixture
def page(services, qloop, qtbot) -> DashboardPage:
    shown = DashboardPage(services)
    qtbot.addWidget(shown)
    return shown


def record(services: CoreServices, count: int, spacing: float = 1.0, cost: float = 0.0,
           attempts: list | None = None) -> None:
    now = time.time()
    for i in range(count):
        services.store.writer.submit(UsageRow, {"ts": now - i * spacing, "provider": "deepseek",
                                                "model": "deepseek-chat", "status": 200, "tokens_in": 10,
                                                "cost": cost, "latency_ms": 900.0, "path": "/v1/chat/completions",
                                                "attempts": attempts})
    assert services.store.writer.flush()


def refresh(page: DashboardPage, qloop) -> None:
    qloop.run_until_complete(page.request_refresh())
    qloop.run_until_complete(page.settle())


def axis_labels(page: DashboardPage, axis: str) -> list[str]:
    top = page.chart._axis_max(axis)
    return [page.chart._axis_format(axis)(top * i / 4) for i in range(5)]


def test_count_axis_steps_are_whole_numbers() -> None:
    assert [count_axis_top(peak) for peak in (0, 1, 3, 4, 5, 7, 9, 30, 41, 950)] == [4, 4, 4, 4, 8, 8, 20, 40, 80,
                                                                                     2000]


def test_the_cost_axis_has_the_decimals_its_steps_need() -> None:
    top, label = cost_axis(0.00017)
    assert top == pytest.approx(0.0002) and [label(top * i / 4) for i in range(5)] == [
        "$0.00000", "$0.00005", "$0.00010", "$0.00015", "$0.00020"]
    top, label = cost_axis(3.2)
    assert [label(top * i / 4) for i in range(5)] == ["$0.00", "$1.00", "$2.00", "$3.00", "$4.00"]


def test_a_few_cheap_requests_chart_with_whole_counts_and_readable_costs(page, services, qloop) -> None:
    record(services, 3, spacing=60, cost=0.000004)
    refresh(page, qloop)
    assert axis_labels(page, "left") == ["0", "1", "2", "3", "4"]
    costs = axis_labels(page, "right")
    assert len(set(costs)) == 5 and costs[-1] != "$0.0000", costs


def test_twelve_months_chart_one_bar_per_day_with_dates_that_read_forwards(page, services, qloop) -> None:
    record(services, 40, spacing=86400 * 9)  # one request every nine days, a year back
    page.range_field.setCurrentIndex(page.range_field.findText("Last 12 months"))
    refresh(page, qloop)
    assert len(page.chart.starts) == 365 and sum(page.chart.series[0].values) == 40
    assert page.chart.starts == sorted(page.chart.starts)
    assert page.requests_card.value.text() == "40"


def test_the_request_log_shows_each_attempt_on_hover_and_on_double_click(page, services, qloop) -> None:
    record(services, 1, attempts=ATTEMPTS)
    page.tabs.setCurrentIndex(2)
    refresh(page, qloop)
    assert page.log_table.item(0, 4).text() == "2"  # tries
    tooltip = page.log_table.item(0, 1).toolTip()
    assert "1. openai/gpt-4.1 (account 2): 429, 38 ms" in tooltip
    assert "2. deepseek/deepseek-chat (account 5): 200, 910 ms" in tooltip
    dialog = page.show_request_details(page.log_table.item(0, 2))
    assert dialog is not None and dialog.isVisible() and dialog.text.toPlainText() == tooltip
    dialog.close()


def test_describe_request_names_errors_and_skips() -> None:
    text = describe_request({"path": "/v1/messages", "status": 503, "error": "every target failed", "attempts": [
        {"provider": "zhipu", "model": "glm-4.6", "accountId": 4, "account": "work", "skipped": "quota used up",
         "seconds": 1800.0},
        {"provider": "openai", "model": "o3", "accountId": 2, "account": "home", "status": 503,
         "error": "upstream unavailable", "ms": 61.0}]})
    assert text.splitlines() == ["/v1/messages → 503", "Error: every target failed", "Attempts:",
                                 "  1. zhipu/glm-4.6 (account work): skipped (quota used up)",
                                 "  2. openai/o3 (account home): 503 upstream unavailable, 61 ms"]


def test_the_request_log_pages_by_key_through_a_long_log(page, services, qloop) -> None:
    record(services, PAGE_SIZE * 3 + 7)
    refresh(page, qloop)
    first_ids = [page.log_table.item(r, 0).data(256) for r in range(page.log_table.rowCount())]
    assert page.page_label.text() == f"1–{PAGE_SIZE} of {PAGE_SIZE * 3 + 7}"
    page.next_button.click()
    qloop.run_until_complete(page.settle())
    page.next_button.click()
    qloop.run_until_complete(page.settle())
    third = [page.log_table.item(r, 0).data(256) for r in range(page.log_table.rowCount())]
    assert page.page_label.text() == f"{2 * PAGE_SIZE + 1}–{3 * PAGE_SIZE} of {PAGE_SIZE * 3 + 7}"
    assert max(third) < min(first_ids) and len(third) == PAGE_SIZE
    page.next_button.click()
    qloop.run_until_complete(page.settle())
    assert page.log_table.rowCount() == 7 and not page.next_button.isEnabled()
    for _ in range(3):
        page.previous_button.click()
        qloop.run_until_complete(page.settle())
    assert [page.log_table.item(r, 0).data(256) for r in range(page.log_table.rowCount())] == first_ids
    assert not page.previous_button.isEnabled()


def test_the_storage_tab_shows_what_the_store_takes_and_saves_the_request_log_limits(page, services, qloop) -> None:
    record(services, 30, spacing=86400)  # one request a day for a month
    page.tabs.setCurrentWidget(page.storage_panel)
    qloop.run_until_complete(page.settle())
    panel = page.storage_panel
    assert "(30 requests, the oldest from" in panel.request_log_label.text()
    assert "KiB" in panel.history_label.text() and panel.total_label.text().endswith(("KiB", "MiB"))
    assert (panel.keep_days.value(), panel.keep_rows.value()) == (30, 1_000_000)

    panel.keep_days.setValue(7)
    assert qloop.run_until_complete(panel.save())
    assert services.store.get_setting(settings.KEY_REQUEST_LOG_DAYS) == 7
    qloop.run_until_complete(wait_until(lambda: UsageRow.select().count() == 7))
    qloop.run_until_complete(panel.refresh())
    assert "(7 requests" in panel.request_log_label.text()
    page.range_field.setCurrentIndex(page.range_field.findText("Last 30 days"))
    refresh(page, qloop)
    assert page.requests_card.value.text() == "30"  # the month's history is still whole


async def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def test_an_out_of_range_limit_is_refused_with_words(page, services, qloop) -> None:
    panel = page.storage_panel
    panel.keep_rows.setMinimum(10)
    panel.keep_rows.setValue(10)
    assert not qloop.run_until_complete(panel.save())
    assert panel.commit.status.kind == "error" and "whole number from 1000" in panel.commit.status.text()


def test_the_export_dialog_offers_to_leave_the_request_log_out_and_shows_its_size(services, qloop, qtbot,
                                                                                   tmp_path: Path) -> None:
    record(services, 500)
    backups = BackupsPage(services)
    qtbot.addWidget(backups)
    qloop.run_until_complete(backups.tasks.settle())
    target = tmp_path / "lean.sqlite"
    dialog = qloop.run_until_complete(backups.confirm_export(target))
    assert dialog is not None and dialog.include_request_log.isChecked()
    assert "(500 requests, " in dialog.include_request_log.text()
    dialog.include_request_log.setChecked(False)
    dialog.accept()
    qloop.run_until_complete(backups.tasks.settle())
    assert "Without the request log." in backups.status.text()
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT COUNT(*) FROM usage_row").fetchone()[0] == 0
        assert conn.execute("SELECT SUM(requests) FROM usage_day_model").fetchone()[0] == 500
