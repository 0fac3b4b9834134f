"""The Backups, Quota history and Quota settings pages, driven as a user would, on real services."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core import i18n, settings
from core.quota.history import history_row
from core.quota.model import QuotaSnapshot, QuotaWindow
from core.services import CoreServices
from core.store.models import QuotaSnapshotRow
from desktop.pages.backups import BackupsPage
from desktop.pages.quota_history import QuotaHistoryPage
from desktop.pages.quota_settings import QuotaSettingsPage
from tests.backup.conftest import PROVIDER_KEY, fill


@pytest.fixture
def services(qloop, data_dir: Path):
    running = CoreServices(data_dir, port=0)
    qloop.run_until_complete(running.start())
    qloop.run_until_complete(fill(running))
    yield running
    qloop.run_until_complete(running.stop())


@pytest.fixture
def backups_page(services, qloop, qtbot):
    page = BackupsPage(services)
    qtbot.addWidget(page)
    qloop.run_until_complete(page.tasks.settle())
    return page


def table_column(table, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_back_up_now_adds_a_row_with_contents(backups_page, qloop) -> None:
    assert backups_page.table.rowCount() == 0
    qloop.run_until_complete(backups_page.back_up_now())
    assert table_column(backups_page.table, 1) == ["manual"]
    contents = backups_page.table.item(0, 3)
    assert contents.text().startswith("2 accounts, 1 custom endpoint, 1 combo, 1 API key, ")
    assert contents.toolTip() == contents.text()  # the column is narrower than the text
    assert backups_page.status.kind == "ok"


def test_export_and_import_show_what_the_file_holds_before_restoring(backups_page, services, qloop,
                                                                    tmp_path: Path) -> None:
    target = tmp_path / "b.tar.gz"
    qloop.run_until_complete(backups_page.export_to(target, "pw"))
    assert target.exists() and "sealed with your passphrase" in backups_page.status.text()
    services.accounts.delete_account(services.accounts.accounts()[0].id)

    dialog = qloop.run_until_complete(backups_page.inspect(target))
    assert dialog is not None and dialog.isVisible()
    assert dialog.holds.text().startswith("2 accounts, 1 custom endpoint, 1 combo, 1 API key")
    assert dialog.info.counts["accounts"] == 2 and dialog.info.secrets == "passphrase"
    dialog.passphrase.setText("pw")
    dialog.accept()
    qloop.run_until_complete(backups_page.tasks.settle())
    assert backups_page.status.kind == "ok", backups_page.status.text()
    assert {a.api_key for a in services.accounts.accounts()} >= {PROVIDER_KEY}


def test_a_bad_file_is_refused_with_its_reason(backups_page, qloop, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a backup")
    assert qloop.run_until_complete(backups_page.inspect(junk)) is None
    assert backups_page.status.kind == "error" and "not a Quotagate backup" in backups_page.status.text()


def test_restoring_a_selected_snapshot_asks_first(backups_page, services, qloop) -> None:
    qloop.run_until_complete(backups_page.back_up_now())
    services.accounts.delete_account(services.accounts.accounts()[0].id)
    backups_page.table.selectRow(0)
    box = backups_page.confirm_restore_selected()
    assert box is not None and len(services.accounts.accounts()) == 1
    box.confirm_button.click()
    qloop.run_until_complete(backups_page.tasks.settle())
    assert len(services.accounts.accounts()) == 2
    assert "Restored" in backups_page.status.text()


def test_retention_is_saved_and_applied(backups_page, services, qloop) -> None:
    for _ in range(3):
        qloop.run_until_complete(backups_page.back_up_now())
    backups_page.keep_count.setValue(1)
    qloop.run_until_complete(backups_page.save_retention())
    assert backups_page.table.rowCount() == 1
    assert services.store.get_setting(settings.KEY_BACKUP_KEEP_COUNT) == 1


NOW = datetime.now(timezone.utc)


def test_history_charts_each_window_of_the_chosen_account(services, qloop, qtbot) -> None:
    snapshots = [QuotaSnapshot("claude", "code", "Claude Code", fetched_at=NOW - timedelta(hours=h),
                               windows=(QuotaWindow.from_used("five_hour", "Session", used),
                                        QuotaWindow.from_used("seven_day", "Weekly", used / 2)))
                 for h, used in ((30, 10), (20, 40), (2, 70))]
    for snapshot in snapshots:
        QuotaSnapshotRow.create(**history_row(snapshot))
    page = QuotaHistoryPage(snapshots[-1:])
    qtbot.addWidget(page)
    qloop.run_until_complete(page.tasks.settle())
    assert page.account.currentText() == "Claude · Claude Code"
    assert page.chart.has_data()
    names = [series.name for series in page.chart.series]
    assert names == ["Session", "Weekly"]
    assert page.chart.series[0].values[-1] == 30  # % left, as the tray shows it (70 % used)


def test_history_without_accounts_shows_its_empty_state(qloop, qtbot, services) -> None:
    page = QuotaHistoryPage([])
    qtbot.addWidget(page)
    qloop.run_until_complete(page.tasks.settle())
    assert not page.chart.has_data()


def test_quota_settings_are_saved(services, qloop, qtbot) -> None:
    page = QuotaSettingsPage(services, [])
    qtbot.addWidget(page)
    page.thresholds.setText("60, 25%")
    page.interval.setValue(2)
    page.hide_personal.setChecked(True)
    zai = next(page.shown.item(i) for i in range(page.shown.count()) if page.shown.item(i).data(256) == "zai")
    zai.setCheckState(zai.checkState().Unchecked)
    page.language.setCurrentIndex(page.language.findData("zh"))
    assert qloop.run_until_complete(page.save())
    store = services.store
    assert store.get_setting(settings.KEY_QUOTA_THRESHOLDS) == [60.0, 25.0]
    assert store.get_setting(settings.KEY_QUOTA_INTERVAL) == 120
    assert store.get_setting(settings.KEY_QUOTA_HIDDEN) == ["zai"]
    assert store.get_setting(settings.KEY_HIDE_PERSONAL) is True
    assert i18n.language() == "zh"


def test_unusable_thresholds_are_refused_in_words(services, qloop, qtbot) -> None:
    page = QuotaSettingsPage(services, [])
    qtbot.addWidget(page)
    page.thresholds.setText("fifty")
    assert not qloop.run_until_complete(page.save())
    assert page.commit.status.kind == "error"
    assert page.thresholds_error.text() == "Notify below (% left): “fifty” is not a number."
    assert services.store.get_setting(settings.KEY_QUOTA_THRESHOLDS) == [50, 20]  # as filled: nothing changed


@pytest.mark.parametrize("text,expected", [("50, 20", [50.0, 20.0]), ("20;50;50", [50.0, 20.0]), ("10 %", [10.0])])
def test_thresholds_typed_as_text_are_read_by_the_settings_rule(text: str, expected: list[float]) -> None:
    assert settings.checked(settings.KEY_QUOTA_THRESHOLDS, text) == expected


@pytest.mark.parametrize("text", ["", "0", "100", "abc", "nan"])
def test_unusable_threshold_texts_are_refused_naming_the_setting(text: str) -> None:
    with pytest.raises(settings.SettingError) as refused:
        settings.checked(settings.KEY_QUOTA_THRESHOLDS, text)
    assert refused.value.key == settings.KEY_QUOTA_THRESHOLDS


def test_accounts_found_later_join_the_show_list_keeping_choices(services, qtbot) -> None:
    page = QuotaSettingsPage(services, [])
    qtbot.addWidget(page)
    zai = next(page.shown.item(i) for i in range(page.shown.count()) if page.shown.item(i).data(256) == "zai")
    zai.setCheckState(zai.checkState().Unchecked)
    page.show_accounts([QuotaSnapshot("claude", "code", "Claude Code", windows=(
        QuotaWindow.from_used("five_hour", "Session", 10),))])
    keys = [page.shown.item(i).data(256) for i in range(page.shown.count())]
    assert "claude/code" in keys and keys.index("claude/code") == keys.index("claude") + 1
    assert page.hidden_choices() == ["zai"]


def test_history_buckets_start_on_whole_hours() -> None:
    from desktop.pages.quota_history import aligned_start

    start = aligned_start(datetime(2026, 11, 20, 7, 57, 13, tzinfo=timezone.utc), timedelta(hours=3))
    local = start.astimezone()
    assert (local.minute, local.second, local.hour % 3) == (0, 0, 0)
    day = aligned_start(datetime(2026, 11, 20, 7, 57, tzinfo=timezone.utc), timedelta(days=1)).astimezone()
    assert (day.hour, day.minute) == (0, 0)
