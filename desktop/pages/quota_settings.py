"""Quota settings: what to show, how often to refresh, when to notify, privacy and language."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import i18n, settings
from core.i18n import tr
from core.quota.alerts import DEFAULT_THRESHOLDS
from core.quota.model import QuotaSnapshot
from core.quota.providers import PROVIDER_IDS
from core.quota.runtime import thresholds_from
from core.quota.text import account_title, provider_name
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets.feedback import StatusLabel, hint, title_label
from desktop.widgets.tasks import PageTasks


def parse_thresholds(text: str) -> list[float]:
    """"50, 20" → [50.0, 20.0]; a clear ValueError for anything else (the range is the setting's rule)."""
    values = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().rstrip("%").strip()
        if not part:
            continue
        try:
            values.append(float(part))
        except ValueError:
            raise ValueError(tr("“{part}” is not a number.", part=part)) from None
    return settings.thresholds(values, tr("Notify below (% left):").rstrip(":："))


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
        self.hide_personal = QCheckBox(tr("Hide personal information (mask emails as well as keys)"))
        self.hide_personal.setChecked(bool(current.get_setting(settings.KEY_HIDE_PERSONAL, False)))
        self.language = QComboBox()
        self.language.addItem(tr("Automatic (from the system)"), "auto")
        for code, name in i18n.LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(current.get_setting(settings.KEY_LANGUAGE, "auto"))))
        self.save_button = QPushButton(tr("Save"))
        self.save_button.clicked.connect(lambda: self.tasks.start(self.save()))
        self.status = StatusLabel()

        form = QFormLayout()
        form.addRow(tr("Refresh every:"), self.interval)
        form.addRow(tr("Notify below (% left):"), self.thresholds)
        form.addRow("", hint(tr("Also when a quota runs out and when it comes back. Each notice is shown once per "
                                "crossing, also across restarts.")))
        form.addRow(tr("Language:"), self.language)
        form.addRow("", self.hide_personal)
        general = QGroupBox(tr("Refresh and notifications"))
        general.setLayout(form)
        shown_box = QGroupBox(tr("Show in the tray"))
        shown_layout = QVBoxLayout(shown_box)
        shown_layout.addWidget(self.shown)

        layout = QVBoxLayout(self)
        layout.addWidget(title_label(tr("Quota")))
        layout.addWidget(general)
        layout.addWidget(shown_box, 1)
        layout.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status)

    def hidden_choices(self) -> list[str]:
        return [self.shown.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.shown.count())
                if self.shown.item(i).checkState() == Qt.CheckState.Unchecked]

    async def save(self) -> bool:
        try:
            thresholds = parse_thresholds(self.thresholds.text())
        except ValueError as exc:
            self.status.error(str(exc))
            return False
        values = {
            settings.KEY_QUOTA_HIDDEN: self.hidden_choices(),
            settings.KEY_QUOTA_INTERVAL: self.interval.value() * 60,
            settings.KEY_QUOTA_THRESHOLDS: thresholds,
            settings.KEY_HIDE_PERSONAL: self.hide_personal.isChecked(),
            settings.KEY_LANGUAGE: self.language.currentData(),
        }
        if self.services.configuration is None:
            self.status.error(tr("Not saved: Quotagate is shutting down."))
            return False
        try:  # the configuration checks them and makes the quota glance use them (headless too)
            await self.services.configuration.update_settings(values, reason="changing quota settings")
        except ConfigError as exc:
            self.status.error(tr("Not saved: {error}", error=exc))
            return False
        i18n.set_language(self.language.currentData())
        self.status.ok(tr("Saved. Windows opened from now on use the new language."))
        self.changed.emit()
        return True

    def show_accounts(self, snapshots: list[QuotaSnapshot]) -> None:
        """Accounts found since the page opened join the list; the user's ticks are kept."""
        hidden = self.hidden_choices()
        self.shown.clear()
        self._fill_shown(snapshots, hidden)

    def _fill_shown(self, snapshots: list[QuotaSnapshot], hidden: list[str]) -> None:
        entries = [(provider_id, provider_name(provider_id)) for provider_id in PROVIDER_IDS]
        entries += [(s.key, "    " + account_title(s)) for s in snapshots if s.key not in dict(entries)]
        entries.sort(key=lambda e: (e[0].split("/")[0], "/" in e[0]))
        for key, label in entries:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if key in hidden else Qt.CheckState.Checked)
            self.shown.addItem(item)
