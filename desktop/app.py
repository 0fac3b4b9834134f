"""Desktop bootstrap: QApplication, a qasync loop shared by Qt and the core services, tray and window."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from peewee import DatabaseError
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from core import __version__, audit, autostart, i18n, lifecycle, settings
from core.gateway import collector
from core.i18n import tr, translatable
from core.headless import EXIT_FAILED, EXIT_OK, run_headless
from core.services import CoreServices, GatewayState
from core.store.migrations import SchemaTooNewError
from desktop.bridge import CoreBridge
from desktop.display import display_unavailable_reason
from desktop.icons import app_icon
from desktop.loop import new_event_loop
from desktop.main_window import MainWindow
from desktop.pages.api_keys import ApiKeysPage
from desktop.pages.backups import BackupsPage, format_size
from desktop.pages.combos import CombosPage
from desktop.pages.dashboard import DashboardPage
from desktop.pages.gateway_rules import GatewayRulesPage
from desktop.pages.general import GeneralPage
from desktop.pages.providers import ProvidersPage
from desktop.pages.proxies import ProxiesPage
from desktop.pages.quota_history import QuotaHistoryPage
from desktop.pages.quota_settings import QuotaSettingsPage
from desktop.pages.requests import RequestsPage
from desktop.pages.tools import ToolsPage
from desktop.quota_glance import QuotaGlance
from desktop.single_instance import SingleInstance
from desktop.tray import TrayController
from desktop.widgets.tasks import PageTasks, off_loop

log = logging.getLogger(__name__)

PANEL_LINK = "open-quota-panel"


def no_tray_notice() -> str:
    """Said once, in the window: why there is no tray icon, with a link that opens the quota panel as a
    small always-on-top window instead."""
    return tr("Your desktop has no system tray, so Quotagate shows this window instead. The gateway keeps "
              "running while it is open; closing the window quits Quotagate.") + \
        f' <a href="{PANEL_LINK}">{tr("Show the quota panel in a small window that stays on top")}</a>'


class DesktopApp(QObject):
    """Owns the windows and the tray for one run; the core services do the work."""

    def __init__(self, services: CoreServices, tray_available: bool | None = None) -> None:
        super().__init__()
        self.services = services
        audit.set_process_source("window")  # configuration changes made here are the windows' (API ones say so)
        self.restart_requested = False  # POST /api/restart: quit, then start again (see run_desktop)
        self.bridge = CoreBridge(services)
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: TrayController | None = None
        self.window = MainWindow(quit_on_close=not tray_available)
        self.window.quit_requested.connect(self.request_quit)
        if tray_available:
            self.tray = TrayController(services.gateway_state)
            self.tray.settings_requested.connect(self.show_settings)
            self.tray.quit_requested.connect(self.request_quit)
            self.tray.backup_requested.connect(lambda: asyncio.ensure_future(self.back_up_now()))
            self.tray.restore_requested.connect(self.show_restore)
            self.bridge.gateway_state_changed.connect(self.tray.show_gateway_state)
        self.general_page: GeneralPage | None = None
        self._qt_translator: QTranslator | None = None
        self._quit = asyncio.Event()
        self.tasks = PageTasks("Desktop app")

    async def start(self) -> GatewayState:
        state = await self.services.start()
        lifecycle.install(self.request_restart, self.request_quit)  # POST /api/restart and /api/shutdown
        i18n.set_language(await off_loop(self.services.store.get_setting, settings.KEY_LANGUAGE))
        self._qt_translator = install_qt_translations()
        if self.tray is not None:
            self.tray.retranslate()
        self.quota_glance = QuotaGlance(self.services, self.tray)
        self.quota_glance.panel.settings_requested.connect(self.show_settings)
        await self.quota_glance.apply_settings()
        self.general_page = GeneralPage(state, self.services.data_folder, self.services.change_port,
                                        self._save_start_at_login)
        self.bridge.gateway_state_changed.connect(self.general_page.show_gateway_state)
        self.quota_settings_page = QuotaSettingsPage(self.services, self.quota_glance.snapshots())
        self.quota_settings_page.changed.connect(lambda: asyncio.ensure_future(self.quota_glance.apply_settings()))
        self.history_page = QuotaHistoryPage(self.quota_glance.snapshots())
        self.quota_glance.snapshots_changed.connect(self.history_page.show_accounts)
        self.quota_glance.snapshots_changed.connect(self.quota_settings_page.show_accounts)
        self.providers_page = ProvidersPage(self.services)
        self.combos_page = CombosPage(self.services)
        self.proxies_page = ProxiesPage(self.services)
        self.api_keys_page = ApiKeysPage(self.services)
        self.gateway_rules_page = GatewayRulesPage(self.services)
        self.tools_page = ToolsPage(self.services)
        self.dashboard_page = DashboardPage(self.services)
        self.backups_page = BackupsPage(self.services)
        self.requests_page = RequestsPage(self.services)
        for title, page in ((tr("General"), self.general_page), (tr("Quota"), self.quota_settings_page),
                            (tr("History"), self.history_page), (tr("Providers"), self.providers_page),
                            (tr("Combos"), self.combos_page),
                            (tr("Proxies"), self.proxies_page), (tr("API keys"), self.api_keys_page),
                            (tr("Gateway rules"), self.gateway_rules_page),
                            (tr("Tools"), self.tools_page),
                            (tr("Dashboard"), self.dashboard_page), (tr("Request defaults"), self.requests_page),
                            (tr("Backups"), self.backups_page)):
            self.window.add_page(title, page)
        self.services.store_replaced.connect(lambda _store: asyncio.ensure_future(self._after_restore()))
        if self.tray is not None:
            self.tray.show_gateway_state(state)
            self.tray.show()
            if not state.running:
                self.tray.notify(tr("Quotagate: gateway not started"), state.error or "", critical=True)
        else:
            # Without a tray, notifications appear in the window's notice bar.
            self.quota_glance.notified.connect(lambda title, message: self.window.show_notice(f"{title} {message}"))
            self.window.show_notice(no_tray_notice())
            self.window.notice.linkActivated.connect(self._on_notice_link)
            self.quota_glance.panel.visibility_changed.connect(self._on_panel_window_shown)
            self.window.bring_to_front()
        # Everything built so far (Qt wrappers, modules, the catalogue) lives as long as the app: frozen, it is
        # out of the collector's full passes, which otherwise stall the shared loop ~40 ms at a time under load;
        # young collections spaced out (docs/BENCHMARKS.md, "Desktop loop").
        collector.settle_after_start()
        return state

    async def back_up_now(self) -> None:
        """The tray's "Back up now": a snapshot, then a notification saying where it went."""
        try:
            info = await off_loop(self.services.backups.create_snapshot, "manual (tray)")
        except Exception as exc:
            log.exception("Backing up from the tray failed")
            self._notify(tr("Backup failed"), str(exc), critical=True)
            return
        self._notify(tr("Backup saved"), tr("Snapshot {id} ({size}). Restore it from Settings › Backups.",
                                           id=info.id, size=format_size(info.size_bytes)))

    def show_restore(self) -> None:
        self.window.show_page(tr("Backups"))
        self.window.bring_to_front()

    async def _after_restore(self) -> None:
        """Everything on screen was read from the old store: read it again."""
        for page in (self.providers_page, self.combos_page, self.api_keys_page, self.dashboard_page,
                     self.backups_page, self.requests_page):
            await page.refresh()
        await self.proxies_page.load()
        await self.quota_glance.apply_settings()

    def _notify(self, title: str, message: str, critical: bool = False) -> None:
        if self.tray is not None:
            self.tray.notify(title, message, critical)
        else:
            self.window.show_notice(tr("{title}: {message}", title=title, message=message))

    async def run(self) -> int:
        try:
            await self.start()
        except (SchemaTooNewError, DatabaseError, OSError) as exc:
            log.error("Cannot open the store: %s", exc)
            QMessageBox.critical(None, tr("Quotagate cannot start"),
                                 tr("The store in {folder} cannot be opened:\n\n{error}",
                                    folder=self.services.data_folder, error=exc))
            return EXIT_FAILED
        await self._quit.wait()
        await self.shutdown()
        return EXIT_OK

    def show_settings(self) -> None:
        self.window.bring_to_front()

    def _on_notice_link(self, link: str) -> None:
        """Without a tray: the small always-on-top panel instead of this window; closing the panel brings
        the window back, so Quotagate never runs with nothing on screen."""
        if link != PANEL_LINK:
            return
        self.quota_glance.open_panel()
        self.window.hide()

    def _on_panel_window_shown(self, shown: bool) -> None:
        if not shown and not self._quit.is_set() and not self.window.isVisible():
            self.window.bring_to_front()

    def request_quit(self) -> None:
        self._quit.set()

    def request_restart(self) -> None:
        self.restart_requested = True
        self._quit.set()

    async def shutdown(self) -> None:
        lifecycle.uninstall()
        if getattr(self, "quota_glance", None) is not None:
            self.quota_glance.stop()
        if self.tray is not None:
            self.tray.hide()
        self.window.quit_on_close = False
        self.window.close()
        await self.services.stop()

    def dispose(self) -> None:
        """Hand the Qt objects back to Qt for deletion (deterministic, instead of Python's GC order)."""
        audit.set_process_source("cli")  # what is left of this process is no longer the windows
        if self.tray is not None:
            self.tray.dispose()
        if getattr(self, "quota_glance", None) is not None:
            self.quota_glance.dispose()
        if self._qt_translator is not None:
            QCoreApplication.removeTranslator(self._qt_translator)
            self._qt_translator = None
        self.window.deleteLater()
        self.deleteLater()

    def _save_start_at_login(self, enabled: bool) -> None:
        autostart.set_enabled(enabled)
        if self.services.configuration is not None:
            self.tasks.start(self.services.configuration.update_settings(
                {settings.KEY_START_AT_LOGIN: enabled}, reason=translatable("changing start at login")))


