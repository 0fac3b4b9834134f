"""The glue between the quota runtime (core) and what shows it: new snapshots update the tray menu, icon and
quota panel in place, each refresh round's alerts become one notification, countdowns tick (faster while
the menu or the panel is open), and an open menu or panel asks for fresher data."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from core import settings
from core.quota.alerts import QuotaAlert
from core.quota.cards import account_card
from core.quota.model import QuotaSnapshot, utc_now
from core.quota.notices import round_notice
from core.quota.order import display_order
from core.quota.runtime import thresholds_from
from core.quota.text import visible
from core.services import CoreServices
from desktop.quota_panel import QuotaPanel
from desktop.tray import TrayController
from desktop.widgets.tasks import off_loop

log = logging.getLogger(__name__)
TICK_MS = 60_000
OPEN_TICK_MS = 15_000  # while someone looks: countdowns and "updated … ago" keep up


class QuotaGlance(QObject):
    notified = Signal(str, str)  # title, message: every notification shown (also where there is no tray)
    snapshots_changed = Signal(object)  # list[QuotaSnapshot], for pages that show quota

    def __init__(self, services: CoreServices, tray: TrayController | None) -> None:
        super().__init__()
        self.services = services
        self.tray = tray
        self.panel = QuotaPanel(as_window=tray is None)
        self.hidden: list[str] = []
        self.thresholds = thresholds_from(None)
        self.hide_personal = False
        self._open: set[str] = set()  # "menu", "panel": what is on screen now
        quota = services.quota
        assert quota is not None
        quota.engine.snapshots_changed.connect(self._on_snapshots)
        quota.engine.refresh_finished.connect(self._on_round)
        quota.alerts.connect(self._on_alerts)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._render)
        self._ticker.start()
        self.panel.refresh_requested.connect(self.refresh_now)
        self.panel.visibility_changed.connect(lambda shown: self._on_open("panel", shown))
        if tray is not None:
            tray.menu_visible.connect(lambda shown: self._on_open("menu", shown))
            tray.refresh_requested.connect(self.refresh_now)
            tray.panel_requested.connect(self.open_panel)

    def snapshots(self) -> list[QuotaSnapshot]:
        return self.services.quota.snapshots() if self.services.quota else []

    async def apply_settings(self) -> None:
        """Read what to show, thresholds and privacy from the store, and show the result. (The quota
        runtime's own interval and thresholds follow the settings in the core, with or without a desktop.)"""
        store = self.services.store
        hidden, thresholds, hide_personal = await off_loop(lambda: (
            store.get_setting(settings.KEY_QUOTA_HIDDEN, []), store.get_setting(settings.KEY_QUOTA_THRESHOLDS),
            store.get_setting(settings.KEY_HIDE_PERSONAL, False)))
        self.hidden = hidden if isinstance(hidden, list) else []
        self.thresholds = thresholds_from(thresholds)
        self.hide_personal = bool(hide_personal)
        self._render()

    def open_panel(self) -> None:
        if self.panel.just_closed():  # the click on the icon that closed the open panel: a toggle, not a reopen
            return
        self._render()
        self.panel.popup(self.tray.anchor() if self.tray is not None else None)

    def refresh_now(self) -> asyncio.Task[list[QuotaSnapshot]] | None:
        if self.services.quota is None:
            return None
        task = asyncio.ensure_future(self.services.quota.refresh_now())
        self.panel.set_refreshing(True)
        task.add_done_callback(lambda _task: self.panel.set_refreshing(False))
        return task

    def stop(self) -> None:
        self._ticker.stop()
        self.panel.hide()

    def dispose(self) -> None:
        """Stop listening to the core (which may outlive this glance) and hand the panel back to Qt."""
        self.stop()
        quota = self.services.quota
        if quota is not None:
            quota.engine.snapshots_changed.disconnect(self._on_snapshots)
            quota.engine.refresh_finished.disconnect(self._on_round)
            quota.alerts.disconnect(self._on_alerts)
        self.panel.deleteLater()

    def _on_snapshots(self, snapshots: list[QuotaSnapshot]) -> None:
        self._render(snapshots)
        self.snapshots_changed.emit(snapshots)

    def _on_round(self, _snapshots: list[QuotaSnapshot]) -> None:
        self._render()  # unchanged numbers are not re-published, but "updated just now" has changed

    def _render(self, snapshots: list[QuotaSnapshot] | None = None) -> None:
        now = utc_now()
        shown = display_order(visible(snapshots if snapshots is not None else self.snapshots(), self.hidden))
        if self.tray is not None:
            self.tray.show_quota(shown, self.thresholds, self.hide_personal, now)
        self.panel.show_cards([account_card(s, self.thresholds, now, self.hide_personal) for s in shown], now)

    def _on_open(self, what: str, shown: bool) -> None:
        (self._open.add if shown else self._open.discard)(what)
        self._ticker.setInterval(OPEN_TICK_MS if self._open else TICK_MS)
        if self.services.quota is not None:
            self.services.quota.menu_opened(bool(self._open))

    def _on_alerts(self, alerts: list[QuotaAlert]) -> None:
        hidden = [str(item) for item in self.hidden]
        shown = [a for a in alerts
                 if not any(a.provider == item or a.window_key.startswith(item + "/") for item in hidden)]
        notice = round_notice(shown, utc_now())
        if notice is None:
            return
        log.info("Quota notification: %s %s", notice.title, notice.message)
        if self.tray is not None:
            self.tray.notify(notice.title, notice.message, critical=notice.critical)
        self.notified.emit(notice.title, notice.message)
