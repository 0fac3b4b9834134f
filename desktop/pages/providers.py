"""Providers: the catalogue and the user's custom endpoints on the left; the chosen one's accounts, its
connection test and its models on the right. The store and the checks are the core's; this page only
collects input, calls them off the loop, and says what happened."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QHideEvent, QIcon, QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import settings
from core.gateway.accounts import API_FORMATS, Account, CustomEndpoint
from core.gateway.checks import CheckResult, check_connection
from core.gateway.routing import ProxySettings
from core.i18n import tr
from core.providers import catalog
from core.configuration import Configuration
from core.providers.catalog import Provider
from core.net.proxies import mask_proxy, scrub_proxy
from core.services import CoreServices
from core.settings import ConfigError
from core.subscriptions.credentials import SUBSCRIPTION_PROVIDERS
from desktop.widgets import format as fmt
from desktop.widgets.feedback import (
    ERROR_COLOR,
    MUTED_COLOR,
    WARNING_COLOR,
    ConfirmBox,
    SecretField,
    StatusLabel,
    cell,
    empty_state,
    fill_table,
    hint,
    read_only_table,
    select_row_with,
    selected_data,
    show_rows,
    title_label,
)
from desktop.pages.subscriptions import SubscriptionActions, subscription_headers, subscription_row
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.long_action import LongAction
from desktop.widgets.saving_dialog import Saver, SavingDialog
from desktop.widgets.proxy_field import ProxyField
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

log = logging.getLogger(__name__)

PROVIDER = "provider"
NODE = "node"
MARKS_EVERY_MS = 5000  # how often a shown page looks for accounts the gateway set aside


def format_label(api_format: str) -> str:
    """How a custom endpoint's API format reads in the window."""
    labels = {"openai": tr("OpenAI-compatible (/chat/completions)"),
              "anthropic": tr("Anthropic-compatible (/messages)"),
              "gemini": tr("Gemini-compatible (/models/…:generateContent)"),
              "responses": tr("OpenAI Responses (/responses)"),
              "ollama": tr("Ollama (/api/chat)")}
    return labels.get(api_format, api_format)


def wire_format_name(wire_format: str) -> str:
    names = {"openai": tr("OpenAI format"), "anthropic": tr("Anthropic format"), "gemini": tr("Gemini format")}
    return names.get(wire_format, wire_format)


def model_kind(kind: str) -> str:
    return {"chat": tr("chat"), "embedding": tr("embed")}.get(kind, kind)



def _dot(color: str | None) -> QIcon:
    """A small status dot for the list; None draws a hollow ring (not connected)."""
    size = 12
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if color is None:
        painter.setPen(QColor("#b8bec6"))
        painter.drawEllipse(2, 2, size - 5, size - 5)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


def describe_check(name: str, result: CheckResult) -> str:
    """'work: Connected in 123 ms, 42 models.' or 'work: <the provider's error in words>'."""
    if not result.ok:
        return tr("{name}: {message}", name=name, message=result.message)
    latency = tr(" in {ms} ms", ms=f"{result.latency_ms:.0f}") if result.latency_ms is not None else ""
    count = len(result.models)
    models = (tr(", {count} model", count=count) if count == 1 else tr(", {count} models", count=count)) if count \
        else ""
    return tr("{name}: Connected{latency}{models}.", name=name, latency=latency, models=models)


def _key_headers() -> list[str]:
    return [tr("Name"), tr("API key"), tr("Priority"), tr("State"), tr("Default model")]


Marks = dict[tuple[str, Any], str]  # (provider, account id) -> why the gateway set the account aside


def set_aside_cell(reason: str) -> Any:
    """An account the gateway skips after the provider refused it (HTTP 401/402/403), until it changes."""
    return cell(tr("⚠ set aside: {reason}", reason=tr(reason)), color=ERROR_COLOR,
                tooltip=tr("The gateway stopped sending requests to this account: {reason}. It tries the account "
                           "again once it (or any other setting) is changed: edit it to paste a new key, or add "
                           "credit at the provider and save the account.", reason=tr(reason)))


def state_cell(account: Account, marks: Marks) -> Any:
    reason = marks.get((account.provider, account.id))
    if reason is not None and account.active:
        return set_aside_cell(reason)
    return cell(tr("Active") if account.active else tr("Off"), color=None if account.active else MUTED_COLOR)


def _context(tokens: int | None) -> str:
    if not tokens:
        return "—"
    if tokens >= 1_000_000:
        return f"{tokens / 1_048_576:.0f}M" if tokens % 1_048_576 == 0 else f"{tokens / 1_000_000:.1f}M"
    return f"{round(tokens / 1000)}k"


