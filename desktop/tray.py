"""The tray icon and its menu. A left click asks for the quota panel; the menu (right click) has one summary
row per account — its tightest window — then the gateway's state and the commands.

The menu is never rebuilt: rows are kept per account and their texts, icons and tooltips change in place,
so an open menu keeps its keyboard highlight through countdown ticks and refreshes, and a row added while
it is open is inserted where it belongs. After any change an open menu is moved back inside the screen.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from core.i18n import tr
from core.quota.alerts import DEFAULT_THRESHOLDS
from core.quota.cards import summary
from core.quota.model import QuotaSnapshot, mask_identity, utc_now
from core.quota.order import display_order
from core.quota.text import account_title, most_constrained, provider_name, staleness, window_label, window_status
from core.services import GatewayState
from desktop.icons import app_icon
from desktop.quota_icons import tray_icon
from desktop.widgets.format import ago

MAX_IDENTITY_CHARS = 28  # keeps the menu narrow whatever the identities are


class TrayController(QObject):
    settings_requested = Signal()
    quit_requested = Signal()
    refresh_requested = Signal()
    backup_requested = Signal()
    restore_requested = Signal()
    panel_requested = Signal()
    menu_visible = Signal(bool)

    def __init__(self, state: GatewayState) -> None:
        super().__init__()
        self.menu = QMenu()
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(lambda: self.menu_visible.emit(True))
        self.menu.aboutToHide.connect(lambda: self.menu_visible.emit(False))
        self._rows: dict[str, QAction] = {}  # account key -> its row, kept for the life of the account
        self.empty_action = self._action("", enabled=False)
        self.quota_separator = self.menu.addSeparator()
        self.gateway_action = self._action("", enabled=False)  # a status line, not a command
        self.refresh_action = self._action("", self.refresh_requested)
        self.backup_action = self._action("", self.backup_requested)
        self.restore_action = self._action("", self.restore_requested)
        self.settings_action = self._action("", self.settings_requested)
        self.quit_action = self._action("", self.quit_requested)
        self.menu.insertAction(self.quota_separator, self.empty_action)
        for action in (self.gateway_action, None, self.refresh_action, self.backup_action, self.restore_action,
                       self.settings_action, None, self.quit_action):
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)

        self.icon = QSystemTrayIcon(app_icon())
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self._gateway = state
        self._snapshots: list[QuotaSnapshot] = []
        self._thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
        self._hide_personal = False
        self._icon_drawn: tuple[object, ...] | None = None  # what the icon shows now
        self.retranslate()
        self.show_gateway_state(state)

    def retranslate(self) -> None:
        """Command texts in the current language (it is known only once the store is open)."""
        for action, text in ((self.refresh_action, tr("Refresh now")), (self.backup_action, tr("Back up now")),
                             (self.restore_action, tr("Restore…")), (self.settings_action, tr("Settings…")),
                             (self.quit_action, tr("Quit")), (self.empty_action, tr("No subscriptions found yet"))):
            action.setText(text)
        self.empty_action.setToolTip(tr("Sign in with Codex, Claude Code, OpenCode or Gemini CLI, or add a key in "
                                        "Settings › Providers."))

    @property
    def quota_actions(self) -> list[QAction]:
        """The rows above the gateway's line, as shown: one per account, or the hint when there is none."""
        return [a for a in self.menu.actions() if a.isVisible() and not a.isSeparator()
                and (a is self.empty_action or a in self._rows.values())]

    # -- what it shows --------------------------------------------------------------------------------
    def show_gateway_state(self, state: GatewayState) -> None:
        self._gateway = state
        self.gateway_action.setText(state.describe() if state.running else tr("Gateway stopped — see Settings"))
        self.gateway_action.setToolTip(state.describe())
        self._update_icon(utc_now())

    def show_quota(self, snapshots: list[QuotaSnapshot], thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS,
                   hide_personal: bool = False, now: datetime | None = None) -> None:
        self._snapshots, self._thresholds, self._hide_personal = list(snapshots), thresholds, hide_personal
        self.tick(now)

    def tick(self, now: datetime | None = None) -> None:
        """Countdowns move on without a refetch."""
        now = now or utc_now()
        self._update_rows(now)
        self._update_icon(now)

    def anchor(self) -> QRect:
        """Where the icon is on screen (empty when the tray host does not say)."""
        return self.icon.geometry()

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

    # -- rows, changed in place -----------------------------------------------------------------------
    def _update_rows(self, now: datetime) -> None:
        ordered = display_order(self._snapshots)
        keys = [snapshot.key for snapshot in ordered]
        for key in [k for k in self._rows if k not in keys]:
            action = self._rows.pop(key)
            self.menu.removeAction(action)
            action.deleteLater()
        following = self.empty_action
        for snapshot in reversed(ordered):  # from the end, so that the row a row goes before is in place
            row = self._rows.get(snapshot.key)
            if row is None:
                row = self._rows[snapshot.key] = self._action("", self.panel_requested)
            self._place(row, following)
            self._fill_row(row, snapshot, now)
            following = row
        self.empty_action.setVisible(not ordered)
        self._keep_on_screen()

    def _place(self, row: QAction, before: QAction) -> None:
        """Put `row` just before `before`, unless it already is (moving a row would drop the highlight)."""
        actions = self.menu.actions()
        if row in actions and actions.index(row) + 1 == actions.index(before):
            return
        if row in actions:
            self.menu.removeAction(row)
        self.menu.insertAction(before, row)

    def _row_title(self, snapshot: QuotaSnapshot) -> str:
        """"Claude · Max"; the identity only where the provider has several accounts (the panel and the
        row's tooltip always show it), shortened in the middle when long."""
        parts = [provider_name(snapshot.provider)]
        if sum(s.provider == snapshot.provider for s in self._snapshots) > 1:
            identity = mask_identity(snapshot.account) if self._hide_personal else snapshot.account
            if len(identity) > MAX_IDENTITY_CHARS:
                half = (MAX_IDENTITY_CHARS - 1) // 2
                identity = identity[:half] + "…" + identity[-half:]
            parts.append(identity)
        if snapshot.plan:
            parts.append(snapshot.plan)
        return " · ".join(parts)

    def _fill_row(self, row: QAction, snapshot: QuotaSnapshot, now: datetime) -> None:
        text = f"{self._row_title(snapshot)}\t{summary(snapshot, now)}"  # QMenu right-aligns what follows a tab
        if row.text() != text:
            row.setText(text)
        tightest = most_constrained([snapshot.as_of(now)])
        key = (None if tightest is None else round(tightest[1].remaining_percent or 0), snapshot.stale,
               self._thresholds)
        if row.data() != key:  # icons are redrawn only when what they show changes
            row.setData(key)
            row.setIcon(tray_icon(None if tightest is None else tightest[1].remaining_percent, self._thresholds,
                                  stale=snapshot.stale or tightest is None))
        row.setToolTip(self._row_tooltip(snapshot, now))

    def _row_tooltip(self, snapshot: QuotaSnapshot, now: datetime) -> str:
        shown = snapshot.as_of(now)
        lines = [account_title(snapshot, self._hide_personal)]
        lines += [f"{window_label(w)}: {window_status(w, now)}" for w in shown.windows]
        stale = staleness(snapshot, now)
        if stale:
            lines.append(stale)
        elif snapshot.windows:
            lines.append(tr("updated {ago}", ago=ago(snapshot.fetched_at.timestamp(), now.timestamp())))
        if snapshot.error:
            lines.append(snapshot.error)
        return "\n".join(lines)

    def _keep_on_screen(self) -> None:
        """QMenu grows from its top-left corner when rows widen while it is open; pull it back inside."""
        if not self.menu.isVisible():
            return
        self.menu.adjustSize()
        screen = self.menu.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area, frame = screen.availableGeometry(), self.menu.frameGeometry()
        x = max(area.left(), min(frame.left(), area.right() + 1 - frame.width()))
        y = max(area.top(), min(frame.top(), area.bottom() + 1 - frame.height()))
        if (x, y) != (frame.left(), frame.top()):
            self.menu.move(x, y)

    # -- icon and tooltip -----------------------------------------------------------------------------
    def _update_icon(self, now: datetime) -> None:
        shown = [snapshot.as_of(now) for snapshot in self._snapshots]
        tightest = most_constrained(shown)
        drawn = None if tightest is None else (round(tightest[1].remaining_percent or 0), tightest[0].stale,
                                               self._thresholds)
        if drawn != self._icon_drawn or self.icon.icon().isNull():  # some tray hosts flicker on every setIcon
            self._icon_drawn = drawn
            self.icon.setIcon(app_icon() if tightest is None else tray_icon(
                tightest[1].remaining_percent, self._thresholds, stale=tightest[0].stale))
        lines = ["Quotagate"]
        for provider, line in self._tooltip_lines(shown, now):
            lines.append(f"{provider_name(provider)}: {line}")
        lines.append(self._gateway.describe())
        self.icon.setToolTip("\n".join(lines))

    def _tooltip_lines(self, shown: list[QuotaSnapshot], now: datetime) -> list[tuple[str, str]]:
        """One line per provider: its tightest window, or its error."""
        lines = []
        for provider in dict.fromkeys(s.provider for s in display_order(shown)):
            own = [s for s in shown if s.provider == provider]
            tightest = most_constrained(own)
            if tightest is not None:
                lines.append((provider, f"{window_label(tightest[1])} {window_status(tightest[1], now)}"))
            elif own[0].error:
                lines.append((provider, tr("error — see the menu")))
        return lines

    def _action(self, text: str, signal: Signal | None = None, enabled: bool = True) -> QAction:
        action = QAction(text, self)
        action.setEnabled(enabled)
        if signal is not None:
            action.triggered.connect(signal)
        return action

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.panel_requested.emit()
