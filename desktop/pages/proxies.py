"""Proxies: one global proxy and per-provider overrides, each testable before saving.

Saved through the configuration service (the one proxy rule, sealed at rest) as {"global": url | None,
"providers": {provider_id: url}}; an account's own proxy (Providers page) wins over both. The gateway uses
them at once after Save."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.configuration import stored_proxies
from core.gateway.checks import check_proxy
from core.gateway.upstream import describe_proxy_from_environment
from core.i18n import tr
from core.providers import catalog
from core.net.proxies import mask_proxy, scrub_proxy
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets.feedback import (
    StatusLabel,
    cell,
    empty_state,
    hint,
    read_only_table,
    select_row_with,
    selected_data,
    show_rows,
)
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.proxy_field import ProxyField
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

log = logging.getLogger(__name__)


def provider_label(provider_id: str, endpoint_names: dict[str, str]) -> str:
    provider = catalog.get_provider(provider_id)
    if provider is not None:
        return provider.name
    if provider_id in endpoint_names:
        return tr("{name} (custom endpoint)", name=endpoint_names[provider_id])
    return provider_id


def labelled(who: str, text: str) -> str:
    """"OpenAI: the proxy works…" for a provider's proxy; the text alone for the global one."""
    return tr("{name}: {message}", name=who, message=text) if who else text


