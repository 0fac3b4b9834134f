"""The quota engine: queries every account concurrently, keeps the last good data, retries with backoff.

Each account is fetched in its own task with its own deadline and published as soon as it is done, so a
slow or failing provider delays nobody. A failed refresh keeps the last good snapshot on screen, marked
stale (its `fetched_at` gives the age) and carrying the new error. Failing accounts are retried with
exponential backoff; healthy ones every `interval` (5 minutes by default, shorter while a menu is open
via `set_interval`). Listeners get the full list through `snapshots_changed` whenever something changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from core.i18n import tr
from core.quota.http import timeout_message
from core.events import Event
from core.net import DEFAULT_TIMEOUT, create_client
from core.quota.accounts import NEEDS_SIGN_IN, QuotaAccount, AccountSource, Discovery, StoredAccount
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, one_per_person, utc_now
from core.quota.providers import FetchContext, QuotaProvider, default_providers
from core.quota.tokens import TokenCache

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 300.0
MIN_INTERVAL = 10.0
REQUESTS_PER_FETCH = 3  # the most requests one account needs in a row (refresh, lookup, quota)
_SLACK = timedelta(seconds=1)
AFTER_RESET = timedelta(seconds=10)  # services take a moment to show a reset
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Backoff:
    """Delay before retrying an account after `failures` failures in a row: base · factor^(n-1), capped."""

    base: float = 60.0
    factor: float = 2.0
    cap: float = 1800.0

    def delay(self, failures: int) -> float:
        return 0.0 if failures <= 0 else min(self.cap, self.base * self.factor ** (failures - 1))


@dataclass
class _Track:
    shown: QuotaSnapshot
    last_good: QuotaSnapshot | None
    attempted_at: datetime
    failures: int


class QuotaEngine:
    def __init__(
        self,
        providers: Sequence[QuotaProvider[Any]] | None = None,
        *,
        only: Collection[str] | None = None,
        account_source: AccountSource | None = None,
        interval: float = DEFAULT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        backoff: Backoff = Backoff(),
        locations: Locations | None = None,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`only` limits to these provider ids (`--provider`). Without `client`, one is made with
        `core.net.create_client(timeout=timeout)` (raises `HostMapError` for a bad QUOTAGATE_HOST_MAP).
        `prepare` runs before each round (renewing stored sign-ins' tokens, so the round reads fresh ones)."""
        chosen = list(default_providers() if providers is None else providers)
        self.providers = [p for p in chosen if only is None or p.id in only]
        self.timeout = timeout
        self.backoff = backoff
        self.snapshots_changed: Event[list[QuotaSnapshot]] = Event()
        self.refresh_finished: Event[list[QuotaSnapshot]] = Event()
        self._interval = max(MIN_INTERVAL, interval)
        self._account_source = account_source
        self._prepare = prepare
        self._clock = clock
        self._owns_client = client is None
        self._context = FetchContext(client or create_client(timeout=timeout), TokenCache(), {}, clock,
                                     locations or Locations())
        self._tracks: dict[str, _Track] = {}
        self._order: dict[str, list[str]] = {p.id: [] for p in self.providers}
        self._round: asyncio.Future[list[QuotaSnapshot]] | None = None
        self._round_forced = False
        self._last_round_at: datetime | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- reading ----------------------------------------------------------------------------------------
    def snapshots(self) -> list[QuotaSnapshot]:
        """Current snapshot of every known account, in provider order, then discovery order; one per person
        when the same subscription is signed in through several tools."""
        return one_per_person([self._tracks[key].shown for p in self.providers for key in self._order[p.id]
                               if key in self._tracks])

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def last_refresh_at(self) -> datetime | None:
        return self._last_round_at

    def restore(self, snapshots: Iterable[QuotaSnapshot]) -> None:
        """Show the last good data of an earlier run until each account's first refresh: marked stale (with
        its age), due at once, and kept on screen with the error if that refresh fails. Accounts already
        known and providers not queried here are skipped."""
        for snapshot in snapshots:
            if snapshot.key in self._tracks or snapshot.provider not in self._order or not snapshot.windows:
                continue
            good = replace(snapshot, stale=False, error=None, error_kind=None)
            self._tracks[snapshot.key] = _Track(good.as_stale(None, None), good, _NEVER, 0)
            self._order[snapshot.provider].append(snapshot.key)

    # --- refreshing -------------------------------------------------------------------------------------
    async def refresh_now(self) -> list[QuotaSnapshot]:
        """Query every account now, backoff or not (the "Refresh now" button, `quotagate status`)."""
        return await self._refresh(force=True)

    async def refresh_due(self) -> list[QuotaSnapshot]:
        """Query the accounts whose interval or backoff has run out (what the background loop does)."""
        return await self._refresh(force=False)

    def set_interval(self, seconds: float) -> None:
        """Change the refresh interval (e.g. shorter while the tray menu is open); takes effect at once."""
        self._interval = max(MIN_INTERVAL, seconds)
        self._wake.set()

    def start(self) -> None:
        """Refresh in the background until `stop()`. Needs a running event loop."""
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="quota-engine")

    async def stop(self) -> None:
        """Stop the background loop and close the HTTP client if the engine made it."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        if self._round is not None and not self._round.done():
            self._round.cancel()
            await asyncio.gather(self._round, return_exceptions=True)
        if self._owns_client:
            await self._context.client.aclose()

    async def __aenter__(self) -> "QuotaEngine":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Quota refresh round failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._seconds_until_due()):  # no extra task, unlike wait_for
                    await self._wake.wait()

    def _seconds_until_due(self) -> float:
        now = self._clock()
        moments = [self._due_at(track) for track in self._tracks.values()]
        if self._last_round_at is not None:
            moments.append(self._last_round_at + timedelta(seconds=self._interval))
        if not moments:
            return self._interval
        return max(1.0, (min(moments) - now).total_seconds())

    async def _refresh(self, force: bool) -> list[QuotaSnapshot]:
        """One round at a time: a request during a round joins it, unless it needs more (forced) than the
        running round does; then it runs right after."""
        running = self._round
        if running is not None and not running.done():
            if self._round_forced or not force:
                return await asyncio.shield(running)
            await asyncio.gather(asyncio.shield(running), return_exceptions=True)
            return await self._refresh(force)
        self._round = asyncio.ensure_future(self._run_round(force))
        self._round_forced = force
        return await asyncio.shield(self._round)

    async def _run_round(self, force: bool) -> list[QuotaSnapshot]:
        started = self._clock()
        if self._prepare is not None:
            try:
                await self._prepare()
            except Exception:  # the credential files still work without the stored sign-ins
                log.exception("Preparing the stored sign-ins for a quota round failed")
        stored = self._stored_accounts()
        await asyncio.gather(*(self._refresh_provider(p, stored, started, force) for p in self.providers))
        self._last_round_at = started
        current = self.snapshots()
        self.refresh_finished.emit(current)
        return current

    def _stored_accounts(self) -> list[StoredAccount]:
        if self._account_source is None:
            return []
        try:
            return list(self._account_source())
        except Exception:  # stored accounts are extra; credential files still work without them
            log.exception("Reading the accounts stored in Quotagate failed")
            return []

    async def _refresh_provider(self, provider: QuotaProvider[Any], stored: list[StoredAccount], started: datetime,
                                force: bool) -> None:
        try:
            found = await asyncio.to_thread(provider.discover, self._context.locations, stored)
        except Exception:
            log.exception("Looking for %s accounts failed", provider.id)
            found = Discovery(problems=[QuotaSnapshot.failure(
                provider.id, "discovery", provider.name, ErrorKind.INTERNAL,
                tr("Quotagate could not look for {provider} accounts (internal error; see the log).",
                   provider=provider.name))])
        found.problems += _waiting_for_the_user(provider, stored, found)
        keys = [f"{provider.id}/{a.key}" for a in found.accounts] + [p.key for p in found.problems]
        self._order[provider.id] = list(dict.fromkeys(keys))
        vanished = [k for k in self._tracks if k.startswith(f"{provider.id}/") and k not in keys]
        for key in vanished:
            del self._tracks[key]
        for problem in found.problems:
            self._record(problem, started)
        if vanished:
            self.snapshots_changed.emit(self.snapshots())
        due = [a for a in found.accounts if force or self._is_due(f"{provider.id}/{a.key}", started)]
        await asyncio.gather(*(self._refresh_account(provider, account, started) for account in due))

    async def _refresh_account(self, provider: QuotaProvider[Any], account: QuotaAccount[Any], started: datetime) -> None:
        deadline = self.timeout * REQUESTS_PER_FETCH + 1
        try:
            snapshot = await asyncio.wait_for(provider.snapshot(account, self._context), deadline)
        except TimeoutError:
            snapshot = account.failure(ErrorKind.TIMEOUT, timeout_message(provider.service, deadline), self._clock())
        self._record(snapshot, started)

    def _record(self, snapshot: QuotaSnapshot, started: datetime) -> None:
        previous = self._tracks.get(snapshot.key)
        if snapshot.ok:
            track = _Track(snapshot, snapshot, started, 0)
        else:
            last_good = previous.last_good if previous else None
            shown = last_good.as_stale(snapshot.error, snapshot.error_kind) if last_good else snapshot
            track = _Track(shown, last_good, started, (previous.failures if previous else 0) + 1)
            log.info("Quota refresh of %s failed (%s, attempt %d)", snapshot.key, snapshot.error_kind,
                     track.failures)
        self._tracks[snapshot.key] = track
        if previous is None or not track.shown.same_content(previous.shown):
            self.snapshots_changed.emit(self.snapshots())

    def _is_due(self, key: str, now: datetime) -> bool:
        track = self._tracks.get(key)
        return track is None or now >= self._due_at(track) - _SLACK

    def _due_at(self, track: _Track) -> datetime:
        if track.failures:
            return track.attempted_at + timedelta(seconds=self.backoff.delay(track.failures))
        due = track.attempted_at + timedelta(seconds=self._interval)
        # A window that resets before then has new numbers: fetch them just after the reset, not minutes later.
        resets = [w.resets_at for w in track.last_good.windows
                  if w.resets_at is not None and w.resets_at > track.attempted_at] if track.last_good else []
        return min([due, *(moment + AFTER_RESET for moment in resets)])


def _waiting_for_the_user(provider: QuotaProvider[Any], stored: list[StoredAccount],
                          found: Discovery[Any]) -> list[QuotaSnapshot]:
    """Stored accounts the user must act on (a sign-in to renew), as the problem to show in their place —
    unless another source (a CLI's own file) holds the same account and can still be read."""
    known = {account.key for account in found.accounts}
    return [QuotaSnapshot.failure(provider.id, item.options["key"], item.label, ErrorKind.AUTH,
                                  item.options[NEEDS_SIGN_IN], source="Quotagate")
            for item in stored if item.provider == provider.id and item.options.get(NEEDS_SIGN_IN)
            and item.options.get("key") and item.options["key"] not in known]
