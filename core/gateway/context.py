"""What the gateway's routes need from the running program, in a module of its own so that the app and
the management routes can both name it without importing each other."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable

import psutil

from core.backup.manager import BackupManager
from core.configuration import Configuration
from core.gateway.accounts import AccountStore
from core.gateway.management.auth import ManagementAuth
from core.gateway.runtime import GatewayRuntime
from core.store import Store
from core.subscriptions.credentials import CredentialSource

if TYPE_CHECKING:
    from core.subscriptions.service import Subscriptions


@dataclass
class GatewayContext:
    """What the routes need from the running program."""

    store: Store
    address: Callable[[], tuple[str, int]]
    runtime: GatewayRuntime
    accounts: AccountStore | None = None
    reload: Callable[[], Awaitable[None]] | None = None  # re-read the store into the running gateway
    before_change: Callable[[str], Awaitable[None]] | None = None  # e.g. a throttled backup snapshot
    backups: BackupManager | None = None
    configuration: Configuration | None = None  # the one way the configuration changes
    allowed_hosts: frozenset[str] = frozenset()  # gateway.allowed_hosts, kept current by every reload
    auth: ManagementAuth = field(default_factory=ManagementAuth)  # outlives app rebuilds (port changes)
    credentials: "CredentialSource | None" = None  # subscription tokens for the executors (None: none signed in)
    subscriptions: "Subscriptions | None" = None  # sign-in flows and imports (/api/oauth/*)
    started_monotonic: float = field(default_factory=time.monotonic)
    process: psutil.Process = field(default_factory=psutil.Process)

    async def prepare_change(self, reason: str) -> None:
        """Before the management API changes the configuration (so the change can be undone)."""
        if self.before_change is not None:
            await self.before_change(reason)

    async def apply_changes(self) -> None:
        """Make the running gateway use what was just stored (the reload itself is serialised)."""
        if self.reload is not None:
            await self.reload()
