"""Subscription sign-ins in Quotagate's store: saved, renewed and marked, as `ProviderAccount` rows.

All methods block on SQLite: callers run them off the event loop. A new or replaced sign-in is a configuration
change (the caller wraps `save` in `Configuration.change`); a renewal's write-back and a "sign in again" mark
are not — they change no routing, only the sealed tokens and the account's state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from core.gateway.accounts import Account, AccountStore
from core.store import Store
from core.store.models import ProviderAccount
from core.subscriptions import bundle
from core.subscriptions.bundle import Tokens
from core.subscriptions.providers import PROVIDERS


@dataclass(frozen=True)
class SignIn:
    """A sign-in to store: tokens and what is known about whose they are."""

    provider: str
    tokens: Tokens
    identity: str | None = None
    plan: str | None = None
    source: str = bundle.SIGNED_IN
    quota_account: str | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # more public facts for the options


class SubscriptionStore:
    def __init__(self, accounts: AccountStore, store: Callable[[], Store | None]) -> None:
        self.accounts = accounts
        self._store = store

    def get(self, account_id: int) -> Account | None:
        account = self.accounts.get_account(account_id)
        return account if account is not None and account.kind == "subscription" else None

    def subscriptions(self) -> list[Account]:
        return [a for a in self.accounts.accounts() if a.kind == "subscription"]

    def save(self, sign_in: SignIn) -> Account:
        """Store a sign-in: a new account, or the existing account of the same person (same provider and
        identity) with its tokens replaced and its "sign in again" mark cleared."""
        existing = self._same_person(sign_in)
        facts = {bundle.IDENTITY: sign_in.identity, bundle.PLAN: sign_in.plan, bundle.SOURCE: sign_in.source,
                 bundle.QUOTA_ACCOUNT: sign_in.quota_account, **sign_in.extra}
        now = time.time()
        secret = self.accounts.box.encrypt(sign_in.tokens.to_secret())
        if existing is None:
            provider = PROVIDERS[sign_in.provider]
            name = sign_in.name or (f"{provider.name} · {sign_in.identity}" if sign_in.identity else provider.name)
            row = ProviderAccount.create(provider=sign_in.provider, name=name[:200], secret=secret,
                                         options=json.dumps(_without_none(facts)), created_at=now, updated_at=now)
            return self._reread(row.id)
        row = ProviderAccount.get_by_id(existing.id)
        options = _stored_options(row)
        options.update(facts)
        options.pop(bundle.STATE, None)
        options.pop(bundle.STATE_REASON, None)
        row.secret, row.options, row.updated_at = secret, json.dumps(_without_none(options)), now
        row.save()
        return self._reread(row.id)

    def write_tokens(self, account_id: int, tokens: Tokens, facts: dict[str, Any] | None = None) -> None:
        """A renewal's result, written back (in one short transaction); the account may have been deleted."""
        with self._db().atomic("IMMEDIATE"):
            row = ProviderAccount.get_or_none(ProviderAccount.id == account_id)
            if row is None:
                return
            row.secret = self.accounts.box.encrypt(tokens.to_secret())
            if facts:
                row.options = json.dumps(_without_none({**_stored_options(row), **facts}))
            row.updated_at = time.time()
            row.save()

    def mark_sign_in_again(self, account_id: int, reason: str) -> None:
        """Renewal was refused for good: remembered, shown, and the account skipped until the user signs in."""
        self._set_state(account_id, {bundle.STATE: bundle.SIGN_IN_AGAIN, bundle.STATE_REASON: reason})

    def _set_state(self, account_id: int, facts: dict[str, Any]) -> None:
        with self._db().atomic("IMMEDIATE"):
            row = ProviderAccount.get_or_none(ProviderAccount.id == account_id)
            if row is not None:
                row.options = json.dumps(_without_none({**_stored_options(row), **facts}))
                row.save()

    def _same_person(self, sign_in: SignIn) -> Account | None:
        """The stored account of the same person: the same identity, or — when the sign-in names nobody (a
        CLI file without an email) — the same quota account (the same file's session, or the same token)."""
        for account in self.subscriptions():
            if account.provider != sign_in.provider:
                continue
            if sign_in.identity:
                if _folded(account.options.get(bundle.IDENTITY)) == _folded(sign_in.identity):
                    return account
            elif sign_in.quota_account and account.options.get(bundle.QUOTA_ACCOUNT) == sign_in.quota_account:
                return account
        return None

    def _reread(self, account_id: int) -> Account:
        account = self.accounts.get_account(account_id)
        assert account is not None
        return account

    def _db(self) -> Any:
        store = self._store()
        if store is None:
            raise RuntimeError("the store is closed")
        return store.db


def _stored_options(row: ProviderAccount) -> dict[str, Any]:
    """The row's options as stored (a sealed proxy stays sealed)."""
    try:
        value = json.loads(row.options or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _folded(text: Any) -> str | None:
    return text.strip().lower() if isinstance(text, str) and text.strip() else None


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
