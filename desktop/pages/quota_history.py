"""History: each quota window's % left over the last days, per account, as a chart (the tray's measure; the
% used is the secondary figure, in the hover text)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.i18n import tr
from core.quota import history
from core.quota.model import QuotaSnapshot, QuotaWindow
from core.quota.order import display_order
from core.quota.text import account_title, window_label
from desktop.widgets.chart import ChartSeries, TimeSeriesChart
from desktop.widgets.feedback import hint
from desktop.widgets.tasks import PageTasks, off_loop

COLORS = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9")
RANGES = ((timedelta(days=1), timedelta(hours=1)), (timedelta(days=7), timedelta(hours=3)),
          (timedelta(days=30), timedelta(days=1)))


def aligned_start(moment: datetime, bucket: timedelta) -> datetime:
    """Buckets start on whole local hours (or local midnights for day-sized ones), so the axis reads
    "Nov 20 · 03:00 · 06:00…" instead of odd minutes."""
    local = moment.astimezone()
    if bucket >= timedelta(days=1):
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        hours = max(1, int(bucket.total_seconds() // 3600))
        local = local.replace(hour=local.hour - local.hour % hours, minute=0, second=0, microsecond=0)
    return local.astimezone(timezone.utc)


def percent_axis(value: float) -> str:
    return f"{value:.0f} %"


def left_and_used(left: float) -> str:
    """The hover text of a point: % left first, % used after it."""
    return tr("{left} % left ({used} % used)", left=f"{left:.0f}", used=f"{100 - left:.0f}")


def left_series(used: list[float | None]) -> list[float | None]:
    return [None if value is None else max(0.0, 100.0 - value) for value in used]


def range_labels() -> list[str]:
    return [tr("Last 24 hours"), tr("Last 7 days"), tr("Last 30 days")]


class QuotaHistoryPage(QWidget):
    def __init__(self, snapshots: list[QuotaSnapshot]) -> None:
        super().__init__()
        self.tasks = PageTasks("History page")
        self.account = QComboBox()
        self.range = QComboBox()
        self.range.addItems(range_labels())
        self.range.setCurrentIndex(1)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.chart = TimeSeriesChart(empty_text=tr("No history yet: Quotagate records each account's quota as it "
                                                   "changes."))
        self.chart.set_axis_maximum("left", 100)
        controls = QHBoxLayout()
        controls.addWidget(QLabel(tr("Account:")))
        controls.addWidget(self.account, 1)
        controls.addWidget(self.range)
        controls.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(hint(tr("% left of each window, as in the tray. A jump up means the window reset.")))
        layout.addLayout(controls)
        layout.addWidget(self.chart, 1)
        self.account.currentIndexChanged.connect(lambda _: self.tasks.start(self.load()))
        self.range.currentIndexChanged.connect(lambda _: self.tasks.start(self.load()))
        self.refresh_button.clicked.connect(lambda: self.tasks.start(self.load()))
        self.show_accounts(snapshots)

    def show_accounts(self, snapshots: list[QuotaSnapshot]) -> None:
        """The accounts to choose from (those with windows); keeps the current choice when it still exists."""
        current = self.account.currentData()
        self.account.blockSignals(True)
        self.account.clear()
        for snapshot in display_order(snapshots):
            if snapshot.windows:
                self.account.addItem(account_title(snapshot), (snapshot.provider, snapshot.account_key))
        index = self.account.findData(current)
        self.account.setCurrentIndex(max(index, 0))
        self.account.blockSignals(False)
        self.tasks.start(self.load())

    async def load(self) -> None:
        choice = self.account.currentData()
        if choice is None:
            self.chart.set_data([], 3600, [])
            return
        span, bucket = RANGES[self.range.currentIndex()]
        until = datetime.now(timezone.utc)
        since = aligned_start(until - span, bucket)
        recorded = await off_loop(history.load, choice[0], choice[1], since)
        starts, windows = history.used_percent_series(recorded, since, until, bucket)
        series = [ChartSeries(window_label(QuotaWindow(window_id, label)), left_series(used), COLORS[i % len(COLORS)],
                              style="line", format=percent_axis, describe=left_and_used)
                  for i, (window_id, (label, used)) in enumerate(windows.items())]
        self.chart.set_data(starts if series else [], bucket.total_seconds(), series)
