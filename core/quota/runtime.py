"""The quota glance while the program runs: the engine, its notifications and its history, fed with the
accounts stored in Quotagate. Settings and state live in the store; nothing here blocks the loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Callable, Iterable

import peewee

from core import settings
from core.events import Event
from core.gateway.accounts import Account
from core.providers import catalog
from core.quota import history
from core.quota.accounts import StoredAccount, has_quota
from core.quota.alerts import DEFAULT_THRESHOLDS, QuotaAlert, ThresholdNotifier
from core.quota.engine import DEFAULT_INTERVAL, QuotaEngine
from core.quota.model import QuotaSnapshot
from core.quota.providers import PROVIDER_IDS
from core.store import Store
from core.store.models import QuotaSnapshotRow
from core.subscriptions import bundle
from core.subscriptions.credentials import CredentialSource, RenewalUnavailable, SignInRequired
from core.subscriptions.quota import stored_subscription_accounts

log = logging.getLogger(__name__)

MIN_INTERVAL = 30.0
FAST_INTERVAL = 60.0  # while the tray menu is open: what the user looks at should be fresh


def stored_quota_accounts(accounts: Iterable[Account]) -> list[StoredAccount]:
    """Accounts of quota providers (Zhipu, Z.ai keys; Copilot, Antigravity tokens) kept in Quotagate; API keys
    stored for the gateway alone (OpenAI, Gemini, …) have no quota and are left out."""
    gateway_keys = {provider.id for provider in catalog.providers()}
    return [StoredAccount(a.provider, a.api_key, a.name, {k: str(v) for k, v in a.options.items() if k != "proxy"})
            for a in accounts if a.provider in PROVIDER_IDS and has_quota(a.provider, gateway_keys)
            and a.api_key and a.active]


def thresholds_from(value: object) -> tuple[float, ...]:
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) and 0 < v < 100 for v in value):
        return tuple(float(v) for v in value)
    return DEFAULT_THRESHOLDS


def last_known_snapshots() -> list[QuotaSnapshot]:
    """The last good snapshot of every account from the store's history (read on the caller's thread)."""
    try:
        return history.latest()
    except peewee.DatabaseError:  # the history only adds to the glance; the glance works without it
        log.exception("Reading the last known quota failed")
        return []


class QuotaRuntime:
    def __init__(self, store: Callable[[], Store], engine: QuotaEngine | None = None) -> None:
        self._store = store
        current = store()
        self.interval = settings.positive_number(current.get_setting(settings.KEY_QUOTA_INTERVAL), DEFAULT_INTERVAL)
        self.interval = max(MIN_INTERVAL, self.interval)
        self.notifier = ThresholdNotifier.from_dict(current.get_setting(settings.KEY_QUOTA_NOTIFICATIONS),
                                                    thresholds_from(current.get_setting(settings.KEY_QUOTA_THRESHOLDS)))
        self._stored: list[StoredAccount] = []
        self._accounts: list[Account] = []
        self._credentials: CredentialSource | None = None
        self.engine = engine or QuotaEngine(account_source=lambda: self._stored, interval=self.interval,
                                            prepare=self._renew_sign_ins)
        self.alerts: Event[list[QuotaAlert]] = Event()
        self._recorder = history.SnapshotRecorder(lambda row: self._store().writer.submit(QuotaSnapshotRow, row))
        last_known = last_known_snapshots()
        self.engine.restore(last_known)
        self._recorder.already_recorded(last_known)
        self.engine.snapshots_changed.connect(self._recorder.record)
        self.engine.snapshots_changed.connect(self._observe)
        self._pending: list[QuotaAlert] = []
        self.engine.refresh_finished.connect(self._announce)

    def use_accounts(self, accounts: Iterable[Account]) -> None:
        """The stored accounts to query from the next refresh on (the caller read them off the loop)."""
        self._accounts = list(accounts)
        self._stored = stored_quota_accounts(self._accounts) + stored_subscription_accounts(self._accounts)

    def use_credentials(self, credentials: CredentialSource) -> None:
        """Where stored sign-ins get fresh tokens before each round (the gateway's token manager)."""
        self._credentials = credentials

    async def _renew_sign_ins(self) -> None:
        """Before a round: renew sign-ins due for it (Claude and Codex are read with their access token), and
        show those that must be signed in again as such rather than query them."""
        if self._credentials is None:
            return
        accounts = []
        for account in self._accounts:
            if account.kind == "subscription" and account.active and account.tokens is not None:
                try:
                    fresh = await self._credentials.current(account.id)
                except SignInRequired as exc:  # shown as what to do instead of being queried
                    account = replace(account, options={**account.options, bundle.STATE: bundle.SIGN_IN_AGAIN,
                                                        bundle.STATE_REASON: exc.reason})
                except RenewalUnavailable:
                    pass  # queried as it is: its failure is shown beside the last good numbers, retried later
                else:
                    if account.provider in ("claude", "codex"):
                        account = replace(account, tokens={**account.tokens, "access_token": fresh.access_token,
                                                           "expires_at": fresh.expires_at})
            accounts.append(account)
        self._stored = stored_quota_accounts(accounts) + stored_subscription_accounts(accounts)

    def start(self) -> None:
        self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()

    def snapshots(self) -> list[QuotaSnapshot]:
        return self.engine.snapshots()

    async def refresh_now(self) -> list[QuotaSnapshot]:
        return await self.engine.refresh_now()

    def menu_opened(self, opened: bool) -> None:
        self.engine.set_interval(min(FAST_INTERVAL, self.interval) if opened else self.interval)

    def set_interval(self, seconds: float) -> None:
        self.interval = max(MIN_INTERVAL, seconds)
        self.engine.set_interval(self.interval)

    def set_thresholds(self, thresholds: Iterable[float]) -> None:
        state = self.notifier.to_dict()
        self.notifier = ThresholdNotifier.from_dict(state, thresholds_from(list(thresholds)))

    def read_settings(self) -> tuple[float, tuple[float, ...]]:
        """The refresh interval and notification thresholds as stored (blocking: call it off the loop)."""
        store = self._store()
        return (settings.positive_number(store.get_setting(settings.KEY_QUOTA_INTERVAL), DEFAULT_INTERVAL),
                thresholds_from(store.get_setting(settings.KEY_QUOTA_THRESHOLDS)))

    def apply_settings(self, interval: float, thresholds: Iterable[float]) -> None:
        """Use changed settings at once (after every configuration change, with or without a desktop)."""
        if max(MIN_INTERVAL, interval) != self.interval:
            self.set_interval(interval)
        self.set_thresholds(thresholds)

    def prune_history(self) -> int:
        return history.prune(datetime.now(timezone.utc))

    def _observe(self, snapshots: list[QuotaSnapshot]) -> None:
        # Accounts publish one by one as their answers arrive; what they cross is announced together when
        # the round ends, so a start with four low quotas is one notification, not a burst of four.
        self._pending.extend(self.notifier.observe(snapshots))

    def _announce(self, _snapshots: list[QuotaSnapshot]) -> None:
        if not self._pending:
            return
        alerts, self._pending = self._pending, []
        self.alerts.emit(alerts)
        state = self.notifier.to_dict()
        asyncio.get_running_loop().run_in_executor(
            None, self._store().set_setting, settings.KEY_QUOTA_NOTIFICATIONS, state)
