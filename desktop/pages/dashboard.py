"""Dashboard: what went through the gateway in a chosen range — totals, a chart over time, tables per
provider and per model, and the searchable request log. Numbers come from `usage_queries`, the same code
that answers `/api/usage/*`, so the window and the API never disagree."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.gateway import usage_queries
from core.i18n import tr
from core.providers import catalog
from core.services import CoreServices
from desktop.widgets import format as fmt
from desktop.widgets.cards import StatCard
from desktop.widgets.chart import ChartSeries, TimeSeriesChart
from desktop.widgets.feedback import (
    ERROR_COLOR,
    MUTED_COLOR,
    StatusLabel,
    cell,
    empty_state,
    fill_table,
    read_only_table,
)
from desktop.widgets.tasks import PageTasks, off_loop

log = logging.getLogger(__name__)

AUTO_REFRESH_MS = 30_000
PAGE_SIZE = 50
SEARCH_DELAY_MS = 300
REQUESTS_COLOR = "#4f7cff"
COST_COLOR = "#e8590c"


@dataclass(frozen=True)
class Range:
    label: str
    buckets: int
    bucket: str  # 'hour' or 'day', as usage_queries.history takes it


def ranges() -> tuple[Range, ...]:
    """The choosable ranges, labelled in the current language."""
    return (Range(tr("Last 24 hours"), 24, "hour"), Range(tr("Last 7 days"), 7, "day"),
            Range(tr("Last 30 days"), 30, "day"))


def bucket_starts(chosen: Range, now: float) -> list[float]:
    """Bucket starts ending with the one holding `now`: whole hours, or local midnights."""
    if chosen.bucket == "hour":
        last = math.floor(now / 3600) * 3600
        return [last - (chosen.buckets - 1 - i) * 3600 for i in range(chosen.buckets)]
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(midnight - timedelta(days=chosen.buckets - 1 - i)).timestamp() for i in range(chosen.buckets)]


def provider_name(provider_id: str | None) -> str:
    if not provider_id:
        return "—"
    provider = catalog.get_provider(provider_id)
    return provider.name if provider else provider_id


class _TableOrEmpty(QStackedWidget):
    def __init__(self, table: QTableWidget, empty_text: str) -> None:
        super().__init__()
        self.table = table
        self.empty = empty_state(empty_text)
        self.addWidget(table)
        holder = QWidget()
        layout = QVBoxLayout(holder)
        layout.addWidget(self.empty)
        layout.addStretch(1)
        self.addWidget(holder)

    def show_rows(self, rows: list[list[Any]]) -> None:
        fill_table(self.table, rows)
        self.setCurrentIndex(0 if rows else 1)


class DashboardPage(QWidget):
    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Dashboard page")
        self.destroyed.connect(self.tasks.cancel_all)  # nothing outlives the window
        self.history: dict[str, Any] | None = None
        self.log_page: dict[str, Any] | None = None
        self.offset = 0
        self.refresh_task: asyncio.Task[None] | None = None
        self._again = False

        # Controls
        self.ranges = ranges()
        self.range_field = QComboBox()
        for chosen in self.ranges:
            self.range_field.addItem(chosen.label)
        self.range_field.currentIndexChanged.connect(self._on_filter_changed)
        self.refresh_button = QPushButton(tr("Refresh"))
        self.refresh_button.clicked.connect(self.request_refresh)
        self.updated_label = QLabel()
        self.updated_label.setStyleSheet(f"color: {MUTED_COLOR};")
        controls = QHBoxLayout()
        controls.addWidget(self.range_field)
        controls.addStretch(1)
        controls.addWidget(self.updated_label)
        controls.addWidget(self.refresh_button)
        self.status = StatusLabel()

        # Totals
        self.requests_card = StatCard(tr("Requests"))
        self.tokens_in_card = StatCard(tr("Tokens in"))
        self.tokens_out_card = StatCard(tr("Tokens out"))
        self.cost_card = StatCard(tr("Cost"))
        self.errors_card = StatCard(tr("Errors"))
        cards = QHBoxLayout()
        for card in (self.requests_card, self.tokens_in_card, self.tokens_out_card, self.cost_card, self.errors_card):
            cards.addWidget(card)

        # Chart
        self.chart = TimeSeriesChart()

        # Tables
        self.providers_table = read_only_table([tr("Provider"), tr("Requests"), tr("Tokens in"), tr("Tokens out"),
                                                tr("Cost"), tr("Errors")])
        self.providers_view = _TableOrEmpty(self.providers_table, tr("No requests in this range."))
        self.models_table = read_only_table([tr("Model"), tr("Provider"), tr("Requests"), tr("Tokens in"),
                                             tr("Tokens out"), tr("Cost"), tr("Errors")])
        self.models_view = _TableOrEmpty(self.models_table, tr("No requests in this range."))

        # Request log
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText(tr("Search provider or model"))
        self.search_field.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._on_filter_changed)
        self.search_field.textChanged.connect(lambda _text: self._search_timer.start())
        self.provider_filter = QComboBox()
        self.provider_filter.addItem(tr("All providers"), None)
        self.provider_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.status_filter = QComboBox()
        for label, value in ((tr("Any status"), None), (tr("Succeeded"), "ok"), (tr("Failed"), "error")):
            self.status_filter.addItem(label, value)
        self.status_filter.currentIndexChanged.connect(self._on_filter_changed)
        filters = QHBoxLayout()
        filters.addWidget(self.search_field, 1)
        filters.addWidget(self.provider_filter)
        filters.addWidget(self.status_filter)
        self.log_table = read_only_table([tr("Time"), tr("Provider"), tr("Model"), tr("Status"), tr("In"), tr("Out"),
                                          tr("Latency"), tr("Cost")], stretch=2)
        self.log_view = _TableOrEmpty(self.log_table, tr("No requests match."))
        self.previous_button = QPushButton(tr("‹ Newer"))
        self.previous_button.clicked.connect(lambda: self._page(-1))
        self.next_button = QPushButton(tr("Older ›"))
        self.next_button.clicked.connect(lambda: self._page(1))
        self.page_label = QLabel()
        paging = QHBoxLayout()
        paging.addWidget(self.page_label)
        paging.addStretch(1)
        paging.addWidget(self.previous_button)
        paging.addWidget(self.next_button)
        log_layout = QVBoxLayout()
        log_layout.addLayout(filters)
        log_layout.addWidget(self.log_view, 1)
        log_layout.addLayout(paging)
        log_widget = QWidget()
        log_widget.setLayout(log_layout)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.providers_view, tr("By provider"))
        self.tabs.addTab(self.models_view, tr("By model"))
        self.tabs.addTab(log_widget, tr("Request log"))

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.tabs)
        splitter.setSizes([190, 280])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addLayout(cards)
        layout.addWidget(splitter, 1)

        self.auto_refresh = QTimer(self)
        self.auto_refresh.setInterval(AUTO_REFRESH_MS)
        self.auto_refresh.timeout.connect(self.request_refresh)
        self._update_paging()

    # -- visibility: refresh while shown -------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        self.request_refresh()
        self.auto_refresh.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self.auto_refresh.stop()
        super().hideEvent(event)

    # -- loading -----------------------------------------------------------------------------------
    def chosen_range(self) -> Range:
        return self.ranges[max(0, self.range_field.currentIndex())]

    def _on_filter_changed(self, *_: Any) -> None:
        self.offset = 0
        self.request_refresh()

    def _page(self, step: int) -> None:
        self.offset = max(0, self.offset + step * PAGE_SIZE)
        self.request_refresh()

    def request_refresh(self) -> asyncio.Task[None] | None:
        """Refresh now; a request made while one runs is folded into one more refresh after it."""
        if self.services.store is None:
            return None
        if self.refresh_task is not None and not self.refresh_task.done():
            self._again = True
            return self.refresh_task
        self.refresh_task = self.tasks.start(self._refresh_until_current())
        return self.refresh_task

    async def settle(self) -> None:
        await self.tasks.settle()

    async def _refresh_until_current(self) -> None:
        self.refresh_button.setEnabled(False)
        self.updated_label.setText(tr("Updating…"))
        try:
            while True:
                self._again = False
                await self.refresh()
                if not self._again:
                    break
        finally:
            self.refresh_button.setEnabled(True)

    async def refresh(self) -> None:
        if self.services.store is None:
            return
        chosen = self.chosen_range()
        now = time.time()
        starts = bucket_starts(chosen, now)
        since, until = starts[0], now + 1
        filters = {"provider": self.provider_filter.currentData(), "status": self.status_filter.currentData(),
                   "search": self.search_field.text().strip() or None}
        try:
            history = await off_loop(usage_queries.history, since, until, chosen.bucket)
            log_page = await off_loop(usage_queries.logs, since=since, until=until, limit=PAGE_SIZE,
                                      offset=self.offset, **filters)
        except Exception as exc:
            log.exception("Reading usage failed")
            self.status.error(tr("Could not read the usage: {error}", error=exc))
            self.updated_label.setText("")
            return
        self.status.clear()
        self.history, self.log_page = history, log_page
        self._show_totals(history["totals"])
        self._show_chart(chosen, starts, history)
        self._show_breakdowns(history)
        self._update_provider_filter(history)
        self._show_log(log_page)
        self.updated_label.setText(tr("Updated {time}", time=datetime.fromtimestamp(now).strftime("%H:%M:%S")))

    # -- showing -----------------------------------------------------------------------------------
    def _show_totals(self, totals: dict[str, Any]) -> None:
        self.requests_card.set_value(fmt.count(totals["requests"]),
                                     tr("{count} requests", count=f"{totals['requests']:,}"))
        self.tokens_in_card.set_value(fmt.count(totals["promptTokens"]),
                                      tr("{count} tokens", count=f"{totals['promptTokens']:,}"))
        self.tokens_out_card.set_value(fmt.count(totals["completionTokens"]),
                                       tr("{count} tokens", count=f"{totals['completionTokens']:,}"))
        self.cost_card.set_value(fmt.usd(totals["cost"]),
                                 tr("{cost} at catalogue prices", cost=f"${totals['cost']:.6f}"))
        errors = totals["errors"]
        share = (tr("{share} of requests", share=f"{errors / totals['requests']:.0%}") if totals["requests"]
                 else "")
        self.errors_card.set_value(fmt.count(errors), share, ERROR_COLOR if errors else None)

    def _show_chart(self, chosen: Range, starts: list[float], history: dict[str, Any]) -> None:
        width = usage_queries.BUCKETS[chosen.bucket]
        requests = [0.0] * len(starts)
        cost = [0.0] * len(starts)
        for point in history["series"]:
            index = round((point["start"] - starts[0]) / width)
            if 0 <= index < len(starts):
                requests[index] += point["requests"]
                cost[index] += point["cost"]
        self.chart.set_data(starts, width, [
            ChartSeries(tr("Requests"), requests, REQUESTS_COLOR, "bars", "left", fmt.count),
            ChartSeries(tr("Cost"), cost, COST_COLOR, "line", "right", fmt.usd),
        ])
        port = self.services.gateway_state.port
        self.chart.set_empty_text(tr("No requests in the {range}.\nPoint your tools at http://127.0.0.1:{port}/v1 "
                                     "and their usage appears here.", range=chosen.label.lower(), port=port))

    def _show_breakdowns(self, history: dict[str, Any]) -> None:
        def numbers(row: dict[str, Any]) -> list[Any]:
            return [cell(fmt.count(row["requests"]), align_right=True),
                    cell(fmt.count(row["promptTokens"]), align_right=True),
                    cell(fmt.count(row["completionTokens"]), align_right=True),
                    cell(fmt.usd(row["cost"]), align_right=True),
                    cell(fmt.count(row["errors"]), align_right=True,
                         color=ERROR_COLOR if row["errors"] else MUTED_COLOR)]

        self.providers_view.show_rows([[cell(provider_name(row["provider"]), data=row["provider"])] + numbers(row)
                                       for row in history["byProvider"]])
        self.models_view.show_rows([[cell(row["model"] or "—", data=row["model"]),
                                     cell(provider_name(row["provider"]))] + numbers(row)
                                    for row in history["byModel"]])

    def _update_provider_filter(self, history: dict[str, Any]) -> None:
        current = self.provider_filter.currentData()
        wanted = [row["provider"] for row in history["byProvider"] if row["provider"]]
        if current and current not in wanted:
            wanted.append(current)  # keep the user's choice even when it has nothing in this range
        present = [self.provider_filter.itemData(i) for i in range(1, self.provider_filter.count())]
        if present == wanted:
            return
        self.provider_filter.blockSignals(True)
        self.provider_filter.clear()
        self.provider_filter.addItem(tr("All providers"), None)
        for provider_id in wanted:
            self.provider_filter.addItem(provider_name(provider_id), provider_id)
        self.provider_filter.setCurrentIndex(max(0, self.provider_filter.findData(current)) if current else 0)
        self.provider_filter.blockSignals(False)

    def _show_log(self, page: dict[str, Any]) -> None:
        rows = []
        now = time.time()
        for item in page["items"]:
            failed = item["status"] >= 400
            rows.append([
                cell(fmt.timestamp(item["timestamp"], now), data=item["id"]),
                cell(provider_name(item["provider"])),
                cell(item["model"] or "—"),
                cell(str(item["status"]), color=ERROR_COLOR if failed else None, align_right=True),
                cell(fmt.count(item["promptTokens"]), align_right=True),
                cell(fmt.count(item["completionTokens"]), align_right=True),
                cell(fmt.milliseconds(item["latencyMs"]), align_right=True),
                cell(fmt.usd(item["cost"]), align_right=True),
            ])
        filtered = any((self.provider_filter.currentData(), self.status_filter.currentData(),
                        self.search_field.text().strip()))
        self.log_view.empty.setText(tr("No requests match these filters.") if filtered
                                    else tr("No requests in this range yet."))
        self.log_view.show_rows(rows)
        self._update_paging()

    def _update_paging(self) -> None:
        total = self.log_page["total"] if self.log_page else 0
        shown = len(self.log_page["items"]) if self.log_page else 0
        if total:
            self.page_label.setText(tr("{first}–{last} of {total}", first=f"{self.offset + 1:,}",
                                       last=f"{self.offset + shown:,}", total=f"{total:,}"))
        else:
            self.page_label.setText("")
        self.previous_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + shown < total)
