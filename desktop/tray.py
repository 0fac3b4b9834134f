"""The tray icon and its menu: quota per account at the top, the gateway's state, then commands."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from core.i18n import tr
from core.quota.alerts import DEFAULT_THRESHOLDS
from core.quota.model import QuotaSnapshot, utc_now
from core.quota.text import (
    account_title,
    most_constrained,
    provider_name,
    staleness,
    window_label,
    window_status,
)
from core.services import GatewayState
from desktop.icons import app_icon
from desktop.quota_icons import gauge_icon, tray_icon

_MAX_ERROR_CHARS = 90


class TrayController(QObject):
    settings_requested = Signal()
    quit_requested = Signal()
    refresh_requested = Signal()
    backup_requested = Signal()
    restore_requested = Signal()
    menu_visible = Signal(bool)

    def __init__(self, state: GatewayState) -> None:
        super().__init__()
        self.menu = QMenu()
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(lambda: self.menu_visible.emit(True))
        self.menu.aboutToHide.connect(lambda: self.menu_visible.emit(False))
        self.gateway_action = self._action("", enabled=False)  # a status line, not a command
        self.refresh_action = self._action("", self.refresh_requested)
        self.backup_action = self._action("", self.backup_requested)
        self.restore_action = self._action("", self.restore_requested)
        self.settings_action = self._action("", self.settings_requested)
        self.quit_action = self._action("", self.quit_requested)
        self.retranslate()
        self.quota_actions: list[QAction] = []

        self.icon = QSystemTrayIcon(app_icon())
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self._gateway = state
        self._snapshots: list[QuotaSnapshot] = []
        self._thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
        self._hide_personal = False
        self.show_gateway_state(state)

    def retranslate(self) -> None:
        """Command texts in the current language (it is known only once the store is open)."""
        for action, text in ((self.refresh_action, tr("Refresh now")), (self.backup_action, tr("Back up now")),
                             (self.restore_action, tr("Restore…")), (self.settings_action, tr("Settings…")),
                             (self.quit_action, tr("Quit"))):
            action.setText(text)

    # -- what it shows --------------------------------------------------------------------------------
    def show_gateway_state(self, state: GatewayState) -> None:
        self._gateway = state
        self.gateway_action.setText(state.describe() if state.running else tr("Gateway stopped — see Settings"))
        self.gateway_action.setToolTip(state.describe())
        self._rebuild()

    def show_quota(self, snapshots: list[QuotaSnapshot], thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
                   hide_personal: bool = False, now: datetime | None = None) -> None:
        self._snapshots, self._thresholds, self._hide_personal = list(snapshots), thresholds, hide_personal
        self._rebuild(now)

    def tick(self, now: datetime | None = None) -> None:
        """Countdowns move on without a refetch."""
        self._rebuild(now)

    def notify(self, title: str, message: str, critical: bool = False) -> None:
        kind = QSystemTrayIcon.MessageIcon.Critical if critical else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, message, kind, 15000)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def dispose(self) -> None:
        self.icon.hide()
        self.icon.setContextMenu(None)
        self.icon.deleteLater()
        self.menu.deleteLater()
        self.deleteLater()

    # -- building -------------------------------------------------------------------------------------
    def _rebuild(self, now: datetime | None = None) -> None:
        now = now or utc_now()
        shown = [snapshot.as_of(now) for snapshot in self._snapshots]  # no numbers from before a reset
        self.menu.clear()
        self.quota_actions = self._quota_rows(shown, now)
        for action in self.quota_actions:
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.gateway_action)
        self.menu.addSeparator()
        for action in (self.refresh_action, self.backup_action, self.restore_action, self.settings_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self._update_icon(shown, now)

    def _quota_rows(self, shown: list[QuotaSnapshot], now: datetime) -> list[QAction]:
        if not shown:
            return [self._action(tr("No subscriptions found yet"), enabled=False, transient=True,
                                 tooltip=tr("Sign in with Codex, Claude Code, OpenCode or Gemini CLI, or add a key "
                                            "in Settings › Providers."))]
        rows: list[QAction] = []
        for snapshot in sorted(shown, key=lambda s: (not s.windows, provider_name(s.provider))):
            title = account_title(snapshot, self._hide_personal)
            stale = staleness(snapshot, now)
            header = self._action(title + (f" ({stale})" if stale else ""), enabled=False, transient=True)
            font = QFont(header.font())
            font.setBold(True)
            header.setFont(font)
            rows.append(header)
            for window in snapshot.windows:
                row = self._action(f"{window_label(window)}: {window_status(window, now)}", transient=True)
                row.setIcon(gauge_icon(window.remaining_percent, self._thresholds))
                rows.append(row)
            if snapshot.error:
                short = snapshot.error if len(snapshot.error) <= _MAX_ERROR_CHARS else snapshot.error[:_MAX_ERROR_CHARS] + "…"
                rows.append(self._action(f"⚠ {short}", enabled=False, tooltip=snapshot.error, transient=True))
        return rows

    def _update_icon(self, shown: list[QuotaSnapshot], now: datetime) -> None:
        lines = ["Quotagate"]
        tightest = most_constrained(shown)
        if tightest is None:
            self.icon.setIcon(app_icon())
        else:
            snapshot, window = tightest
            self.icon.setIcon(tray_icon(window.remaining_percent, self._thresholds, stale=snapshot.stale))
        for provider, line in self._tooltip_lines(shown, now):
            lines.append(f"{provider_name(provider)}: {line}")
        lines.append(self._gateway.describe())
        self.icon.setToolTip("\n".join(lines))

    def _tooltip_lines(self, shown: list[QuotaSnapshot], now: datetime) -> list[tuple[str, str]]:
        """One line per provider: its tightest window, or its error."""
        lines = []
        for provider in sorted({s.provider for s in shown}, key=provider_name):
            own = [s for s in shown if s.provider == provider]
            tightest = most_constrained(own)
            if tightest is not None:
                lines.append((provider, f"{window_label(tightest[1])} {window_status(tightest[1], now)}"))
            elif own[0].error:
                lines.append((provider, tr("error — see the menu")))
        return lines

    def _action(self, text: str, signal: Signal | None = None, enabled: bool = True,
                tooltip: str | None = None, transient: bool = False) -> QAction:
        # Quota rows belong to the menu (clear() deletes them); the commands belong to this controller.
        action = QAction(text, self.menu if transient else self)
        action.setEnabled(enabled)
        if tooltip:
            action.setToolTip(tooltip)
        if signal is not None:
            action.triggered.connect(signal)
        return action

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.settings_requested.emit()
