"""API keys: the keys IDE tools present to the gateway. Created keys are shown once (the store keeps only a
hash), listed by their prefix, and revoked for good."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core import settings
from core.gateway import client_keys
from core.gateway.client_keys import CreatedKey
from core.gateway.combos import load_combos
from core.gateway.key_limits import MAX_RPM, MAX_USD
from core.i18n import tr, translatable
from core.services import CoreServices
from core.settings import ConfigError
from desktop.pages.combos import Choice, TargetChoices
from desktop.widgets import format as fmt
from desktop.widgets.commit import CommitBar
from desktop.widgets.feedback import (
    MUTED_COLOR,
    WARNING_COLOR,
    ConfirmBox,
    StatusLabel,
    cell,
    empty_state,
    hint,
    monospace_font,
    read_only_table,
    select_row_with,
    selected_data,
    show_rows,
)
from desktop.widgets.layouts import button_row, dialog_step, table_section
from desktop.widgets.saving_dialog import SavingDialog
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

log = logging.getLogger(__name__)

SHOWN_MODELS = 3  # the Limits column names this many models, then "+N"


def keys_note() -> str:
    return tr("While the gateway listens on this computer only (127.0.0.1), API keys are optional: programs on "
              "this computer can use it without one. When it listens on another address, every request must "
              "carry a key. Create one key per tool, so you can revoke each on its own.")


def _dollars(value: float) -> str:
    """$5, $2.50, $1,000: a budget reads without needless cents."""
    return f"${value:,.2f}".removesuffix(".00")


def limits_summary(limits: dict[str, Any] | None) -> str:
    """A key's limits in one table cell: "coding, openai/* · 60/min · $5/day"; "—" when it has none."""
    limits = limits or {}
    parts = []
    models = list(limits.get("models") or [])
    if models:
        text = ", ".join(models[:SHOWN_MODELS])
        if len(models) > SHOWN_MODELS:
            text = tr("{models} +{more}", models=text, more=len(models) - SHOWN_MODELS)
        parts.append(text)
    if limits.get("rpm") is not None:
        parts.append(tr("{rpm}/min", rpm=f"{limits['rpm']:,}"))
    if limits.get("dailyUsd") is not None:
        parts.append(tr("{usd}/day", usd=_dollars(limits["dailyUsd"])))
    if limits.get("monthlyUsd") is not None:
        parts.append(tr("{usd}/month", usd=_dollars(limits["monthlyUsd"])))
    return " · ".join(parts) if parts else "—"


def limits_details(limits: dict[str, Any] | None) -> str:
    """The Limits cell's tooltip: every model, then each limit in words, one per line."""
    limits = limits or {}
    models = list(limits.get("models") or [])
    lines = [tr("Models: {models}", models=", ".join(models)) if models else tr("Models: any")]
    if limits.get("rpm") is not None:
        lines.append(tr("At most {rpm} requests per minute", rpm=f"{limits['rpm']:,}"))
    if limits.get("dailyUsd") is not None:
        lines.append(tr("Daily budget: {usd}", usd=_dollars(limits["dailyUsd"])))
    if limits.get("monthlyUsd") is not None:
        lines.append(tr("Monthly budget: {usd}", usd=_dollars(limits["monthlyUsd"])))
    return "\n".join(lines)


