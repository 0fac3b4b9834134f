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
from desktop.widgets.commit import CommitBar
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.long_action import LongAction
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
    """Edits are kept until the page's Save (the commit bar); each proxy can be tested before."""

    def __init__(self, services: CoreServices) -> None:
        super().__init__("Proxies page")
        self.services = services
        self.saved: dict[str, Any] = {"global": None, "providers": {}}
        self.overrides: dict[str, str] = {}  # the edited per-provider proxies, saved with Save
        self.endpoint_names: dict[str, str] = {}  # custom endpoint prefix -> name
        self.dialog: OverrideDialog | None = None

        # Global proxy
        self.global_field = ProxyField(optional_hint=tr("Empty: connect directly"), key="global")
        self.global_test_button = QPushButton(tr("Test"))
        self.global_test_button.setToolTip(tr("Send one request through this proxy (nothing is saved)"))
        self.global_test_button.clicked.connect(self.test_global)
        self.global_result = StatusLabel()
        self.global_test = LongAction(self.tasks, self.global_result, self)
        self.global_field.changed.connect(self._forget_global_result)
        global_row = QHBoxLayout()
        global_row.addWidget(self.global_field, 1)
        global_row.addWidget(self.global_test.button_slot(self.global_test_button), 0, Qt.AlignmentFlag.AlignTop)
        global_layout = QVBoxLayout()
        global_layout.addLayout(global_row)
        global_layout.addWidget(self.global_result)
        global_layout.addWidget(hint(tr("Use http://, https://, socks5:// or socks5h:// (socks5h lets the proxy "
                                        "resolve host names); an address without one, such as localhost:3128, is "
                                        "read as http://.")))
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
        self.override_result = StatusLabel()
        self.override_test = LongAction(self.tasks, self.override_result, self)
        buttons = button_row(self.add_button, self.edit_button, self.remove_button,
                             right=self.override_test.button_slot(self.override_test_button))
        overrides_box = table_section(
            tr("Per-provider proxies"), self.table, self.empty, buttons, self.override_result,
            hint(tr("A provider's proxy wins over the global one; an account's own proxy "
                    "(Providers page) wins over both.")))
        for action in (self.global_test, self.override_test):
            action.running_changed.connect(lambda _running: self._update_buttons())

        self.commit = CommitBar(self.tasks, self.form_state, self.show_form_state, self._save)
        self.commit.add_field("global", self.global_field.address, self.global_field.error, self.global_field.changed)
        self.feedback = self.commit.status

        layout = QVBoxLayout(self)
        layout.addWidget(global_box)
        layout.addWidget(overrides_box, 1)
        layout.addWidget(self.commit)
        self._show_overrides()
        self._update_buttons()
        self.commit.reset()
        self.refresh_soon()

    @property
    def dirty(self) -> bool:
        return self.commit.dirty

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
        self.commit.reset()

    def revert(self) -> None:
        self.commit.revert()

    # -- the form: the global proxy as typed and the per-provider table --------------------------------
    def form_state(self) -> tuple[Any, ...]:
        field = self.global_field
        return (field.address.text().strip(), field.user.text().strip(), field.password.text(),
                tuple(sorted(self.overrides.items())))

    def show_form_state(self, state: tuple[Any, ...]) -> None:
        address, user, password, overrides = state
        field = self.global_field
        for edit, value in ((field.address, address), (field.user, user), (field.password.edit, password)):
            edit.blockSignals(True)
            edit.setText(value)
            edit.blockSignals(False)
        self.overrides = dict(overrides)
        self._show_overrides()

    # -- per-provider table --------------------------------------------------------------------------
    def _show_overrides(self) -> None:
        selected = selected_data(self.table)
        rows = [[cell(provider_label(pid, self.endpoint_names), data=pid), cell(mask_proxy(url))]
                for pid, url in sorted(self.overrides.items(), key=lambda kv: provider_label(kv[0], self.endpoint_names))]
        show_rows(self.table, self.empty, rows, select=selected)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = selected_data(self.table) is not None
        testing = self.global_test.running() or self.override_test.running()
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
        self.commit.check()

    def remove_selected(self) -> None:
        provider_id = selected_data(self.table)
        if provider_id is None:
            return
        self.overrides.pop(provider_id, None)
        self._show_overrides()
        self.commit.check()

    # -- saving ------------------------------------------------------------------------------------
    def save(self) -> asyncio.Task[bool]:
        return self.commit.start_save()

    async def _save(self) -> str:
        global_url = self.global_field.url()  # the one proxy rule; a refusal is shown under the field
        configuration = self.services.configuration
        if configuration is None:
            raise ConfigError(tr("Quotagate is shutting down."))
        saved = await configuration.set_proxies({"global": global_url, "providers": dict(self.overrides)})
        self.saved = {"global": saved["global"], "providers": dict(saved["providers"])}
        self._show_saved()  # as stored: `localhost:3128` reads back as http://localhost:3128
        if saved["global"] or saved["providers"]:
            return tr("Saved. New requests use these proxies.")
        if describe_proxy_from_environment():
            return tr("Saved. Quotagate connects directly (or through the environment's proxy).")
        return tr("Saved. Quotagate connects directly.")

    # -- testing -----------------------------------------------------------------------------------
    def test_global(self) -> asyncio.Task[None] | None:
        try:
            url = self.global_field.url()
        except ConfigError:
            self.global_result.clear()  # the field says what to fix
            self.global_field.address.setFocus()
            return None
        if url is None:
            self.global_result.error(tr("Enter a proxy address to test."))
            return None
        return self._test(self.global_test, url)

    def _forget_global_result(self) -> None:
        """A test's outcome is about the address it tested: once that is edited, the line would be stale."""
        if not self.global_test.running():
            self.global_result.clear()

    def test_selected_override(self) -> asyncio.Task[None] | None:
        provider_id = selected_data(self.table)
        if provider_id is None:
            return None
        return self._test(self.override_test, self.overrides[provider_id],
                          provider_label(provider_id, self.endpoint_names))

    def _test(self, action: LongAction, url: str, who: str = "") -> asyncio.Task[None] | None:
        runtime = self.services.runtime
        if runtime is None:
            action.status.error(tr("The gateway is stopped, so nothing can be tested now."))
            return None

        def done(result: Any, _seconds: float) -> None:
            (action.status.ok if result.ok else action.status.error)(labelled(who, scrub_proxy(result.message, url)))

        return action.start(labelled(who, tr("testing {proxy}…", proxy=mask_proxy(url))),
                            lambda: check_proxy(url, runtime.clients), done,
                            lambda seconds: labelled(who, tr("test cancelled after {seconds} s.", seconds=seconds)),
                            lambda exc: scrub_proxy(labelled(who, tr("the test could not run ({error}).", error=exc)),
                                                    url))


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
        self.proxy_field = ProxyField(key="provider")
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
            self.proxy_field.address.setFocus()
            return False  # the field shows why
        if url is None:
            self.proxy_field.error.error(tr("Enter the proxy address, e.g. http://127.0.0.1:8080."))
            self.proxy_field.address.setFocus()
            return False
        self.provider_id = self.provider_field.currentData()
        self.url = url
        self.accept()
        return True
