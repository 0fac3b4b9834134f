"""Quota settings: what to show, how often to refresh, when to notify, privacy and language."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import i18n, settings
from core.i18n import tr, translatable
from core.quota.alerts import DEFAULT_THRESHOLDS
from core.quota.model import QuotaSnapshot
from core.quota.order import display_order
from core.quota.providers import PROVIDER_IDS
from core.quota.runtime import thresholds_from
from core.quota.text import account_title, provider_name
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets.commit import CommitBar
from desktop.widgets.feedback import hint
from desktop.widgets.field_error import FieldError, with_error
from desktop.widgets.tasks import PageTasks


def thresholds_field() -> str:
    """How refusals name the thresholds field (its label, without the colon)."""
    return tr("Notify below (% left):").rstrip(":：")


class QuotaSettingsPage(QWidget):
    changed = Signal()  # the tray re-renders with the new choices

    def __init__(self, services: CoreServices, snapshots: list[QuotaSnapshot]) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Quota settings page")
        current = services.store
        assert current is not None

        self.shown = QListWidget()
        hidden = current.get_setting(settings.KEY_QUOTA_HIDDEN, [])
        self._fill_shown(snapshots, hidden if isinstance(hidden, list) else [])
        self.interval = QSpinBox()
        self.interval.setRange(1, 120)
        self.interval.setSuffix(tr(" min"))
        seconds = settings.positive_number(current.get_setting(settings.KEY_QUOTA_INTERVAL), 300)
        self.interval.setValue(max(1, round(seconds / 60)))
        self.thresholds = QLineEdit(", ".join(f"{t:g}" for t in thresholds_from(
            current.get_setting(settings.KEY_QUOTA_THRESHOLDS))))
        self.thresholds.setPlaceholderText(", ".join(f"{t:g}" for t in DEFAULT_THRESHOLDS))
        self.thresholds_error = FieldError()
        self.hide_personal = QCheckBox(tr("Hide personal information (mask emails as well as keys)"))
        self.hide_personal.setChecked(bool(current.get_setting(settings.KEY_HIDE_PERSONAL, False)))
        self.language = QComboBox()
        self.language.addItem(tr("Automatic (from the system)"), "auto")
        for code, name in i18n.LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(current.get_setting(settings.KEY_LANGUAGE, "auto"))))
        self._saved_language = self.language.currentData()

        form = QFormLayout()
        form.addRow(tr("Refresh every:"), self.interval)
        form.addRow(tr("Notify below (% left):"), with_error(self.thresholds, self.thresholds_error))
        form.addRow("", hint(tr("Also when a quota runs out and when it comes back. Each notice is shown once per "
                                "crossing, also across restarts.")))
        form.addRow(tr("Language:"), self.language)
        form.addRow("", self.hide_personal)
        general = QGroupBox(tr("Refresh and notifications"))
        general.setLayout(form)
        shown_box = QGroupBox(tr("Show in the tray"))
        shown_layout = QVBoxLayout(shown_box)
        shown_layout.addWidget(self.shown)

        self.commit = CommitBar(self.tasks, self.form_state, self.show_form_state, self._save)
        self.commit.add_field(settings.KEY_QUOTA_THRESHOLDS, self.thresholds, self.thresholds_error,
                              self.thresholds.textChanged)
        self.commit.watch(self.interval.valueChanged, self.hide_personal.toggled,
                          self.language.currentIndexChanged, self.shown.itemChanged)

        layout = QVBoxLayout(self)
        layout.addWidget(general)
        layout.addWidget(shown_box, 1)
        layout.addWidget(self.commit)
        self.commit.reset()

    def hidden_choices(self) -> list[str]:
        return [self.shown.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.shown.count())
                if self.shown.item(i).checkState() == Qt.CheckState.Unchecked]

    # -- the form ----------------------------------------------------------------------------------
    def form_state(self) -> tuple[Any, ...]:
        return (self.interval.value(), self.thresholds.text().strip(), self.hide_personal.isChecked(),
                self.language.currentData(), tuple(self.hidden_choices()))

    def show_form_state(self, state: tuple[Any, ...]) -> None:
        interval, thresholds, hide_personal, language, hidden = state
        self.interval.setValue(interval)
        self.thresholds.setText(thresholds)
        self.hide_personal.setChecked(hide_personal)
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        for i in range(self.shown.count()):
            item = self.shown.item(i)
            item.setCheckState(Qt.CheckState.Unchecked if item.data(Qt.ItemDataRole.UserRole) in hidden
                               else Qt.CheckState.Checked)

    async def save(self) -> bool:
        return await self.commit.save()

    async def _save(self) -> str:
        values = {
            settings.KEY_QUOTA_HIDDEN: self.hidden_choices(),
            settings.KEY_QUOTA_INTERVAL: self.interval.value() * 60,
            settings.KEY_QUOTA_THRESHOLDS: self.thresholds.text(),  # the setting's rule reads "50, 20 %"
            settings.KEY_HIDE_PERSONAL: self.hide_personal.isChecked(),
            settings.KEY_LANGUAGE: self.language.currentData(),
        }
        if self.services.configuration is None:
            raise ConfigError(tr("Quotagate is shutting down."))
        # the configuration checks them and makes the quota glance use them (headless too)
        stored = await self.services.configuration.update_settings(
            values, {settings.KEY_QUOTA_THRESHOLDS: thresholds_field()},
            reason=translatable("changing quota settings"))
        self.thresholds.blockSignals(True)  # shown as stored: "60, 25%" reads back as "60, 25"
        self.thresholds.setText(", ".join(f"{t:g}" for t in stored[settings.KEY_QUOTA_THRESHOLDS]))
        self.thresholds.blockSignals(False)
        self.changed.emit()
        if self.language.currentData() == self._saved_language:
            return tr("Saved.")
        self._saved_language = self.language.currentData()
        i18n.set_language(self._saved_language)
        return tr("Saved. Windows opened from now on use the new language.")

    def show_accounts(self, snapshots: list[QuotaSnapshot]) -> None:
        """Accounts found since the page opened join the list; the user's ticks are kept."""
        hidden = self.hidden_choices()
        self.shown.blockSignals(True)
        self.shown.clear()
        self._fill_shown(snapshots, hidden)
        self.shown.blockSignals(False)

    def _fill_shown(self, snapshots: list[QuotaSnapshot], hidden: list[str]) -> None:
        """Each provider, then its accounts, in the order the tray lists them."""
        ordered = display_order(snapshots)
        entries = []
        for provider_id in PROVIDER_IDS:
            entries.append((provider_id, provider_name(provider_id)))
            entries += [(s.key, "    " + account_title(s)) for s in ordered if s.provider == provider_id]
        entries += [(s.key, account_title(s)) for s in ordered if s.provider not in PROVIDER_IDS]
        for key, label in entries:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if key in hidden else Qt.CheckState.Checked)
            self.shown.addItem(item)
