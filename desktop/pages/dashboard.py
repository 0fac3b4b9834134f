"""Dashboard: what went through the gateway in a chosen range — totals, a chart over time, tables per
provider and per model, and the searchable request log. Numbers come from `usage_queries`, the same code
that answers `/api/usage/*`, so the window and the API never disagree."""

from __future__ import annotations

import asyncio
import itertools
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
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
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
from desktop.pages.dashboard_storage import StoragePanel
from desktop.widgets.chart import ChartSeries, TimeSeriesChart, nice_ceiling
from desktop.widgets.evals_panel import EvalsPanel
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
            Range(tr("Last 30 days"), 30, "day"), Range(tr("Last 12 months"), 365, "day"))


def bucket_starts(chosen: Range, now: float) -> list[float]:
    """Bucket starts ending with the one holding `now`: whole hours, or local midnights."""
    if chosen.bucket == "hour":
        last = math.floor(now / 3600) * 3600
        return [last - (chosen.buckets - 1 - i) * 3600 for i in range(chosen.buckets)]
    midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [(midnight - timedelta(days=chosen.buckets - 1 - i)).timestamp() for i in range(chosen.buckets)]


AXIS_STEPS = 4  # the chart divides each value axis into four steps


def count_axis_top(peak: float) -> int:
    """The top of a count axis whose steps are whole numbers (1, 2, 5, 10, 20, 50, … per step): a chart of
    three requests reads 0, 1, 2, 3, 4, never 0.75."""
    step, factors = 1, itertools.cycle((2, 2.5, 2))
    while step * AXIS_STEPS < peak:
        step = round(step * next(factors))
    return step * AXIS_STEPS