class ApiKeysPage(RefreshOnShowPage):
    """Re-read whenever shown: "last used" moves while the gateway serves."""

    def __init__(self, services: CoreServices) -> None:
        super().__init__("API keys page")
        self.services = services
        self.keys: list[dict[str, Any]] = []
        self.choices: list[Choice] = []  # what a key's allowed models can be picked from
        self.dialog: CreateKeyDialog | None = None
        self.limits_dialog: LimitsDialog | None = None
        self.confirm_box: ConfirmBox | None = None

        self.mode_label = QLabel()
        self.mode_label.setWordWrap(True)
        self.require_box = QCheckBox(tr("Require a key from programs on this computer too"))
        access_layout = QVBoxLayout()
        access_layout.addWidget(hint(keys_note()))
        access_layout.addWidget(self.mode_label)
        access_layout.addWidget(self.require_box)
        access_box = QGroupBox(tr("Access"))
        access_box.setLayout(access_layout)

        self.table = read_only_table([tr("Name"), tr("Key"), tr("Created"), tr("Last used"), tr("Status"),
                                      tr("Limits")], stretch=5)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_limits_dialog())
        self.empty = empty_state(tr("No API keys yet. Create one for each tool that talks to the gateway "
                                    "(Cursor, Cline, scripts…)."))
        self.create_button = QPushButton(tr("Create key…"))
        self.create_button.clicked.connect(self.open_create_dialog)
        self.revoke_button = QPushButton(tr("Revoke…"))
        self.revoke_button.clicked.connect(self.confirm_revoke)
        self.limits_button = QPushButton(tr("Limits…"))
        self.limits_button.setToolTip(tr("Choose which models the selected key may use, how many requests per "
                                         "minute it may send and how much it may spend"))
        self.limits_button.clicked.connect(lambda: self.open_limits_dialog())
        buttons = button_row(self.create_button, self.limits_button, self.revoke_button)
        self.feedback = StatusLabel()
        keys_box = table_section(
            tr("Keys"), self.table, self.empty, buttons, self.feedback,
            hint(tr("Tools send the key as “Authorization: Bearer <key>” or “x-api-key: <key>”.")))

        # "Require a key" is a setting: committed with the page's Save, like every setting; keys are actions
        self.commit = CommitBar(self.tasks, self.require_box.isChecked, self.require_box.setChecked,
                                self._save_require)
        self.commit.watch(self.require_box.toggled)

        layout = QVBoxLayout(self)
        layout.addWidget(access_box)
        layout.addWidget(keys_box, 1)
        layout.addWidget(self.commit)
        self._show_keys()
        self._show_mode(False)
        self.refresh_soon()

    # -- data ------------------------------------------------------------------------------------
    def can_refresh(self) -> bool:
        return self.services.store is not None

    async def refresh(self) -> None:
        store = self.services.store
        if store is None:
            return
        try:
            self.keys = await off_loop(client_keys.list_keys)
            required = bool(await off_loop(store.get_setting, settings.KEY_REQUIRE_API_KEY, False))
        except Exception as exc:
            log.exception("Reading API keys failed")
            self.feedback.error(tr("Could not read the API keys: {error}", error=exc))
            return
        try:
            self.choices = await off_loop(self._routable_models)
        except Exception:  # the limits dialog still takes typed names and patterns
            log.exception("Reading the routable models failed")
        self._show_keys()
        self._show_mode(required)

    def _routable_models(self) -> list[Choice]:
        """Connected providers' models, custom endpoints' models, aliases and combos (as the combos page
        offers them)."""
        store = self.services.accounts
        if store is None:
            return []
        runtime = self.services.runtime

        def endpoint_models(prefix: str) -> list[str]:
            return (runtime.endpoint_models.ids(prefix) or []) if runtime is not None else []
        return TargetChoices.gather(store.accounts(), store.endpoints(), store.aliases(), load_combos(), None,
                                    endpoint_models).choices

    def active_keys(self) -> list[dict[str, Any]]:
        return [key for key in self.keys if not key["revoked"]]

    def _show_keys(self) -> None:
        selected = selected_data(self.table)
        # Active keys first, newest first within each group.
        ordered = sorted(self.keys, key=lambda k: (k["revoked"], -(k["createdAt"] or 0)))
        rows = []
        for key in ordered:
            muted = MUTED_COLOR if key["revoked"] else None
            rows.append([
                cell(key["name"], data=key["id"], color=muted),
                cell(key["key"], color=muted, tooltip=tr("Only the start of a key is kept visible")),
                cell(fmt.date_time(key["createdAt"]), color=muted),
                cell(fmt.ago(key["lastUsedAt"]), color=muted,
                     tooltip=fmt.timestamp(key["lastUsedAt"]) if key["lastUsedAt"] else ""),
                cell(tr("Revoked") if key["revoked"] else tr("Active"), color=muted),
                cell(limits_summary(key.get("limits")), color=muted, tooltip=limits_details(key.get("limits"))),
            ])
        for row in rows:
            row[1].setFont(monospace_font())
        show_rows(self.table, self.empty, rows, select=selected)
        self._update_buttons()

    def _show_mode(self, required: bool) -> None:
        host = self.services.host
        loopback = settings.is_loopback_host(host)
        state = self.services.gateway_state
        where = f"{host}:{state.port}"
        if not self.commit.dirty and not self.commit.saving():  # never overwrite what the user is changing
            self.require_box.setChecked(required or not loopback)
            self.commit.reset()
        self.require_box.setEnabled(loopback)
        if not loopback:
            text, color = tr("The gateway listens on {where}, so every request must carry a key.", where=where), None
        elif required:
            text, color = tr("The gateway listens on {where}; you chose to require a key anyway.", where=where), None
        else:
            text, color = tr("The gateway listens on {where} only: keys are optional now.", where=where), None
        if (required or not loopback) and not self.active_keys():
            text += tr(" No key is active yet, so every request is refused until you create one.")
            color = WARNING_COLOR
        self.mode_label.setText(text)
        self.mode_label.setStyleSheet(f"color: {color};" if color else "")

    def _update_buttons(self) -> None:
        key_id = selected_data(self.table)
        key = next((k for k in self.keys if k["id"] == key_id), None)
        self.revoke_button.setEnabled(key is not None and not key["revoked"])
        self.limits_button.setEnabled(key is not None and not key["revoked"])

    def _selected_active(self) -> dict[str, Any] | None:
        key_id = selected_data(self.table)
        return next((k for k in self.keys if k["id"] == key_id and not k["revoked"]), None)

    # -- require on loopback -----------------------------------------------------------------------
    async def _save_require(self) -> str:
        if self.services.configuration is None:
            raise ConfigError(tr("Quotagate is shutting down."))
        required = self.require_box.isChecked()
        await self.services.configuration.update_settings({settings.KEY_REQUIRE_API_KEY: required},
                                                          reason=translatable("changing the API key requirement"))
        self._show_mode(required)
        return (tr("Saved. Requests without a valid key are refused from now on.") if required
                else tr("Saved. Programs on this computer need no key now."))

    # -- create ------------------------------------------------------------------------------------
    def open_create_dialog(self) -> "CreateKeyDialog":
        dialog = CreateKeyDialog(self, self._create)
        self.dialog = dialog
        dialog.open()
        return dialog

    async def _create(self, name: str) -> CreatedKey:
        """Raises ConfigError (shown in the dialog) when the name is refused."""
        assert self.services.configuration is not None
        created = await self.services.configuration.create_key(name)
        self.feedback.ok(tr("Created the key “{name}”.", name=created.name))
        await self.refresh()
        select_row_with(self.table, created.id)
        return created

    # -- limits ------------------------------------------------------------------------------------
    def open_limits_dialog(self) -> LimitsDialog | None:
        key = self._selected_active()
        if key is None:
            return None
        dialog = LimitsDialog(self, key, self.choices, lambda values: self._save_limits(key, values))
        self.limits_dialog = dialog
        dialog.open()
        return dialog

    async def _save_limits(self, key: dict[str, Any], limits: dict[str, Any]) -> None:
        """Raises ConfigError (shown in the dialog) when the configuration refuses the limits."""
        if self.services.configuration is None:
            raise ConfigError(tr("Quotagate is not running its store right now; try again in a moment."))
        await self.services.configuration.update_key(key["id"], limits=limits)
        await self.refresh()
        select_row_with(self.table, key["id"])
        self.feedback.ok(tr("Saved the limits of “{name}”. The gateway applies them from the next request.",
                            name=key["name"]))

    # -- revoke ------------------------------------------------------------------------------------
    def confirm_revoke(self) -> ConfirmBox | None:
        key = self._selected_active()
        if key is None:
            return None
        self.confirm_box = ConfirmBox(self, tr("Revoke API key"),
                                      tr("Revoke the key “{name}” ({key})?", name=key["name"], key=key["key"]),
                                      tr("Revoke"), lambda: self.tasks.start(self._revoke(key)),
                                      tr("Tools using it are refused from now on. This cannot be undone."))
        self.confirm_box.open()
        return self.confirm_box

    async def _revoke(self, key: dict[str, Any]) -> None:
        assert self.services.configuration is not None
        try:
            await self.services.configuration.revoke_key(key["id"])
        except ConfigError as exc:
            self.feedback.error(tr("Could not revoke {name}: {error}", name=key["name"], error=exc))
        else:
            self.feedback.ok(tr("Revoked “{name}”. Requests with it are refused now.", name=key["name"]))
        await self.refresh()