class ProxiesPage(RefreshOnShowPage):
    def __init__(self, services: CoreServices) -> None:
        super().__init__("Proxies page")
        self.services = services
        self.saved: dict[str, Any] = {"global": None, "providers": {}}
        self.overrides: dict[str, str] = {}  # the edited per-provider proxies, saved with Save
        self.endpoint_names: dict[str, str] = {}  # custom endpoint prefix -> name
        self.dirty = False
        self.dialog: OverrideDialog | None = None
        self.test_task: asyncio.Task[None] | None = None

        # Global proxy
        self.global_field = ProxyField(optional_hint=tr("Empty: connect directly"))
        self.global_field.changed.connect(self._mark_dirty)
        self.global_test_button = QPushButton(tr("Test"))
        self.global_test_button.setToolTip(tr("Send one request through this proxy (nothing is saved)"))
        self.global_test_button.clicked.connect(self.test_global)
        self.global_result = StatusLabel()
        global_row = QHBoxLayout()
        global_row.addWidget(self.global_field, 1)
        global_row.addWidget(self.global_test_button, 0, Qt.AlignmentFlag.AlignTop)
        global_layout = QVBoxLayout()
        global_layout.addLayout(global_row)
        global_layout.addWidget(self.global_result)
        global_layout.addWidget(hint(tr("Use http://, https://, socks5:// or socks5h:// (socks5h lets the proxy "
                                        "resolve host names).")))
        env = describe_proxy_from_environment()
        self.environment_note = hint(
            tr("{env} is set in Quotagate's environment: it applies while no proxy is set here, and NO_PROXY is "
               "respected.", env=env) if env else
            tr("When no proxy is set, Quotagate connects directly (or through HTTP(S)_PROXY if set at start)."))
        global_layout.addWidget(self.environment_note)
        global_box = QGroupBox(tr("Global proxy"))
        global_box.setLayout(global_layout)

        # Per-provider overrides
        self.table = read_only_table([tr("Provider"), tr("Proxy")], stretch=1)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_override_dialog(selected_data(self.table)))
        self.empty = empty_state(tr("No per-provider proxies. Add one to send a single provider's traffic "
                                    "through its own proxy."))
        self.add_button = QPushButton(tr("Add…"))
        self.add_button.clicked.connect(lambda: self.open_override_dialog())
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.clicked.connect(lambda: self.open_override_dialog(selected_data(self.table)))
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.override_test_button = QPushButton(tr("Test"))
        self.override_test_button.clicked.connect(self.test_selected_override)
        buttons = button_row(self.add_button, self.edit_button, self.remove_button, right=self.override_test_button)
        self.override_result = StatusLabel()
        overrides_box = table_section(
            tr("Per-provider proxies"), self.table, self.empty, buttons, self.override_result,
            hint(tr("A provider's proxy wins over the global one; an account's own proxy "
                    "(Providers page) wins over both.")))

        # Save / Revert
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton(tr("Revert"))
        self.revert_button.setToolTip(tr("Forget unsaved changes"))
        self.revert_button.clicked.connect(self.revert)
        self.feedback = StatusLabel()
        save_row = QHBoxLayout()
        save_row.addWidget(self.feedback, 100)
        save_row.addStretch(1)  # keeps the buttons compact while there is no feedback
        save_row.addWidget(self.revert_button)
        save_row.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(global_box)
        layout.addWidget(overrides_box, 1)
        layout.addLayout(save_row)
        self._show_overrides()
        self._update_buttons()
        self.refresh_soon()

    # -- loading -----------------------------------------------------------------------------------
    def refresh_on_show(self) -> bool:
        return not self.dirty  # never overwrite what the user is editing

    def can_refresh(self) -> bool:
        return self.services.store is not None

    async def refresh(self) -> None:
        store, accounts = self.services.store, self.services.accounts
        if store is None:
            return
        try:
            saved = await off_loop(stored_proxies, store)
            endpoints = await off_loop(accounts.endpoints) if accounts is not None else []
        except Exception as exc:
            log.exception("Reading the proxy settings failed")
            self.feedback.error(tr("Could not read the proxy settings: {error}", error=exc))
            return
        self.endpoint_names = {endpoint.prefix: endpoint.name for endpoint in endpoints}
        self.saved = saved
        if self.dirty:  # the user started editing while this loaded: their edits win
            self._show_overrides()
            return
        self._show_saved()

    load = refresh  # the name the app calls after a restore

    def _show_saved(self) -> None:
        self.global_field.set_url(self.saved["global"])
        self.overrides = dict(self.saved["providers"])
        self._show_overrides()
        self._set_dirty(False)

    def revert(self) -> None:
        self._show_saved()
        self.feedback.info(tr("Unsaved changes were discarded."))

    # -- per-provider table --------------------------------------------------------------------------
    def _show_overrides(self) -> None:
        selected = selected_data(self.table)
        rows = [[cell(provider_label(pid, self.endpoint_names), data=pid), cell(mask_proxy(url))]
                for pid, url in sorted(self.overrides.items(), key=lambda kv: provider_label(kv[0], self.endpoint_names))]
        show_rows(self.table, self.empty, rows, select=selected)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = selected_data(self.table) is not None
        testing = self.test_task is not None and not self.test_task.done()
        self.edit_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.override_test_button.setEnabled(has and not testing)
        self.global_test_button.setEnabled(not testing)

    def open_override_dialog(self, provider_id: str | None = None) -> "OverrideDialog":
        choices = [(p.name, p.id) for p in catalog.providers()]
        choices += [(tr("{name} (custom endpoint)", name=name), prefix)
                    for prefix, name in sorted(self.endpoint_names.items())]
        taken = set(self.overrides) - {provider_id}
        dialog = OverrideDialog(self, [c for c in choices if c[1] not in taken], provider_id,
                                self.overrides.get(provider_id or ""))
        dialog.accepted.connect(lambda: self._apply_override(provider_id, dialog.provider_id, dialog.url))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _apply_override(self, old: str | None, provider_id: str, url: str) -> None:
        if old is not None and old != provider_id:
            self.overrides.pop(old, None)
        self.overrides[provider_id] = url
        self._show_overrides()
        select_row_with(self.table, provider_id)
        self._mark_dirty()

    def remove_selected(self) -> None:
        provider_id = selected_data(self.table)
        if provider_id is None:
            return
        self.overrides.pop(provider_id, None)
        self._show_overrides()
        self._mark_dirty()

    # -- saving ------------------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._set_dirty(True)
        self.feedback.info(tr("Unsaved changes."))

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        if not dirty and self.feedback.kind == "info":
            self.feedback.clear()

    def save(self) -> asyncio.Task[None] | None:
        try:
            global_url = self.global_field.url()
        except ConfigError as exc:
            self.feedback.error(tr("Not saved: the global proxy is not usable. {error}", error=exc))
            return None
        value = {"global": global_url, "providers": dict(self.overrides)}
        return self.tasks.start(self._save(value))

    async def _save(self, value: dict[str, Any]) -> None:
        configuration = self.services.configuration
        if configuration is None:
            self.feedback.error(tr("Not saved: Quotagate is shutting down."))
            return
        self.save_button.setEnabled(False)
        self.feedback.busy(tr("Saving…"))
        try:
            saved = await configuration.set_proxies(value)
        except ConfigError as exc:  # the one proxy rule says which entry and what to fix
            self.feedback.error(tr("Not saved: {error}", error=exc))
            self.save_button.setEnabled(True)
            return
        self.saved = {"global": saved["global"], "providers": dict(saved["providers"])}
        self._set_dirty(False)
        if saved["global"] or saved["providers"]:
            self.feedback.ok(tr("Saved. New requests use these proxies."))
        elif describe_proxy_from_environment():
            self.feedback.ok(tr("Saved. Quotagate connects directly (or through the environment's proxy)."))
        else:
            self.feedback.ok(tr("Saved. Quotagate connects directly."))

    # -- testing -----------------------------------------------------------------------------------
    def test_global(self) -> asyncio.Task[None] | None:
        try:
            url = self.global_field.url()
        except ConfigError as exc:
            self.global_result.error(str(exc))
            return None
        if url is None:
            self.global_result.error(tr("Enter a proxy address to test."))
            return None
        self.test_task = self.tasks.start(self._test(url, self.global_result, self.global_test_button))
        return self.test_task

    def test_selected_override(self) -> asyncio.Task[None] | None:
        provider_id = selected_data(self.table)
        if provider_id is None:
            return None
        self.test_task = self.tasks.start(self._test(self.overrides[provider_id], self.override_result,
                                                     self.override_test_button,
                                                     provider_label(provider_id, self.endpoint_names)))
        return self.test_task

    async def _test(self, url: str, result_label: StatusLabel, button: QPushButton, who: str = "") -> None:
        button.setText(tr("Testing…"))
        self._update_buttons()
        button.setEnabled(False)
        result_label.busy(labelled(who, tr("testing {proxy}…", proxy=mask_proxy(url))))
        try:
            if self.services.runtime is None:
                result_label.error(tr("The gateway is stopped, so nothing can be tested now."))
                return
            result = await check_proxy(url, self.services.runtime.clients)
        except Exception as exc:
            log.exception("Proxy test failed")
            result_label.error(scrub_proxy(labelled(who, tr("the test could not run ({error}).", error=exc)), url))
        else:
            (result_label.ok if result.ok else result_label.error)(labelled(who, scrub_proxy(result.message, url)))
        finally:
            button.setText(tr("Test"))
            self.test_task = None
            self._update_buttons()


class OverrideDialog(QDialog):
    """Pick a provider and its proxy; the page keeps the change until Save."""

    def __init__(self, parent: QWidget, choices: list[tuple[str, str]], provider_id: str | None,
                 url: str | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Edit provider proxy") if provider_id else tr("Add provider proxy"))
        self.setMinimumWidth(500)
        self.provider_id = provider_id or ""
        self.url = url or ""
        self.provider_field = QComboBox()
        for label, ident in choices:
            self.provider_field.addItem(label, ident)
        if provider_id:
            self.provider_field.setCurrentIndex(max(0, self.provider_field.findData(provider_id)))
        self.proxy_field = ProxyField()
        self.proxy_field.set_url(url)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("Provider:"), self.provider_field)
        form.addRow(tr("Proxy:"), self.proxy_field)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

    def submit(self) -> bool:
        try:
            url = self.proxy_field.url()
        except ConfigError:
            return False  # the field shows why
        if url is None:
            self.proxy_field.error.error(tr("Enter the proxy address, e.g. http://127.0.0.1:8080."))
            return False
        self.provider_id = self.provider_field.currentData()
        self.url = url
        self.accept()
        return True
