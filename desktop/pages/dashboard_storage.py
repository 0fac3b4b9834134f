"""The Dashboard's Storage tab: what the store takes on disk (request log, usage history, the rest) and how
long the request log is kept. The numbers come from `Store.space`, the limits are saved through the
configuration service, and the store's own upkeep prunes and gives the space back."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core import settings
from core.i18n import tr, translatable
from core.services import CoreServices
from desktop.pages.backups import format_size
from desktop.widgets import format as fmt
from desktop.widgets.commit import CommitBar, configuration_of
from desktop.widgets.feedback import StatusLabel, hint
from desktop.widgets.tasks import PageTasks, off_loop

ROWS_STEP = 100_000


class StoragePanel(QWidget):
    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Dashboard storage")
        self.destroyed.connect(self.tasks.cancel_all)

        self.total_label = QLabel()
        self.request_log_label = QLabel()
        self.history_label = QLabel()
        self.other_label = QLabel()
        self.free_label = QLabel()
        sizes = QFormLayout()
        sizes.addRow(tr("Request log:"), self.request_log_label)
        sizes.addRow(tr("Usage history:"), self.history_label)
        sizes.addRow(tr("Settings and the rest:"), self.other_label)
        sizes.addRow(tr("Free, being given back:"), self.free_label)
        sizes.addRow(tr("The store in all:"), self.total_label)

        self.keep_days = QSpinBox()
        self.keep_days.setRange(1, 3650)
        self.keep_days.setSuffix(tr(" days"))
        self.keep_rows = QSpinBox()
        self.keep_rows.setRange(1000, 100_000_000)
        self.keep_rows.setSingleStep(ROWS_STEP)
        self.keep_rows.setGroupSeparatorShown(True)
        limits = QHBoxLayout()
        limits.addWidget(QLabel(tr("Keep requests for")))
        limits.addWidget(self.keep_days)
        limits.addWidget(QLabel(tr("and at most")))
        limits.addWidget(self.keep_rows)
        limits.addWidget(QLabel(tr("requests")))
        limits.addStretch(1)
        self.status = StatusLabel()  # what measuring the store says
        self.commit = CommitBar(self.tasks, self._limits, self._show_limits, self._save)
        self.commit.watch(self.keep_days.valueChanged, self.keep_rows.valueChanged)

        layout = QVBoxLayout(self)
        layout.addLayout(sizes)
        layout.addSpacing(8)
        layout.addLayout(limits)
        layout.addWidget(hint(tr("Older requests leave the request log a little at a time and their space goes back "
                                 "to the disk. The charts and totals keep their hourly and daily sums for good.")))
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.commit)

    async def refresh(self, limits_too: bool = True) -> None:
        store = self.services.store
        if store is None:
            return
        try:
            report = await off_loop(store.space)
            days, rows = await off_loop(store.retention_limits)
        except Exception as exc:  # a sick store: said here, the rest of the dashboard still works
            self.status.error(tr("Could not measure the store: {error}", error=exc))
            return
        log = report["requestLog"]
        since = (tr(", the oldest from {date}", date=time.strftime("%Y-%m-%d", time.localtime(log["oldest"])))
                 if log["oldest"] else "")
        self.request_log_label.setText(tr("{size} ({count} requests{since})", size=format_size(log["bytes"]),
                                          count=fmt.count(log["rows"]), since=since))
        self.history_label.setText(tr("{size} (hourly and daily sums, kept for good)",
                                      size=format_size(report["rollups"]["bytes"])))
        self.other_label.setText(format_size(report["otherBytes"]))
        self.free_label.setText(format_size(report["freeBytes"]))
        self.total_label.setText(format_size(report["totalBytes"]) if report["exact"]
                                 else tr("{size} (the parts are estimates)", size=format_size(report["totalBytes"])))
        if limits_too and not self.commit.dirty and not self.commit.saving():  # never over the user's edits
            self._show_limits((int(days), int(rows)))
            self.commit.reset()

    # -- the limits: kept until the commit bar's Save ------------------------------------------------------
    def _limits(self) -> tuple[int, int]:
        return self.keep_days.value(), self.keep_rows.value()

    def _show_limits(self, limits: tuple[int, int]) -> None:
        self.keep_days.setValue(limits[0])
        self.keep_rows.setValue(limits[1])

    async def save(self) -> bool:
        return await self.commit.save()

    async def _save(self) -> str:
        configuration = configuration_of(self.services)
        days, rows = self._limits()
        await configuration.update_settings({settings.KEY_REQUEST_LOG_DAYS: days, settings.KEY_REQUEST_LOG_ROWS: rows},
                                            reason=translatable("changing how long requests are kept"))
        await self.refresh(limits_too=False)
        return tr("Saved. Requests past these limits are being removed now.")
