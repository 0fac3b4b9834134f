"""`TokenManager`: the gateway's `CredentialSource` for subscription accounts.

It hands out an access token valid for a few more minutes, renewing it first when it is about to expire or
when an upstream said 401 to it. Renewals of one account are serialised by a per-account lock: of two requests
that saw the same stale token, the first renews and the second gets the first one's token. Renewed tokens are
written back to Quotagate's store only (never to a CLI's file), off the event loop.

A refusal for good marks the account "sign in again" (stored, shown, skipped by routing) and raises
`SignInRequired`; a passing failure raises `RenewalUnavailable` and keeps everything (a token that is still valid
is handed out meanwhile).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from core.events import Event
from core.gateway.accounts import Account
from core.i18n import tr
from core.net import create_client
from core.quota.locations import Locations
from core.subscriptions import bundle, endpoints
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import Credential, RenewalUnavailable, SignInRequired
from core.subscriptions.endpoints import RenewalRefused
from core.subscriptions.providers import PROVIDERS
from core.subscriptions.store import SubscriptionStore

log = logging.getLogger(__name__)
T = TypeVar("T")

RENEW_MARGIN_S = 300.0  # renew this long before the token's expiry


class TokenManager:
    def __init__(self, subscriptions: SubscriptionStore, *, client: httpx.AsyncClient | None = None,
                 locations: Locations | None = None, clock: Callable[[], float] = time.time,
                 margin: float = RENEW_MARGIN_S) -> None:
        self.subscriptions = subscriptions
        self._client = client or create_client()
        self._owns_client = client is None
        self._locations = locations or Locations()
        self._clock = clock
        self._margin = margin
        self._accounts: dict[int, Account] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        # (account, reason): an account was just marked "sign in again" (resilience shows it, windows refresh).
        self.sign_in_required: Event[tuple[Account, str]] = Event()

    # -- CredentialSource -------------------------------------------------------------------------------
    async def current(self, account_id: int) -> Credential:
        async with self._lock(account_id):
            account = await self._account(account_id)
            tokens = Tokens.from_dict(account.tokens)
            if self._fresh(tokens):
                return await self._credential(account, tokens)
            return await self._renew(account, tokens, forced=False)

    async def renew_after_unauthorized(self, account_id: int, rejected_token: str) -> Credential:
        async with self._lock(account_id):
            account = await self._account(account_id)
            tokens = Tokens.from_dict(account.tokens)
            if tokens.access_token and tokens.access_token != rejected_token and self._fresh(tokens):
                return await self._credential(account, tokens)  # another request renewed it meanwhile
            return await self._renew(account, tokens, forced=True)

    # -- managing ---------------------------------------------------------------------------------------
    def forget(self, account_id: int | None = None) -> None:
        """Read the account(s) from the store again next time (after a sign-in replaced the tokens)."""
        if account_id is None:
            self._accounts.clear()
        else:
            self._accounts.pop(account_id, None)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # -- inside -----------------------------------------------------------------------------------------
    def _lock(self, account_id: int) -> asyncio.Lock:
        return self._locks.setdefault(account_id, asyncio.Lock())

    def _fresh(self, tokens: Tokens) -> bool:
        if not tokens.access_token:
            return False
        return tokens.expires_at is None or tokens.expires_at - self._margin > self._clock()

    async def _account(self, account_id: int) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = await _off_loop(self.subscriptions.get, account_id)
            if account is None:
                raise SignInRequired(account_id, tr("Subscription account {id} does not exist (any more).",
                                                    id=account_id))
            self._accounts[account_id] = account
        if account.options.get(bundle.STATE) == bundle.SIGN_IN_AGAIN:
            reason = account.options.get(bundle.STATE_REASON)
            raise SignInRequired(account_id, _sign_in_message(account, reason), reason)
        if account.needs_key or account.tokens is None:
            raise SignInRequired(account_id, _sign_in_message(account, tr(
                "its tokens were sealed on another machine and cannot be read here")))
        return account

    async def _renew(self, account: Account, tokens: Tokens, forced: bool) -> Credential:
        provider = PROVIDERS[account.provider]
        try:
            renewed = await endpoints.renew(self._client, provider, tokens, self._locations)
        except RenewalRefused as exc:
            await self._mark(account, str(exc))
            raise SignInRequired(account.id, _sign_in_message(account, str(exc)), str(exc)) from None
        except RenewalUnavailable as exc:
            still_valid = tokens.access_token and (tokens.expires_at is None or tokens.expires_at > self._clock())
            if still_valid and not forced:
                log.info("Renewing subscription account %d failed for now (%s); its token is still valid",
                         account.id, exc)
                return await self._credential(account, tokens)
            raise
        log.info("Renewed the tokens of subscription account %d (%s)", account.id, account.provider)
        await self._save(account, renewed)
        return await self._credential(self._accounts[account.id], renewed)

    async def _credential(self, account: Account, tokens: Tokens) -> Credential:
        provider = PROVIDERS[account.provider]
        extra: dict[str, Any] = {}
        if account.options.get(bundle.PLAN):
            extra["plan"] = account.options[bundle.PLAN]
        if provider.id == "codex":
            with_id, _, _ = endpoints.codex_facts(tokens)
            if with_id.account_id:
                extra["chatgpt_account_id"] = with_id.account_id
        elif provider.google:
            if tokens.project_id is None:
                project = await endpoints.cloud_code_project(self._client, provider, tokens.access_token or "",
                                                             self._locations)
                if project:  # learned once, kept with the sign-in
                    tokens = tokens.merged(Tokens(project_id=project))
                    await self._save(account, tokens)
            if tokens.project_id:
                extra["project_id"] = tokens.project_id
        elif provider.id == "github" and tokens.api_base:
            extra["api_base"] = tokens.api_base
        return Credential(account.id, tokens.access_token or "", tokens.expires_at,
                          account.options.get(bundle.IDENTITY), extra)

    async def _save(self, account: Account, tokens: Tokens) -> None:
        await _off_loop(self.subscriptions.write_tokens, account.id, tokens)
        self._accounts[account.id] = _with(account, tokens=tokens.to_dict())

    async def _mark(self, account: Account, reason: str) -> None:
        log.warning("Subscription account %d (%s) must be signed in again: %s", account.id, account.provider,
                    reason)
        await _off_loop(self.subscriptions.mark_sign_in_again, account.id, reason)
        marked = _with(account, options={**account.options, bundle.STATE: bundle.SIGN_IN_AGAIN,
                                         bundle.STATE_REASON: reason})
        self._accounts[account.id] = marked
        self.sign_in_required.emit((marked, reason))


def _sign_in_message(account: Account, reason: Any) -> str:
    return bundle.sign_in_message(account.name, reason)


def _with(account: Account, **changes: Any) -> Account:
    return replace(account, **changes)


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