def configure_application(app: QApplication) -> QApplication:
    app.setApplicationName("Quotagate")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("quotagate")
    app.setWindowIcon(app_icon())
    # The tray app lives on when its window closes; quitting is always explicit.
    app.setQuitOnLastWindowClosed(False)
    return app


def install_qt_translations() -> QTranslator | None:
    """Qt's own texts (standard dialog buttons, file dialogs, edit menus) in the language in use. English
    needs none; a missing catalogue leaves them in English."""
    app = QCoreApplication.instance()
    if app is None or i18n.language() == "en":
        return None
    translator = QTranslator(app)
    if not translator.load(QLocale(i18n.language()), "qtbase", "_",
                           QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        translator.deleteLater()
        return None
    app.installTranslator(translator)
    return translator


def run_desktop(folder: Path, verbose: bool = False) -> int:
    reason = display_unavailable_reason()
    if reason:
        print(tr("Quotagate: {reason}, so the gateway runs headless (as `quotagate serve`).", reason=reason),
              flush=True)
        log.warning("No GUI: %s; running headless", reason)
        return run_headless(folder)

    app = configure_application(QApplication.instance() or QApplication(sys.argv[:1]))

    instance = SingleInstance(folder)
    if instance.hand_over() or not instance.listen():
        print(tr("Quotagate is already running; its window has been brought to the front."), flush=True)
        return EXIT_OK

    loop = new_event_loop(app)
    asyncio.set_event_loop(loop)
    desktop = DesktopApp(CoreServices(folder))
    instance.show_requested.connect(desktop.show_settings)
    _quit_on_signals(loop, desktop)
    try:
        with loop:
            code = loop.run_until_complete(desktop.run())
    finally:
        instance.close()
    if desktop.restart_requested and code == EXIT_OK:
        log.info("Restarting as asked through the management API")
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # the same program, arguments and bundle
    return code


def _quit_on_signals(loop: asyncio.AbstractEventLoop, desktop: DesktopApp) -> QTimer:
    """SIGINT/SIGTERM quit cleanly. Python runs signal handlers only between bytecodes, so a timer keeps
    waking the interpreter while Qt sits in its C++ event loop."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: loop.call_soon_threadsafe(desktop.request_quit))
    wake = QTimer(desktop)
    wake.start(250)
    wake.timeout.connect(lambda: None)
    return wake