class ProvidersPage(RefreshOnShowPage):
    """Accounts can also change through the management API: the page re-reads them whenever it is shown."""

    def __init__(self, services: CoreServices) -> None:
        super().__init__("Providers page")
        self.services = services
        self.accounts: list[Account] = []
        self.endpoints: list[CustomEndpoint] = []
        self.live_models: dict[tuple[str, Any], list[str]] = {}  # (kind, id) -> models from the last good Test
        self.current: tuple[str, Any] | None = None
        self.dialog: QDialog | None = None  # the open add/edit dialog (tests reach it here)
        self.confirm_box: ConfirmBox | None = None
        self.test_task: asyncio.Task[None] | None = None
        self.marks: Marks = {}
        self.marks_timer = QTimer(self)  # runs while the page is shown
        self.marks_timer.setInterval(MARKS_EVERY_MS)
        self.marks_timer.timeout.connect(self.show_marks)

        # Left: catalogue and custom endpoints
        self.filter_field = QLineEdit()
        self.filter_field.setPlaceholderText(tr("Filter providers"))
        self.filter_field.setClearButtonEnabled(True)
        self.filter_field.textChanged.connect(self._apply_filter)
        self.provider_list = QListWidget()
        self.provider_list.setIconSize(QSize(12, 12))
        self.provider_list.setStyleSheet("QListWidget::item { padding: 3px 2px; }")
        self.provider_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.provider_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.provider_list.currentItemChanged.connect(self._on_current_item)
        self.add_endpoint_button = QPushButton(tr("Add custom endpoint…"))
        self.add_endpoint_button.setToolTip(tr("Any OpenAI- or Anthropic-compatible server, with its own prefix"))
        self.add_endpoint_button.clicked.connect(lambda: self.open_endpoint_dialog())
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.filter_field)
        left.addWidget(self.provider_list, 1)
        left.addWidget(self.add_endpoint_button)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left_widget.setFixedWidth(200)

        self.views = QStackedWidget()
        self.provider_view = self._build_provider_view()
        self.endpoint_view = self._build_endpoint_view()
        self.views.addWidget(self.provider_view)
        self.views.addWidget(self.endpoint_view)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left_widget)
        layout.addWidget(self.views, 1)

        self._rebuild_list()
        self.select(PROVIDER, catalog.providers()[0].id)
        self.refresh_soon()

    # -- building --------------------------------------------------------------------------------
    def _build_provider_view(self) -> QWidget:
        self.title = title_label()
        self.subtitle = hint("")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_link = QLabel()
        self.key_link.setOpenExternalLinks(True)

        self.accounts_table = read_only_table(_key_headers())
        self.accounts_table.itemSelectionChanged.connect(self._update_account_buttons)
        self.accounts_table.itemDoubleClicked.connect(lambda _item: self.open_account_dialog(self._selected_account()))
        self.accounts_empty = empty_state("")
        self.add_account_button = QPushButton(tr("Add account…"))
        self.add_account_button.clicked.connect(lambda: self.open_account_dialog())
        self.edit_account_button = QPushButton(tr("Edit…"))
        self.edit_account_button.clicked.connect(lambda: self.open_account_dialog(self._selected_account()))
        self.remove_account_button = QPushButton(tr("Remove…"))
        self.remove_account_button.clicked.connect(self.confirm_remove_account)
        self.test_button = QPushButton(tr("Test"))
        self.test_button.setToolTip(tr("Ask the provider whether the selected account's key works, and how fast"))
        self.test_button.clicked.connect(self.test_selected)
        self.subscription_actions = SubscriptionActions(self, self._after_change)  # Sign in…, Import…
        self.status = StatusLabel()  # the view's one line: a Test, an add, a removal — each replaces the last
        self.test_action = LongAction(self.tasks, self.status, self)
        self.test_action.running_changed.connect(lambda _running: self._update_test_buttons())
        buttons = button_row(self.add_account_button, self.subscription_actions, self.edit_account_button,
                             self.remove_account_button, right=self.test_action.button_slot(self.test_button))
        accounts_box = table_section(tr("Accounts"), self.accounts_table, self.accounts_empty, buttons,
                                     self.subscription_actions.warning, self.status)

        self.models_table = read_only_table([tr("Model"), tr("Type"), tr("Input"), tr("Output"), tr("Cached"),
                                             tr("Context")])
        self.models_table.setToolTip(tr("Double-click a model to copy its full name"))
        self.models_table.itemDoubleClicked.connect(self._copy_model_name)
        self.model_filter = QLineEdit()
        self.model_filter.setPlaceholderText(tr("Filter models"))
        self.model_filter.setClearButtonEnabled(True)
        self.model_filter.textChanged.connect(self._show_models)
        self.models_hint = hint("")
        models_layout = QVBoxLayout()
        models_layout.addWidget(self.model_filter)
        models_layout.addWidget(self.models_table, 1)
        models_layout.addWidget(self.models_hint)
        models_box = QGroupBox(tr("Models"))
        models_box.setLayout(models_layout)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(accounts_box)
        splitter.addWidget(models_box)
        splitter.setStretchFactor(0, 1)  # the accounts' notes (e.g. the shared-session warning) need the room
        splitter.setStretchFactor(1, 1)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.key_link)
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.subtitle)
        layout.addWidget(splitter, 1)
        view = QWidget()
        view.setLayout(layout)
        return view

    def _build_endpoint_view(self) -> QWidget:
        self.endpoint_title = title_label()
        self.endpoint_subtitle = hint("")
        self.endpoint_details = QFormLayout()
        self.endpoint_prefix_label = QLabel()
        self.endpoint_url_label = QLabel()
        self.endpoint_format_label = QLabel()
        self.endpoint_headers_label = QLabel()
        self.endpoint_key_label = QLabel()
        for label in (self.endpoint_prefix_label, self.endpoint_url_label, self.endpoint_format_label,
                      self.endpoint_headers_label, self.endpoint_key_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        self.endpoint_details.addRow(tr("Prefix:"), self.endpoint_prefix_label)
        self.endpoint_details.addRow(tr("Base URL:"), self.endpoint_url_label)
        self.endpoint_details.addRow(tr("Format:"), self.endpoint_format_label)
        self.endpoint_details.addRow(tr("Headers:"), self.endpoint_headers_label)
        self.endpoint_details.addRow(tr("API key:"), self.endpoint_key_label)
        self.edit_endpoint_button = QPushButton(tr("Edit…"))
        self.edit_endpoint_button.clicked.connect(lambda: self.open_endpoint_dialog(self._current_endpoint()))
        self.remove_endpoint_button = QPushButton(tr("Remove…"))
        self.remove_endpoint_button.clicked.connect(self.confirm_remove_endpoint)
        self.endpoint_test_button = QPushButton(tr("Test"))
        self.endpoint_test_button.setToolTip(tr("List the endpoint's models to check that it answers"))
        self.endpoint_test_button.clicked.connect(self.test_selected)
        self.endpoint_status = StatusLabel()
        self.endpoint_test_action = LongAction(self.tasks, self.endpoint_status, self)
        self.endpoint_test_action.running_changed.connect(lambda _running: self._update_test_buttons())
        buttons = button_row(self.edit_endpoint_button, self.remove_endpoint_button,
                             right=self.endpoint_test_action.button_slot(self.endpoint_test_button))
        details_layout = QVBoxLayout()
        details_layout.addLayout(self.endpoint_details)
        details_layout.addLayout(buttons)
        details_layout.addWidget(self.endpoint_status)
        details_box = QGroupBox(tr("Endpoint"))
        details_box.setLayout(details_layout)

        self.endpoint_models_table = read_only_table([tr("Model")])
        self.endpoint_models_table.setToolTip(tr("Double-click a model to copy its full name"))
        self.endpoint_models_table.itemDoubleClicked.connect(self._copy_model_name)
        self.endpoint_models_empty = empty_state("")
        models_box = table_section(tr("Models"), self.endpoint_models_table, self.endpoint_models_empty)

        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.endpoint_title)
        layout.addWidget(self.endpoint_subtitle)
        layout.addWidget(details_box)
        layout.addWidget(models_box, 1)
        view = QWidget()
        view.setLayout(layout)
        return view

    # -- data ------------------------------------------------------------------------------------
    def can_refresh(self) -> bool:
        return self.services.accounts is not None

    async def refresh(self) -> None:
        store = self.services.accounts
        if store is None:
            return
        try:
            self.accounts, self.endpoints = await off_loop(lambda: (store.accounts(), store.endpoints()))
        except Exception as exc:
            log.exception("Reading accounts failed")
            self._page_status().error(tr("Could not read the accounts: {error}", error=exc))
            return
        self.marks = self._read_marks()
        self._rebuild_list()
        self._show_current()

    # -- accounts the gateway set aside (a rejected key, no credit) ----------------------------------------
    def _read_marks(self) -> Marks:
        runtime = self.services.runtime
        if runtime is None:
            return {}
        return {(mark["provider"], mark["accountId"]): mark["reason"]
                for mark in runtime.resilience.state()["marks"]}

    def show_marks(self) -> None:
        """Look again (the gateway marks accounts as it serves); redraw only when something changed."""
        marks = self._read_marks()
        if marks != self.marks:
            self.marks = marks
            self._rebuild_list()  # a provider whose accounts are all set aside is no longer "connected"
            self._show_current()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        self.marks_timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        self.marks_timer.stop()
        super().hideEvent(event)

    def _accounts_of(self, provider_id: str) -> list[Account]:
        return [a for a in self.accounts if a.provider == provider_id]

    def _rebuild_list(self) -> None:
        current = self.current
        self.provider_list.blockSignals(True)
        self.provider_list.clear()
        known = {p.id for p in catalog.providers()}
        # The subscriptions people already pay for come first; API-key providers after them.
        subscriptions = [p for p in catalog.providers() if p.id in SUBSCRIPTION_PROVIDERS]
        self._add_header(tr("SUBSCRIPTIONS"))
        for provider in subscriptions:
            self._add_provider_item(provider.id, provider.name, self._accounts_of(provider.id))
        self._add_header(tr("PROVIDERS"))
        for provider in catalog.providers():
            if provider.id in SUBSCRIPTION_PROVIDERS:
                continue
            self._add_provider_item(provider.id, tr("{name}  · local", name=provider.name) if provider.local
                                    else provider.name, self._accounts_of(provider.id))
        for provider_id in sorted({a.provider for a in self.accounts} - known):
            self._add_provider_item(provider_id, tr("{id} (unknown)", id=provider_id), self._accounts_of(provider_id))
        self._add_header(tr("CUSTOM ENDPOINTS"))
        for endpoint in self.endpoints:
            item = QListWidgetItem(_dot(WARNING_COLOR if endpoint.needs_key else "#3b82f6"), f"{endpoint.name}")
            item.setData(Qt.ItemDataRole.UserRole, (NODE, endpoint.id))
            item.setToolTip(f"{endpoint.name}: {endpoint.prefix}/<model> → {endpoint.base_url}")
            self.provider_list.addItem(item)
        if not self.endpoints:
            item = QListWidgetItem(tr("None yet"))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            item.setForeground(QColor(MUTED_COLOR))
            self.provider_list.addItem(item)
        self.provider_list.blockSignals(False)
        self._apply_filter()
        if current is not None and not self._select_item(current):
            self.current = None
            self.select(PROVIDER, catalog.providers()[0].id)

    def _add_header(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = item.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        item.setFont(font)
        item.setForeground(QColor(MUTED_COLOR))
        item.setData(Qt.ItemDataRole.UserRole, ("header", text))
        self.provider_list.addItem(item)

    def _add_provider_item(self, provider_id: str, label: str, accounts: list[Account]) -> None:
        usable = [a for a in accounts if a.active and not a.needs_key and (a.provider, a.id) not in self.marks]
        if usable:
            icon, tip = _dot("#22a06b"), (tr("Connected: {count} active account", count=len(usable)) if len(usable) == 1
                                          else tr("Connected: {count} active accounts", count=len(usable)))
        elif accounts:
            icon, tip = _dot(WARNING_COLOR), tr("Has accounts, but none is active and usable")
        else:
            icon, tip = _dot(None), tr("Not connected")
        item = QListWidgetItem(icon, label)
        item.setData(Qt.ItemDataRole.UserRole, (PROVIDER, provider_id))
        item.setToolTip(f"{label.split('  ·')[0]} — {tip}")
        if usable:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self.provider_list.addItem(item)

    def _apply_filter(self) -> None:
        needle = self.filter_field.text().strip().lower()
        for row in range(self.provider_list.count()):
            item = self.provider_list.item(row)
            key = item.data(Qt.ItemDataRole.UserRole)
            if not needle or key is None or key[0] == "header":
                item.setHidden(False)
                continue
            words = item.text().lower()
            if key[0] == PROVIDER:
                provider = catalog.get_provider(key[1])
                if provider:
                    words += " " + " ".join(provider.names)
            else:
                endpoint = next((n for n in self.endpoints if n.id == key[1]), None)
                words += f" {endpoint.prefix}" if endpoint else ""
            item.setHidden(needle not in words)

    def _select_item(self, key: tuple[str, Any]) -> bool:
        for row in range(self.provider_list.count()):
            item = self.provider_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                self.provider_list.setCurrentItem(item)
                return True
        return False

    def select(self, kind: str, ident: Any) -> bool:
        """Show a provider (by catalogue id) or a custom endpoint (by id)."""
        self.current = (kind, ident)
        found = self._select_item((kind, ident))
        self._show_current()
        return found

    def _on_current_item(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        key = item.data(Qt.ItemDataRole.UserRole) if item else None
        if not key or key[0] not in (PROVIDER, NODE) or key == self.current:
            return
        self.current = tuple(key)
        for action in (self.test_action, self.endpoint_test_action):
            if not action.running():  # a running test keeps its line (and its Cancel) until it ends
                action.status.clear()
        self.model_filter.clear()
        self._show_current()

    # -- showing the current provider or endpoint --------------------------------------------------
    def _current_provider(self) -> Provider | None:
        if self.current and self.current[0] == PROVIDER:
            return catalog.get_provider(self.current[1])
        return None

    def _current_endpoint(self) -> CustomEndpoint | None:
        if self.current and self.current[0] == NODE:
            return next((n for n in self.endpoints if n.id == self.current[1]), None)
        return None

    def _page_status(self) -> StatusLabel:
        return self.endpoint_status if self.current and self.current[0] == NODE else self.status

    def _show_current(self) -> None:
        if self.current is None:
            return
        if self.current[0] == NODE:
            self.views.setCurrentWidget(self.endpoint_view)
            self._show_endpoint()
        else:
            self.views.setCurrentWidget(self.provider_view)
            self._show_provider()

    def _show_provider(self) -> None:
        provider_id = self.current[1] if self.current else ""
        provider = catalog.get_provider(provider_id)
        accounts = self._accounts_of(provider_id)
        if provider is None:
            self.title.setText(provider_id)
            self.subtitle.setText(tr("This provider is not in Quotagate's catalogue, so the gateway cannot route "
                                     "to it. Remove these accounts, or add a custom endpoint instead."))
            self.key_link.clear()
        else:
            where = tr("on this computer") if provider.local else urlsplit(provider.base_url).hostname
            self.title.setText(provider.name)
            self.subtitle.setText(f"{provider.prefix}/<model> · {wire_format_name(provider.format)} · {where}")
            self.subtitle.setToolTip(provider.base_url)
            self.key_link.setText(f'<a href="{provider.key_url}">{tr("Get an API key")}</a>' if provider.key_url
                                  else "")
        self.add_account_button.setEnabled(provider is not None)
        subscription = provider_id in SUBSCRIPTION_PROVIDERS  # signed in, not keyed
        self.add_account_button.setVisible(not subscription)
        self.subscription_actions.show_for(provider_id if subscription else None)
        self.accounts_table.setHorizontalHeaderLabels(subscription_headers() if subscription else _key_headers())
        rows = []
        for account in accounts:
            if subscription:
                reason = self.marks.get((account.provider, account.id))
                rows.append(subscription_row(account, set_aside_cell(reason) if reason is not None else None))
                continue
            public = account.public()
            if account.needs_key:
                key_cell = cell(tr("⚠ re-enter key"), color=ERROR_COLOR,
                                tooltip=tr("This key was encrypted on another computer (a restored backup) and "
                                           "cannot be read here. Edit the account and paste the key again."))
            elif public["apiKey"]:
                key_cell = cell(public["apiKey"])
            else:
                key_cell = cell(tr("none"), color=MUTED_COLOR)
            name_tip = tr("Proxy: {proxy}", proxy=public["proxy"]) if public.get("proxy") else ""
            rows.append([
                cell(account.name, data=account.id, tooltip=name_tip),
                key_cell,
                cell(str(account.priority), align_right=True),
                state_cell(account, self.marks),
                cell(account.default_model or "—", color=None if account.default_model else MUTED_COLOR),
            ])
        selected = selected_data(self.accounts_table)
        fill_table(self.accounts_table, rows)
        if not (selected is not None and select_row_with(self.accounts_table, selected)) and rows:
            self.accounts_table.selectRow(0)
        name = provider.name if provider else provider_id
        if provider is not None and subscription:
            empty = tr("No {name} sign-in yet. Sign in (recommended), or import the sign-in of a tool you use, to "
                       "use {prefix}/… models.", name=name, prefix=provider.prefix)
        elif provider is not None and provider.local:
            empty = tr("No {name} account yet. Add one (a key is only needed if your server asks for a token) "
                       "to use {prefix}/… models.", name=name, prefix=provider.prefix)
        elif provider is not None:
            empty = tr("No {name} account yet. Add one with your API key to use {prefix}/… models.", name=name,
                       prefix=provider.prefix)
        else:
            empty = tr("No accounts.")
        self.accounts_empty.setText(empty)
        self.accounts_table.setVisible(bool(rows))
        self.accounts_empty.setVisible(not rows)
        self._update_account_buttons()
        self._show_models()

    def _show_models(self) -> None:
        provider = self._current_provider()
        if provider is None:
            fill_table(self.models_table, [])
            self.models_hint.setText("")
            return
        needle = self.model_filter.text().strip().lower()
        live = self.live_models.get((PROVIDER, provider.id), [])
        live_set = set(live)
        rows = []
        for model in provider.models:
            if needle and needle not in model.id.lower():
                continue
            price = model.price
            tip = tr("Listed by the provider at the last Test") if model.id in live_set else ""
            rows.append([
                cell(model.id, data=f"{provider.prefix}/{model.id}", tooltip=f"{provider.prefix}/{model.id}"
                     + (f" — {tip}" if tip else "")),
                cell(model_kind(model.kind)),
                cell(fmt.price(price.input), align_right=True),
                cell(fmt.price(price.output), align_right=True),
                cell(fmt.price(price.cached_input), align_right=True),
                cell(_context(model.context), align_right=True),
            ])
        known = {m.id for m in provider.models}
        extra = [m for m in live if m not in known and (not needle or needle in m.lower())]
        for model_id in extra:
            rows.append([cell(model_id, data=f"{provider.prefix}/{model_id}",
                              tooltip=tr("Listed by the provider at the last Test; no catalogue price")),
                         cell(tr("live"), color=MUTED_COLOR)]
                        + [cell("—", align_right=True, color=MUTED_COLOR) for _ in range(4)])
        fill_table(self.models_table, rows)
        if provider.id in SUBSCRIPTION_PROVIDERS:  # flat-rate: what a request costs is the plan's quota
            note = tr("Included in the subscription: no per-token price; its quota shows in the tray. "
                      "Double-click a model to copy its full name.")
        else:
            note = tr("USD per 1M tokens; double-click a model to copy its full name.")
        if live:
            note += tr(" “live”: listed by the provider at the last Test ({count} in all).", count=len(live))
        self.models_hint.setText(note)
        self.model_filter.setVisible(len(provider.models) + len(extra) > 10 or bool(needle))

    def _show_endpoint(self) -> None:
        endpoint = self._current_endpoint()
        if endpoint is None:
            return
        public = endpoint.public()
        self.endpoint_title.setText(endpoint.name)
        self.endpoint_subtitle.setText(tr("Custom endpoint · models as {prefix}/<model>", prefix=endpoint.prefix))
        self.endpoint_prefix_label.setText(f"{endpoint.prefix}/")
        self.endpoint_url_label.setText(endpoint.base_url)
        self.endpoint_format_label.setText(format_label(endpoint.api_format))
        headers = public["headers"]
        self.endpoint_headers_label.setText(", ".join(f"{k}: {v}" for k, v in headers.items()) if headers else tr("none"))
        if endpoint.needs_key:
            self.endpoint_key_label.setText(tr("⚠ This key was encrypted on another computer; edit the endpoint and "
                                           "paste it again."))
            self.endpoint_key_label.setStyleSheet(f"color: {ERROR_COLOR};")
        else:
            self.endpoint_key_label.setText(public["apiKey"] or tr("none"))
            self.endpoint_key_label.setStyleSheet("")
        live = self.live_models.get((NODE, endpoint.id), [])
        self.endpoint_models_empty.setText(tr("Run Test to list this endpoint's models. Any model name works as "
                                          "{prefix}/<model>.", prefix=endpoint.prefix))
        show_rows(self.endpoint_models_table, self.endpoint_models_empty, [[cell(m, data=f"{endpoint.prefix}/{m}")] for m in live])
        self._update_test_buttons()

    def _selected_account(self) -> Account | None:
        account_id = selected_data(self.accounts_table)
        return next((a for a in self.accounts if a.id == account_id), None)

    def _update_account_buttons(self) -> None:
        has = self._selected_account() is not None
        provider = self._current_provider()
        # A sign-in has no key to edit: sign in again to replace it (the dialog would store a key over it).
        self.edit_account_button.setEnabled(has and provider is not None and provider.id not in SUBSCRIPTION_PROVIDERS)
        self.remove_account_button.setEnabled(has)
        self._update_test_buttons()

    def _update_test_buttons(self) -> None:
        testing = self.test_action.running() or self.endpoint_test_action.running()
        self.test_button.setEnabled(not testing and self._selected_account() is not None
                                    and self._current_provider() is not None)
        self.endpoint_test_button.setEnabled(not testing and self._current_endpoint() is not None)

    def _copy_model_name(self, item: Any) -> None:
        table = item.tableWidget()
        full = table.item(item.row(), 0).data(Qt.ItemDataRole.UserRole)
        if full:
            QGuiApplication.clipboard().setText(full)
            self._page_status().info(tr("Copied {name} to the clipboard.", name=full))

    # -- Test ------------------------------------------------------------------------------------
    def test_selected(self) -> asyncio.Task[None] | None:
        """Test the selected account (or the endpoint shown): the seconds count on the view's line and Cancel
        stands in the Test button's place."""
        endpoint_view = self.current is not None and self.current[0] == NODE
        target: Account | CustomEndpoint | None = self._current_endpoint() if endpoint_view \
            else self._selected_account()
        action = self.endpoint_test_action if endpoint_view else self.test_action
        if target is None:
            action.status.error(tr("Select an account to test."))
            return None
        runtime = self.services.runtime
        if runtime is None:
            action.status.error(tr("The gateway is stopped, so nothing can be tested now."))
            return None
        key = (NODE, target.id) if isinstance(target, CustomEndpoint) else (PROVIDER, target.provider)
        proxies: list[ProxySettings] = []  # read in the test, used to scrub whatever it says

        async def work() -> CheckResult:
            proxies.append(await off_loop(self._proxy_settings))
            return await check_connection(target, runtime.clients, proxies[0])

        def done(result: CheckResult, _seconds: float) -> None:
            self._tested(target, key, result, proxies[0] if proxies else None)

        def named(message: str) -> str:
            return self._scrub(tr("{name}: {message}", name=target.name, message=message), target,
                               proxies[0] if proxies else None)

        self.test_task = action.start(
            tr("Testing {name}…", name=target.name), work, done,
            lambda seconds: named(tr("test cancelled after {seconds} s.", seconds=seconds)),
            lambda exc: named(tr("the test could not run ({error}).", error=exc)))
        return self.test_task

    def _tested(self, target: Account | CustomEndpoint, key: tuple[str, Any], result: CheckResult,
                proxies: ProxySettings | None) -> None:
        status = self.endpoint_status if key[0] == NODE else self.status
        if result.ok and result.models:
            self.live_models[key] = result.models
        if self.current != key:  # the user moved on to another provider meanwhile
            status.clear()
            return
        if result.ok:
            status.ok(describe_check(target.name, result))
        else:
            message = describe_check(target.name, result)
            proxy = self._proxy_for(target, proxies)
            if proxy and result.status is None:  # not an answer from the provider: the way there failed
                message += tr(" The request went through the proxy {proxy} (Proxies page).", proxy=mask_proxy(proxy))
            status.error(self._scrub(message, target, proxies))
        self.marks = self._read_marks()  # a refused key is set aside by the gateway, not by the Test
        self._show_current()

    @staticmethod
    def _proxy_for(target: Account | CustomEndpoint, proxies: ProxySettings | None) -> str | None:
        proxies = proxies or ProxySettings()
        if isinstance(target, CustomEndpoint):
            return proxies.for_account(target.prefix, None)
        return proxies.for_account(target.provider, target.options.get("proxy"))

    @staticmethod
    def _scrub(text: str, target: Account | CustomEndpoint, proxies: ProxySettings | None) -> str:
        """Network errors may quote the proxy URL: never show its sign-in."""
        for url in (target.options.get("proxy") if isinstance(target, Account) else None,
                    *(proxies.per_provider.values() if proxies else ()),
                    proxies.global_proxy if proxies else None):
            text = scrub_proxy(text, url)
        return text

    def _proxy_settings(self) -> ProxySettings:
        store = self.services.store
        return ProxySettings.from_setting(store.get_setting(settings.KEY_PROXY) if store else None)

    # -- accounts: add, edit, remove -----------------------------------------------------------------
    def open_account_dialog(self, account: Account | None = None) -> "AccountDialog | None":
        provider = self._current_provider()
        if provider is None or provider.id in SUBSCRIPTION_PROVIDERS:  # sign-ins come from "Sign in…"
            return None
        siblings = self._accounts_of(provider.id)
        models = [m.id for m in provider.models if m.kind == "chat"]
        models += [m for m in self.live_models.get((PROVIDER, provider.id), []) if m not in models]
        next_priority = max((a.priority for a in siblings), default=-1) + 1
        default_name = tr("Main") if not siblings else tr("Account {number}", number=len(siblings) + 1)
        dialog = AccountDialog(self, provider, account, models, next_priority, default_name,
                               lambda values: self._save_account(provider, account, values))
        self.dialog = dialog
        dialog.open()
        return dialog

    async def _save_account(self, provider: Provider, account: Account | None, values: dict[str, Any]) -> None:
        """Raises ConfigError (shown in the dialog) when the configuration refuses the input."""
        configuration = self._configuration()
        if account is None:
            saved = await configuration.add_account(provider.id, **values)
            done = tr("Added {name}. {provider} models are available as {prefix}/<model> now.", name=saved.name,
                      provider=provider.name, prefix=provider.prefix)
        else:
            saved = await configuration.update_account(account.id, values)
            done = tr("Saved {name}.", name=saved.name)
        await self._after_change(done, select_account=saved.id)

    def _configuration(self) -> Configuration:
        if self.services.configuration is None:
            raise ConfigError(tr("Quotagate is not running its store right now; try again in a moment."))
        return self.services.configuration

    def confirm_remove_account(self) -> ConfirmBox | None:
        account = self._selected_account()
        if account is None:
            return None
        provider = catalog.get_provider(account.provider)
        prefix = provider.prefix if provider else account.provider
        others = [a for a in self._accounts_of(account.provider) if a.id != account.id and a.active]
        consequence = (tr("Requests for {prefix}/… will use the remaining accounts.", prefix=prefix) if others
                       else tr("Requests for {prefix}/… will fail until you add another account.", prefix=prefix))
        self.confirm_box = ConfirmBox(self, tr("Remove account"), tr("Remove the account “{name}”?", name=account.name),
                                      tr("Remove"), lambda: self.tasks.start(self._remove_account(account)),
                                      tr("Its sign-in is deleted from Quotagate (no tool's own files are "
                                         "touched). {consequence}", consequence=consequence)
                                      if account.kind == "subscription" else
                                      tr("Its API key is deleted from Quotagate. {consequence}",
                                         consequence=consequence))
        self.confirm_box.open()
        return self.confirm_box

    async def _remove_account(self, account: Account) -> None:
        try:
            await self._configuration().delete_account(account.id)
        except ConfigError as exc:
            self.status.error(tr("Could not remove {name}: {error}", name=account.name, error=exc))
            return
        await self._after_change(tr("Removed {name}.", name=account.name))

    # -- custom endpoints --------------------------------------------------------------------------
    def open_endpoint_dialog(self, endpoint: CustomEndpoint | None = None) -> "EndpointDialog":
        dialog = EndpointDialog(self, endpoint, lambda values: self._save_endpoint(endpoint, values))
        self.dialog = dialog
        dialog.open()
        return dialog

    async def _save_endpoint(self, endpoint: CustomEndpoint | None, values: dict[str, Any]) -> None:
        configuration = self._configuration()
        if endpoint is None:
            saved = await configuration.add_endpoint(values)
        else:
            saved = await configuration.update_endpoint(endpoint.id, values)
        self.current = (NODE, saved.id)
        if endpoint is None:
            done = tr("Added {name}. Use its models as {prefix}/<model>.", name=saved.name, prefix=saved.prefix)
        else:
            done = tr("Saved {name}. Use its models as {prefix}/<model>.", name=saved.name, prefix=saved.prefix)
        await self._after_change(done)

    def confirm_remove_endpoint(self) -> ConfirmBox | None:
        endpoint = self._current_endpoint()
        if endpoint is None:
            return None
        self.confirm_box = ConfirmBox(self, tr("Remove custom endpoint"),
                                      tr("Remove the custom endpoint “{name}”?", name=endpoint.name),
                                      tr("Remove"), lambda: self.tasks.start(self._remove_endpoint(endpoint)),
                                      tr("Requests for {prefix}/… will fail afterwards.", prefix=endpoint.prefix))
        self.confirm_box.open()
        return self.confirm_box

    async def _remove_endpoint(self, endpoint: CustomEndpoint) -> None:
        try:
            await self._configuration().delete_endpoint(endpoint.id)
        except ConfigError as exc:
            self.endpoint_status.error(tr("Could not remove {name}: {error}", name=endpoint.name, error=exc))
            return
        self.live_models.pop((NODE, endpoint.id), None)
        self.current = None
        await self._after_change(tr("Removed {name}.", name=endpoint.name))

    async def _after_change(self, done: str, select_account: int | None = None) -> None:
        """The configuration service already made the gateway use the change: show it."""
        await self.refresh()
        if select_account is not None:
            select_row_with(self.accounts_table, select_account)
        self._page_status().ok(done)


class AccountDialog(SavingDialog):
    def __init__(self, parent: QWidget, provider: Provider, account: Account | None, models: list[str],
                 next_priority: int, default_name: str, save: Saver) -> None:
        title = (tr("Edit {provider} account", provider=provider.name) if account
                 else tr("Add {provider} account", provider=provider.name))
        super().__init__(parent, title, save)
        self.provider = provider
        self.account = account
        self.setMinimumWidth(520)

        self.name_field = QLineEdit(account.name if account else default_name)
        self.name_field.setPlaceholderText(tr("e.g. Work"))
        self.key_field = SecretField()
        if account is not None and account.api_key:
            self.key_field.setPlaceholderText(tr("Leave empty to keep {key}", key=account.public()["apiKey"]))
        elif account is not None and account.needs_key:
            self.key_field.setPlaceholderText(tr("Paste the key again: the stored one cannot be read here"))
        elif provider.auth == "none":
            self.key_field.setPlaceholderText(tr("Optional: only if your server asks for a token"))
        else:
            self.key_field.setPlaceholderText(tr("Paste your API key"))
        self.priority_field = QSpinBox()
        self.priority_field.setRange(0, 999)
        self.priority_field.setValue(account.priority if account else max(0, next_priority))
        self.active_field = QCheckBox(tr("Use this account for requests"))
        self.active_field.setChecked(account.active if account else True)
        self.model_field = QComboBox()
        self.model_field.setEditable(True)
        self.model_field.addItems([""] + models)
        self.model_field.lineEdit().setPlaceholderText(tr("None (clients name the model)"))
        self.model_field.setCurrentText(account.default_model or "" if account else "")
        self.proxy_field = ProxyField(optional_hint=tr("Optional, e.g. socks5://127.0.0.1:1080"), key="proxy")
        self.proxy_field.set_url((account.options.get("proxy") if account else None) or None)
        self.focus_for["proxy"] = self.proxy_field.address  # a refused proxy: the focus goes there

        form = QFormLayout()
        form.addRow(tr("Name:"), self.name_field)
        key_label = tr("API key:") if provider.auth != "none" else tr("Token:")
        form.addRow(key_label, self.key_field)
        if provider.key_url and account is None:
            text = tr("Get an API key from {provider}", provider=provider.name)
            link = QLabel(f'<a href="{provider.key_url}">{text}</a>')
            link.setOpenExternalLinks(True)
            form.addRow("", link)
        priority_row = QHBoxLayout()
        priority_row.addWidget(self.priority_field)
        priority_row.addWidget(hint(tr("Lower numbers are tried first; the next account takes over when one "
                                       "fails or runs out of quota.")), 1)
        form.addRow(tr("Priority:"), priority_row)
        form.addRow("", self.active_field)
        form.addRow(tr("Default model:"), self.model_field)
        form.addRow(tr("Proxy:"), self.proxy_field)
        form.addRow("", hint(tr("This account's own proxy wins over the provider and global proxies "
                                "(Proxies page).")))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name_field.setFocus()

    def values(self) -> dict[str, Any]:
        proxy = self.proxy_field.url()  # raises the core's proxy rule's refusal, shown under the field too
        values: dict[str, Any] = {
            "name": self.name_field.text(),
            "priority": self.priority_field.value(),
            "active": self.active_field.isChecked(),
            "default_model": self.model_field.currentText().strip() or None,
            "proxy": proxy,
        }
        key = self.key_field.text()
        if key or self.account is None:
            values["api_key"] = key or None
        return values


class HeaderRows(QWidget):
    """Extra headers as name/value rows. Values may be tokens, so they are masked unless shown."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__()
        self.rows: list[tuple[QLineEdit, QLineEdit, QWidget]] = []
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.add_button = QPushButton(tr("Add header"))
        self.add_button.clicked.connect(lambda: self.add_row())
        self.show_values = QCheckBox(tr("Show values"))
        self.show_values.toggled.connect(self._toggle_values)
        controls = button_row(self.add_button, right=self.show_values)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.grid)
        layout.addLayout(controls)
        for name, value in headers.items():
            self.add_row(name, value)

    def add_row(self, name: str = "", value: str = "") -> tuple[QLineEdit, QLineEdit]:
        name_edit = QLineEdit(name)
        name_edit.setPlaceholderText(tr("Header, e.g. X-Org-Id"))
        value_edit = QLineEdit(value)
        value_edit.setPlaceholderText(tr("Value"))
        if not self.show_values.isChecked():
            value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        remove = QToolButton()
        remove.setText("✕")
        remove.setToolTip(tr("Remove this header"))
        entry = (name_edit, value_edit, remove)
        remove.clicked.connect(lambda: self._remove(entry))
        row = len(self.rows)
        self.grid.addWidget(name_edit, row, 0)
        self.grid.addWidget(value_edit, row, 1)
        self.grid.addWidget(remove, row, 2)
        self.rows.append(entry)
        return name_edit, value_edit

    def _remove(self, entry: tuple[QLineEdit, QLineEdit, QWidget]) -> None:
        self.rows.remove(entry)
        for widget in entry:
            self.grid.removeWidget(widget)
            widget.deleteLater()

    def _toggle_values(self, shown: bool) -> None:
        for _, value_edit, _ in self.rows:
            value_edit.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def headers(self) -> dict[str, str]:
        """The rows as typed (empty rows left out); the configuration service checks names and values."""
        headers: dict[str, str] = {}
        for name_edit, value_edit, _ in self.rows:
            name, value = name_edit.text().strip(), value_edit.text().strip()
            if name or value:
                if name in headers:  # two rows of one name cannot both be kept: say so rather than drop one
                    raise ValueError(tr("The header “{name}” is listed twice.", name=name))
                headers[name] = value
        return headers


class EndpointDialog(SavingDialog):
    def __init__(self, parent: QWidget, endpoint: CustomEndpoint | None, save: Saver) -> None:
        super().__init__(parent, tr("Edit custom endpoint") if endpoint else tr("Add custom endpoint"), save)
        self.endpoint = endpoint
        self.setMinimumWidth(560)
        self.prefix_field = QLineEdit(endpoint.prefix if endpoint else "")
        self.prefix_field.setPlaceholderText(tr("e.g. lab"))
        self.name_field = QLineEdit(endpoint.name if endpoint else "")
        self.name_field.setPlaceholderText(tr("e.g. Team vLLM server"))
        self.url_field = QLineEdit(endpoint.base_url if endpoint else "")
        self.url_field.setPlaceholderText("https://llm.example.com/v1")
        self.format_field = QComboBox()
        for api_format in API_FORMATS:
            self.format_field.addItem(format_label(api_format), api_format)
        if endpoint is not None:
            self.format_field.setCurrentIndex(max(0, self.format_field.findData(endpoint.api_format)))
        self.header_rows = HeaderRows(endpoint.headers if endpoint else {})
        self.key_field = SecretField()
        if endpoint is not None and endpoint.api_key:
            self.key_field.setPlaceholderText(tr("Leave empty to keep {key}", key=endpoint.public()["apiKey"]))
        else:
            self.key_field.setPlaceholderText(tr("Optional"))
        form = QFormLayout()
        form.addRow(tr("Prefix:"), self.prefix_field)
        form.addRow("", hint(tr("Clients ask for models as prefix/model, e.g. lab/llama3.")))
        form.addRow(tr("Name:"), self.name_field)
        form.addRow(tr("Base URL:"), self.url_field)
        form.addRow(tr("Format:"), self.format_field)
        form.addRow(tr("Headers:"), self.header_rows)
        form.addRow(tr("API key:"), self.key_field)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        (self.name_field if endpoint else self.prefix_field).setFocus()

    def values(self) -> dict[str, Any]:
        prefix = self.prefix_field.text().strip().lower()
        values: dict[str, Any] = {
            "prefix": prefix, "name": self.name_field.text().strip() or prefix, "base_url": self.url_field.text(),
            "api_format": self.format_field.currentData(), "headers": self.header_rows.headers(),
        }
        key = self.key_field.text()
        if key or self.endpoint is None:
            values["api_key"] = key or None
        return values
