"""The glue between the quota runtime (core) and the tray: new snapshots re-render the menu and icon,
alerts become notifications, countdowns tick every minute, and an open menu asks for fresher data."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from core import settings
from core.quota.alerts import QuotaAlert
from core.quota.model import QuotaSnapshot, utc_now
from core.quota.runtime import thresholds_from
from core.quota.text import alert_text, visible
from core.services import CoreServices
from desktop.tray import TrayController
from desktop.widgets.tasks import off_loop

log = logging.getLogger(__name__)
TICK_MS = 60_000


class QuotaGlance(QObject):
    notified = Signal(str, str)  # title, message: every notification shown (also where there is no tray)
    snapshots_changed = Signal(object)  # list[QuotaSnapshot], for pages that show quota

    def __init__(self, services: CoreServices, tray: TrayController | None) -> None:
        super().__init__()
        self.services = services
        self.tray = tray
        self.hidden: list[str] = []
        self.thresholds = thresholds_from(None)
        self.hide_personal = False
        quota = services.quota
        assert quota is not None
        quota.engine.snapshots_changed.connect(self._on_snapshots)
        quota.alerts.connect(self._on_alerts)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        if tray is not None:
            tray.menu_visible.connect(quota.menu_opened)
            tray.refresh_requested.connect(self.refresh_now)

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

    def refresh_now(self) -> asyncio.Task[list[QuotaSnapshot]] | None:
        if self.services.quota is None:
            return None
        return asyncio.ensure_future(self.services.quota.refresh_now())

    def stop(self) -> None:
        self._ticker.stop()

    def _on_snapshots(self, snapshots: list[QuotaSnapshot]) -> None:
        self._render(snapshots)
        self.snapshots_changed.emit(snapshots)

    def _render(self, snapshots: list[QuotaSnapshot] | None = None) -> None:
        if self.tray is not None:
            shown = visible(snapshots if snapshots is not None else self.snapshots(), self.hidden)
            self.tray.show_quota(shown, self.thresholds, self.hide_personal)

    def _tick(self) -> None:
        if self.tray is not None:
            self.tray.tick()

    def _on_alerts(self, alerts: list[QuotaAlert]) -> None:
        now = utc_now()
        for alert in alerts:
            if self.hidden and (alert.provider in self.hidden):
                continue
            title, message = alert_text(alert, now)
            log.info("Quota notification: %s %s", title, message)
            if self.tray is not None:
                self.tray.notify(title, message, critical=alert.kind == "depleted")
            self.notified.emit(title, message)