def cost_axis(peak: float) -> tuple[float, Any]:
    """The cost axis' top and a label format with as many decimals as its steps need: $0.0002, $0.0004 when
    a day costs fractions of a cent, $5, $10 when it costs dollars."""
    top = nice_ceiling(peak, AXIS_STEPS) if peak > 0 else 0.01 * AXIS_STEPS
    step = top / AXIS_STEPS
    decimals = next((d for d in range(2, 10) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 10)
    return top, lambda value: f"${value:,.{decimals}f}"


def describe_request(item: dict[str, Any]) -> str:
    """A request-log row in words, with each attempt the gateway made for it (shown on hover and on
    double-click)."""
    lines = [tr("{path} → {status}", path=item.get("path") or "—", status=item["status"])]
    if item.get("error"):
        lines.append(tr("Error: {error}", error=item["error"]))
    attempts = item.get("attempts") or []
    if attempts:
        lines.append(tr("Attempts:"))
    for number, attempt in enumerate(attempts, 1):
        target = "/".join(str(attempt[k]) for k in ("provider", "model") if attempt.get(k))
        if attempt.get("account") not in (None, ""):
            target += tr(" (account {account})", account=attempt["account"])
        said = [str(attempt["status"])] if attempt.get("status") not in (None, "") else []
        said += [str(attempt["error"])] if attempt.get("error") else []
        said += [tr("skipped ({reason})", reason=attempt["skipped"])] if attempt.get("skipped") else []
        outcome = " ".join(said) or "—"
        took = f", {fmt.milliseconds(attempt['ms'])}" if isinstance(attempt.get("ms"), (int, float)) else ""
        lines.append(f"  {number}. {target or '—'}: {outcome}{took}")
    return "\n".join(lines)


class RequestDetails(QDialog):
    def __init__(self, parent: QWidget, text: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Request details"))
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(520, 300)


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
        self.cursors: list[int | None] = [None]  # `before` of each request-log page shown so far; last = this one
        self.details: RequestDetails | None = None
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
        self.log_table = read_only_table([tr("Time"), tr("Provider"), tr("Model"), tr("Status"), tr("Tries"), tr("In"),
                                          tr("Out"), tr("Latency"), tr("Cost")], stretch=2)
        self.log_table.itemDoubleClicked.connect(self.show_request_details)
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
        self.storage_panel = StoragePanel(services)
        self.tabs.addTab(self.storage_panel, tr("Storage"))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.evals_panel = EvalsPanel(services)
        self.tabs.addTab(self.evals_panel, tr("Evaluations"))

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
        self.cursors = [None]
        self.request_refresh()

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.storage_panel:
            self.tasks.start(self.storage_panel.refresh())

    def _page(self, step: int) -> None:
        """Older pages by key (the requests before the last one shown), newer ones by going back."""
        if step > 0 and self.log_page and self.log_page["nextBefore"] is not None:
            self.cursors.append(self.log_page["nextBefore"])
        elif step < 0 and len(self.cursors) > 1:
            self.cursors.pop()
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
                                      before=self.cursors[-1], **filters)
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
        if self.tabs.currentWidget() is self.storage_panel:
            await self.storage_panel.refresh(limits_too=False)
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
        index_of = {int(start): index for index, start in enumerate(starts)}  # local midnights: days vary
        requests = [0.0] * len(starts)
        cost = [0.0] * len(starts)
        for point in history["series"]:
            index = index_of.get(int(point["start"]))
            if index is not None:
                requests[index] += point["requests"]
                cost[index] += point["cost"]
        cost_top, cost_format = cost_axis(max(cost, default=0.0))
        self.chart.set_axis_maximum("left", count_axis_top(max(requests, default=0.0)))
        self.chart.set_axis_maximum("right", cost_top)
        self.chart.set_data(starts, width, [
            ChartSeries(tr("Requests"), requests, REQUESTS_COLOR, "bars", "left", fmt.count),
            ChartSeries(tr("Cost"), cost, COST_COLOR, "line", "right", cost_format),
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
            details = describe_request(item)
            tries = len(item.get("attempts") or []) or 1
            rows.append([
                cell(fmt.timestamp(item["timestamp"], now), data=item["id"], tooltip=details),
                cell(provider_name(item["provider"]), tooltip=details),
                cell(item["model"] or "—", tooltip=details),
                cell(str(item["status"]), color=ERROR_COLOR if failed else None, align_right=True, tooltip=details),
                cell(str(tries), align_right=True, color=MUTED_COLOR if tries == 1 else None, tooltip=details),
                cell(fmt.count(item["promptTokens"]), align_right=True, tooltip=details),
                cell(fmt.count(item["completionTokens"]), align_right=True, tooltip=details),
                cell(fmt.milliseconds(item["latencyMs"]), align_right=True, tooltip=details),
                cell(fmt.usd(item["cost"]), align_right=True, tooltip=details),
            ])
        filtered = any((self.provider_filter.currentData(), self.status_filter.currentData(),
                        self.search_field.text().strip()))
        self.log_view.empty.setText(tr("No requests match these filters.") if filtered
                                    else tr("No requests in this range yet."))
        self.log_view.show_rows(rows)
        self._update_paging()

    def _update_paging(self) -> None:
        page = self.log_page or {"total": 0, "totalIsExact": True, "items": [], "nextBefore": None}
        shown, skipped = len(page["items"]), (len(self.cursors) - 1) * PAGE_SIZE
        # the log counts its matches up to a limit ("1,000+"); deeper pages say at least how far they are
        total = max(page["total"], skipped + shown)
        counted = f"{total:,}" if page.get("totalIsExact", True) and total == page["total"] else f"{total:,}+"
        self.page_label.setText(tr("{first}–{last} of {total}", first=f"{skipped + 1:,}", last=f"{skipped + shown:,}",
                                   total=counted) if shown else "")
        self.previous_button.setEnabled(len(self.cursors) > 1)
        self.next_button.setEnabled(page["nextBefore"] is not None)

    def show_request_details(self, item: Any) -> RequestDetails | None:
        """The double-clicked request with every attempt the gateway made for it."""
        row = item.row() if item is not None else -1
        if not self.log_page or not 0 <= row < len(self.log_page["items"]):
            return None
        self.details = RequestDetails(self, describe_request(self.log_page["items"][row]))
        self.details.open()
        return self.details
