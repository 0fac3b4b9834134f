"""The running core: store, gateway and (later) quota engine, started and stopped together on one loop.

The desktop and the headless CLI both drive this one object, so they behave the same; the desktop only
listens to its events.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from core import i18n, running, settings
from core.events import Event
from core.i18n import tr, translatable
from core.backup.manager import DEFAULT_KEEP_COUNT, DEFAULT_KEEP_DAYS, DEFAULT_MAX_IMPORT_MB, BackupManager
from core.configuration import Configuration
from core.gateway.accounts import AccountStore
from core.gateway.app import build_app
from core.gateway.context import GatewayContext
from core.gateway.runtime import GatewayRuntime, load_config
from core.quota.model import QuotaSnapshot
from core.quota.runtime import QuotaRuntime
from core.gateway.server import GatewayServer, PortInUseError
from core.secrets import SecretBox
from core.store import Store
from core.store.database import replace_database_file
from core.subscriptions.service import Subscriptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayState:
    host: str
    port: int
    running: bool
    error: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def describe(self) -> str:
        if self.running:
            return tr("Gateway on {host}:{port}", host=self.host, port=self.port)
        if self.error:
            return tr("Gateway stopped: {error}", error=self.error)
        return tr("Gateway stopped")


class CoreServices:
    def __init__(self, data_folder: Path, host: str = settings.DEFAULT_HOST, port: int | None = None) -> None:
        """`port` None means: from QUOTAGATE_PORT, else the saved setting, else 20128."""
        self.data_folder = data_folder
        self.host = host
        self._requested_port = port
        self.store: Store | None = None
        self.accounts: AccountStore | None = None
        self.runtime: GatewayRuntime | None = None
        self.backups: BackupManager | None = None
        self.quota: QuotaRuntime | None = None
        self.configuration: Configuration | None = None  # every configuration change goes through it
        self.subscriptions: Subscriptions | None = None  # sign-ins, imports, and their tokens for the executors
        self.store_replaced: Event[Store] = Event()
        self._daily_snapshots: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()
        self.gateway: GatewayServer | None = None
        self.gateway_state = GatewayState(host, port or settings.DEFAULT_PORT, running=False)
        self.gateway_state_changed: Event[GatewayState] = Event()
        self._context: GatewayContext | None = None

    async def start(self, serve: bool = True) -> GatewayState:
        """Open the store and start the gateway. A gateway that cannot listen is reported, not raised."""
        loop = asyncio.get_running_loop()
        self.store = await loop.run_in_executor(None, Store.open, self.data_folder)
        box = await loop.run_in_executor(None, SecretBox.for_data_folder, self.data_folder)
        self.store.use_secrets(box)
        self.accounts = AccountStore(box)
        self.configuration = Configuration(lambda: self.store, self.accounts, self.before_config_change,
                                           self.reload_gateway_config)
        # Whatever the store holds, the program starts: unusable settings are reported and replaced.
        await loop.run_in_executor(None, self.configuration.repair)
        # What the gateway, the CLI and the windows say from here on is in the language of the settings.
        i18n.set_language(await loop.run_in_executor(None, self.store.get_setting, settings.KEY_LANGUAGE))
        self.backups = BackupManager(self.data_folder, self.store.path, box, self.replace_database)
        await loop.run_in_executor(None, self._apply_backup_settings)
        self._daily_snapshots = asyncio.create_task(self._take_daily_snapshots(), name="quotagate-snapshots")
        config = await loop.run_in_executor(None, load_config, self.store, self.accounts, self.host)
        self.runtime = GatewayRuntime(config, self.store)
        self.subscriptions = Subscriptions(self.accounts, lambda: self.store, self.configuration)
        self.subscriptions.use_accounts(await loop.run_in_executor(None, self.accounts.accounts))
        self.runtime.resilience.standing = self.subscriptions.standing_marks
        port = settings.resolve_port(self._requested_port, self.store.get_setting(settings.KEY_PORT))
        self._context = GatewayContext(store=self.store, address=lambda: (self.host, self._current_port()),
                                       runtime=self.runtime, accounts=self.accounts,
                                       reload=self.reload_gateway_config, before_change=self.before_config_change,
                                       backups=self.backups, configuration=self.configuration,
                                       credentials=self.subscriptions.tokens, subscriptions=self.subscriptions,
                                       allowed_hosts=frozenset(self.store.get_setting(settings.KEY_ALLOWED_HOSTS, [])))
        running.claim(self.data_folder, port)
        if not serve:  # store work only (CLI backup commands): no listener, no quota polling
            return self._set_state(GatewayState(self.host, port, running=False))
        self.quota = await loop.run_in_executor(None, QuotaRuntime, lambda: self.store)
        self.quota.engine.snapshots_changed.connect(self._route_by_quota)
        self._route_by_quota(self.quota.snapshots())
        self.quota.use_accounts(await loop.run_in_executor(None, self.accounts.accounts))
        self.quota.use_credentials(self.subscriptions.tokens)
        self.quota.start()  # its interval and thresholds come from the settings, headless too
        return await self._start_gateway(port)

    def _route_by_quota(self, snapshots: list[QuotaSnapshot]) -> None:
        """Accounts whose quota window is used up are skipped by the gateway until it resets."""
        if self.runtime is not None:
            self.runtime.quota_gate.update(snapshots)

    async def reload_gateway_config(self) -> None:
        """Re-read accounts, endpoints, aliases, keys and settings after a change and make every running
        service use them: the gateway (swapped in whole), the quota glance, backup retention."""
        assert self.store is not None and self.accounts is not None and self.runtime is not None
        loop = asyncio.get_running_loop()
        # Serialised: of two overlapping changes (a window and the API), the later read must win.
        async with self._reload_lock:
            config = await loop.run_in_executor(None, load_config, self.store, self.accounts, self.host)
            self.runtime.apply(config)
            await loop.run_in_executor(None, self._apply_backup_settings)
            if self._context is not None:
                self._context.allowed_hosts = frozenset(await loop.run_in_executor(
                    None, self.store.get_setting, settings.KEY_ALLOWED_HOSTS, []))
            accounts = await loop.run_in_executor(None, self.accounts.accounts)
            if self.subscriptions is not None:
                self.subscriptions.use_accounts(accounts)
            if self.quota is not None:
                self.quota.use_accounts(accounts)
                self.quota.apply_settings(*await loop.run_in_executor(None, self.quota.read_settings))

    def _apply_backup_settings(self) -> None:
        assert self.store is not None and self.backups is not None
        self.backups.keep_count = int(self.store.get_setting(settings.KEY_BACKUP_KEEP_COUNT, DEFAULT_KEEP_COUNT))
        self.backups.keep_days = self.store.get_setting(settings.KEY_BACKUP_KEEP_DAYS, DEFAULT_KEEP_DAYS)
        self.backups.max_import_mb = self.store.get_setting(settings.KEY_BACKUP_MAX_IMPORT_MB, DEFAULT_MAX_IMPORT_MB)

    async def before_config_change(self, reason: str) -> None:
        """An automatic snapshot (throttled) before the configuration changes, so it can be undone."""
        if self.backups is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.backups.snapshot_before_change, reason)
            except Exception:  # a failed snapshot must not block the change; it is logged
                log.exception("Automatic snapshot before %s failed", reason)

    async def replace_database(self, incoming: Path) -> None:
        """Swap the store's file for `incoming` (validated and prepared by the backup manager) while the
        gateway keeps serving, then reload everything that read the old one."""
        assert self.store is not None and self.runtime is not None and self._context is not None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.store.close)
        await loop.run_in_executor(None, replace_database_file, incoming, self.store.path)
        self.store = await loop.run_in_executor(None, Store.open, self.data_folder)
        assert self.accounts is not None and self.configuration is not None
        self.store.use_secrets(self.accounts.box)
        await loop.run_in_executor(None, self.configuration.repair)
        self.runtime.usage.use_writer(self.store.writer)
        self._context.store = self.store
        await self.reload_gateway_config()
        self.store_replaced.emit(self.store)
        log.info("Store replaced from a backup")

    async def _take_daily_snapshots(self) -> None:
        """Daily housekeeping: a snapshot of the store, and quota history past its retention."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(60)  # not in the way of startup; a store opened a minute ago has nothing to lose
        while True:
            try:
                if self.backups is not None and await loop.run_in_executor(None, self.backups.daily_snapshot_due):
                    await loop.run_in_executor(None, self.backups.create_snapshot, "daily")
                if self.quota is not None:
                    await loop.run_in_executor(None, self.quota.prune_history)
            except Exception:
                log.exception("Daily snapshot failed")
            await asyncio.sleep(3600)

    async def change_port(self, port: int) -> GatewayState:
        """Save `port` and move the gateway there. If the new port is taken, go back to the old one."""
        port = settings.parse_port(port, "port")
        assert self.store is not None
        previous = self.gateway_state
        await self._stop_gateway()
        state = await self._start_gateway(port)
        if state.running and self.configuration is not None:
            await self.configuration.update_settings({settings.KEY_PORT: state.port}, {settings.KEY_PORT: "port"},
                                                     reason=translatable("changing the port"))
        elif previous.running:
            await self._start_gateway(previous.port)
            # Tell the caller why the move failed even though the old port is serving again.
            return GatewayState(self.host, port, running=False, error=state.error)
        return state

    async def stop(self) -> None:
        """Drain the gateway, flush queued writes, close the store."""
        await self._stop_gateway()
        if self._daily_snapshots is not None:
            self._daily_snapshots.cancel()
            self._daily_snapshots = None
        if self.quota is not None:
            quota, self.quota = self.quota, None
            await quota.stop()
        if self.subscriptions is not None:
            subscriptions, self.subscriptions = self.subscriptions, None
            await subscriptions.aclose()
        if self.runtime is not None:
            runtime, self.runtime = self.runtime, None
            await runtime.aclose()
        if self.store is not None:
            store, self.store = self.store, None
            await asyncio.get_running_loop().run_in_executor(None, store.close)
        running.release(self.data_folder)
        log.info("Core services stopped")

    def _current_port(self) -> int:
        return self.gateway.port if self.gateway else self.gateway_state.port

    async def _start_gateway(self, port: int) -> GatewayState:
        assert self._context is not None
        server = GatewayServer(build_app(self._context), self.host, port)
        try:
            await server.start()
        except PortInUseError as exc:
            log.error("%s", exc)
            return self._set_state(GatewayState(self.host, port, running=False, error=str(exc)))
        except OSError as exc:
            log.error("The gateway could not listen on %s:%d: %s", self.host, port, exc)
            return self._set_state(GatewayState(self.host, port, running=False,
                                                error=tr("Cannot listen on {host}:{port}: {error}.", host=self.host,
                                                         port=port, error=exc.strerror or exc)))
        self.gateway = server
        return self._set_state(GatewayState(self.host, server.port, running=True))

    async def _stop_gateway(self) -> None:
        if self.gateway is not None:
            gateway, self.gateway = self.gateway, None
            await gateway.stop()
            self._set_state(GatewayState(self.host, gateway.port, running=False))

    def _set_state(self, state: GatewayState) -> GatewayState:
        self.gateway_state = state
        self.gateway_state_changed.emit(state)
        return state