class CreateKeyDialog(QDialog):
    """Asks for a name; then shows the new key once, with a Copy button."""

    def __init__(self, parent: QWidget, create: Callable[[str], Awaitable[CreatedKey]]) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Create API key"))
        self.setMinimumWidth(560)
        self._create = create
        self.create_task: asyncio.Task[None] | None = None
        self.created: CreatedKey | None = None

        # Step 1: a name
        self.name_field = QLineEdit()
        self.name_field.setPlaceholderText(tr("e.g. Cursor on my laptop"))
        self.error = StatusLabel()
        self.ask_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.ask_buttons.addButton(tr("Create"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ask_buttons.accepted.connect(self.submit)
        self.ask_buttons.rejected.connect(self.reject)
        ask_form = QFormLayout()
        ask_form.addRow(tr("Name:"), self.name_field)
        ask_page = dialog_step(ask_form, hint(tr("The name tells you later which tool uses the key.")), self.error,
                               buttons=self.ask_buttons)

        # Step 2: the key, once
        self.created_label = QLabel()
        self.created_label.setWordWrap(True)
        self.key_field = QLineEdit()
        self.key_field.setReadOnly(True)
        self.key_field.setFont(monospace_font())
        self.copy_button = QPushButton(tr("Copy"))
        self.copy_button.clicked.connect(self.copy_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_field, 1)
        key_row.addWidget(self.copy_button)
        warning = QLabel(tr("Copy this key now: you won't see it again. Quotagate keeps only a fingerprint of it; "
                            "if you lose it, revoke it and create a new one."))
        warning.setWordWrap(True)
        warning.setStyleSheet(f"color: {WARNING_COLOR}; font-weight: bold;")
        self.done_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.done_buttons.rejected.connect(self.accept)
        show_page = dialog_step(self.created_label, key_row, warning, buttons=self.done_buttons)

        self.steps = QStackedWidget()
        self.steps.addWidget(ask_page)
        self.steps.addWidget(show_page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps)
        self.finished.connect(self._forget_key)
        self.name_field.setFocus()

    def submit(self) -> asyncio.Task[None] | None:
        name = self.name_field.text().strip()
        if not name:
            self.error.error(tr("Enter a name, e.g. the tool that will use the key."))
            return None
        self.create_task = asyncio.ensure_future(self._run_create(name))
        return self.create_task

    async def _run_create(self, name: str) -> None:
        self.ask_buttons.setEnabled(False)
        self.error.busy(tr("Creating…"))
        try:
            self.created = await self._create(name)
        except Exception as exc:
            log.exception("Creating a key failed")
            self.error.error(tr("Not created: {error}", error=exc))
            self.ask_buttons.setEnabled(True)
            return
        finally:
            self.create_task = None
        self.created_label.setText(tr("Your new key “{name}”:", name=self.created.name))
        self.key_field.setText(self.created.key)
        self.key_field.setCursorPosition(0)
        self.steps.setCurrentIndex(1)
        self.copy_button.setFocus()

    def copy_key(self) -> None:
        QGuiApplication.clipboard().setText(self.key_field.text())
        self.copy_button.setText(tr("Copied ✓"))

    def reject(self) -> None:
        if self.create_task is not None:
            return  # the key is being created: closing now would lose it
        super().reject()

    def _forget_key(self, _result: int) -> None:
        self.key_field.clear()
        self.created = None


class LimitsDialog(SavingDialog):
    """A key's allowed models, requests per minute and daily and monthly budgets. Each may be left out; the
    configuration service checks them, and the dialog keeps the input until it accepts."""

    def __init__(self, parent: QWidget, key: dict[str, Any], choices: list[Choice], save: Any) -> None:
        super().__init__(parent, tr("Limits of “{name}”", name=key["name"]), save)
        self.key = key
        self.setMinimumWidth(560)
        self.resize(600, 520)
        limits = key.get("limits") or {}

        # Allowed models
        self.picker = QComboBox()
        self.picker.setEditable(True)
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.picker.lineEdit().setPlaceholderText(tr("provider/model, a pattern such as openai/*, or pick one"))
        for choice in choices:
            self.picker.addItem(choice.label, choice.value)
        self.picker.setCurrentIndex(-1)
        self.picker.setMinimumContentsLength(28)
        self.add_button = QPushButton(tr("Add"))
        self.add_button.clicked.connect(self.add_from_picker)
        self.picker.installEventFilter(self)  # the combo box has the focus and hands keys to its line edit
        self.picker.lineEdit().installEventFilter(self)
        self.models_list = QListWidget()
        self.models_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.models_list.setMinimumHeight(140)
        self.models_list.itemSelectionChanged.connect(self._update_buttons)
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.models_note = hint("")
        for model in limits.get("models") or []:
            self.models_list.addItem(model)
        add_row = QHBoxLayout()
        add_row.addWidget(self.picker, 1)
        add_row.addWidget(self.add_button)
        models_layout = QVBoxLayout()
        models_layout.addLayout(add_row)
        models_layout.addWidget(self.models_list, 1)
        models_layout.addLayout(button_row(self.remove_button))
        models_layout.addWidget(self.models_note)
        models_box = QGroupBox(tr("Allowed models"))
        models_box.setLayout(models_layout)

        # Rate and budgets: the lowest value of each spin box reads "No limit"
        self.rpm_field = QSpinBox()
        self.rpm_field.setRange(0, MAX_RPM)
        self.rpm_field.setSpecialValueText(tr("No limit"))
        self.rpm_field.setSuffix(tr(" per minute"))
        self.rpm_field.setGroupSeparatorShown(True)
        self.rpm_field.setValue(limits.get("rpm") or 0)
        self.daily_field = self._usd_field(limits.get("dailyUsd"))
        self.monthly_field = self._usd_field(limits.get("monthlyUsd"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)  # numbers need no full width
        form.addRow(tr("Requests:"), self.rpm_field)
        form.addRow(tr("Daily budget:"), self.daily_field)
        form.addRow(tr("Monthly budget:"), self.monthly_field)
        other_layout = QVBoxLayout()
        other_layout.addLayout(form)
        other_layout.addWidget(hint(tr("Budgets count the estimated cost of this key's requests (by the price table) "
                                       "and start again each day and each month. A request over a limit is refused "
                                       "with the time the limit resets.")))
        other_box = QGroupBox(tr("Rate and budget"))
        other_box.setLayout(other_layout)

        layout = QVBoxLayout(self)
        layout.addWidget(models_box, 1)
        layout.addWidget(other_box)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._update_buttons()
        self.picker.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in the model field adds the model, and is consumed there: it must not also press Save."""
        if (watched in (self.picker, self.picker.lineEdit()) and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.add_from_picker()
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _usd_field(value: float | None) -> QDoubleSpinBox:
        field = QDoubleSpinBox()
        field.setRange(0, MAX_USD)
        field.setDecimals(2)
        field.setPrefix("$")
        field.setSpecialValueText(tr("No limit"))
        field.setGroupSeparatorShown(True)
        field.setValue(value or 0)
        return field

    # -- models ------------------------------------------------------------------------------------
    def add_from_picker(self) -> None:
        text = self.picker.currentText().strip()
        index = self.picker.findText(text, Qt.MatchFlag.MatchExactly)
        value = self.picker.itemData(index) if index >= 0 else text
        if not value:
            return
        self.add_model(value)
        self.picker.setCurrentIndex(-1)
        self.picker.clearEditText()

    def add_model(self, model: str) -> None:
        found = self.models_list.findItems(model, Qt.MatchFlag.MatchExactly)
        if not found:
            self.models_list.addItem(model)
            found = self.models_list.findItems(model, Qt.MatchFlag.MatchExactly)
        self.models_list.setCurrentItem(found[0])
        self._update_buttons()

    def remove_selected(self) -> None:
        for item in self.models_list.selectedItems():
            self.models_list.takeItem(self.models_list.row(item))
        self._update_buttons()

    def models(self) -> list[str]:
        return [self.models_list.item(row).text() for row in range(self.models_list.count())]

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.models_list.selectedItems()))
        self.models_note.setText(
            tr("This key may use only these models (a * matches any text, as in openai/*).")
            if self.models_list.count() else tr("No models listed: this key may use every model."))

    def values(self) -> dict[str, Any]:
        """The limits in the API's shape; a spin box at its lowest ("No limit") leaves that limit out."""
        return {"models": self.models(), "rpm": self.rpm_field.value() or None,
                "dailyUsd": self.daily_field.value() or None, "monthlyUsd": self.monthly_field.value() or None}
