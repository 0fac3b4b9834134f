"""The subscription accounts service the management API and the windows share: sign-in flows, imports from the
CLIs' files, and the token manager the gateway's executors ask for credentials."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from core.configuration import Configuration
from core.gateway.accounts import Account, AccountStore
from core.i18n import tr, translatable
from core.net import create_client
from core.quota.locations import Locations
from core.store import Store
from core.subscriptions import bundle
from core.subscriptions.endpoints import github_login
from core.subscriptions.importers import ImportProblem, ImportSource, import_sign_ins, sources_for
from core.subscriptions.providers import PROVIDERS
from core.subscriptions.signin import SignInError, SignInFlows
from core.subscriptions.store import SignIn, SubscriptionStore
from core.subscriptions.tokens import TokenManager

# The plain warning every import offer carries (the windows and the API show it with the import action).
SHARED_SESSION_WARNING = translatable(
    "An imported sign-in shares one session with the tool it came from. When the provider rotates refresh tokens, "
    "whichever renews first (Quotagate or the tool) signs the other out. Signing in separately here is recommended.")


class Subscriptions:
    def __init__(self, accounts: AccountStore, store: Callable[[], Store | None],
                 configuration: Configuration | None = None, *, client: httpx.AsyncClient | None = None,
                 locations: Locations | None = None, callback_ports: Mapping[str, int] | None = None) -> None:
        self._client = client or create_client()
        self._owns_client = client is None
        self._locations = locations or Locations()
        self._configuration = configuration
        self.store = SubscriptionStore(accounts, store)
        self.tokens = TokenManager(self.store, client=self._client, locations=self._locations)
        self.flows = SignInFlows(self.save, self._client, self._locations, callback_ports)
        self.marked: dict[tuple[str, int], tuple[str, str]] = {}  # signed-in accounts to sign in again
        self.tokens.sign_in_required.connect(self.note_mark)

    async def save(self, sign_in: SignIn) -> Account:
        """Store one sign-in (a configuration change: snapshot, one transaction, reload)."""
        return (await self._save_all([sign_in]))[0]

    async def import_from(self, provider: str, source: str | None = None) -> list[Account]:
        """Copy the sign-ins `provider`'s CLI files hold into the store (the files are only read)."""
        try:
            sign_ins = await _off_loop(import_sign_ins, provider, source, self._locations)
        except ImportProblem as exc:
            raise SignInError(str(exc)) from None
        return await self._save_all([await self._named(s) for s in sign_ins])

    async def _named(self, sign_in: SignIn) -> SignIn:
        """A GitHub token names nobody in the CLI's file: ask GitHub whose it is (best effort)."""
        if sign_in.provider != "github" or sign_in.identity or not sign_in.tokens.refresh_token:
            return sign_in
        login = await github_login(self._client, PROVIDERS["github"], sign_in.tokens.refresh_token)
        return replace(sign_in, identity=login) if login else sign_in

    def import_sources(self, provider: str) -> list[ImportSource]:
        return sources_for(provider)

    async def import_choices(self, provider: str) -> list[dict[str, Any]]:
        """Where `provider`'s CLI files are (as shown: `~/…`) and whether each exists now."""
        def choices() -> list[dict[str, Any]]:
            return [{"source": s.id, "title": s.title, "path": self._locations.display(s.path(self._locations)),
                     "present": s.path(self._locations).is_file()} for s in sources_for(provider)]
        return await _off_loop(choices)

    def use_accounts(self, accounts: Iterable[Account]) -> None:
        """After every reload: forget cached tokens (a sign-in may have replaced them) and know the marks."""
        self.tokens.forget()
        self.marked = {(a.provider, a.id): (str(a.options.get(bundle.STATE_REASON) or ""), a.name)
                       for a in accounts if a.kind == "subscription"
                       and a.options.get(bundle.STATE) == bundle.SIGN_IN_AGAIN}

    def standing_marks(self) -> dict[tuple[str, int | None], tuple[str, str]]:
        """Accounts to skip until the user signs in again: (provider, id) -> (reason, name)."""
        return {key: (tr("must be signed in again ({reason})", reason=reason), name)
                for key, (reason, name) in self.marked.items()}

    def note_mark(self, value: tuple[Account, str]) -> None:
        """The token manager just marked an account (a listener of its `sign_in_required`)."""
        account, reason = value
        self.marked = {**self.marked, (account.provider, account.id): (reason, account.name)}

    async def aclose(self) -> None:
        await self.flows.aclose()
        if self._owns_client:
            await self._client.aclose()

    async def _save_all(self, sign_ins: list[SignIn]) -> list[Account]:
        def write() -> list[Account]:
            return [self.store.save(s) for s in sign_ins]
        if self._configuration is not None:
            saved = await self._configuration.change(translatable("adding a subscription sign-in"), write)
        else:
            saved = await _off_loop(write)
        for account in saved:
            self.tokens.forget(account.id)
            self.marked.pop((account.provider, account.id), None)
        return saved


async def _off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args))
