"""What every quota provider does, and the helpers they share.

A provider has two steps with different costs: `discover` reads credential files (blocking, cheap, run in a
worker thread) and `fetch` asks the service for one account's quota (async, one or a few requests). Parsing
lives in pure functions in each provider module so it can be tested with plain JSON.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from core.i18n import tr
from core.quota.accounts import QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import CredentialFileError, is_expired, read_json_object
from core.quota.errors import QuotaError
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, utc_now
from core.quota.tokens import TokenCache

log = logging.getLogger(__name__)
C = TypeVar("C")


@dataclass
class FetchContext:
    """What a fetch may use besides its account: the shared client and state kept between refreshes."""

    client: httpx.AsyncClient
    tokens: TokenCache = field(default_factory=TokenCache)
    memo: dict[str, Any] = field(default_factory=dict)   # per-account facts learned once (e.g. a project id)
    clock: Callable[[], datetime] = utc_now
    locations: Locations = field(default_factory=Locations)

    def now(self) -> datetime:
        return self.clock()


class QuotaProvider(ABC, Generic[C]):
    id: str        # as used by the CLI and JSON: "openai", "claude", …
    name: str      # shown to users: "ChatGPT / Codex"
    service: str   # named in error messages: "ChatGPT"

    @abstractmethod
    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[C]:
        """Find this provider's accounts. Blocking file reads; must never write."""

    @abstractmethod
    async def fetch(self, account: QuotaAccount[C], ctx: FetchContext) -> QuotaSnapshot:
        """One account's quota. Raises `QuotaError` for anything the user should see."""

    async def snapshot(self, account: QuotaAccount[C], ctx: FetchContext) -> QuotaSnapshot:
        """`fetch`, with every failure turned into an error snapshot (so callers never see an exception)."""
        try:
            return await self.fetch(account, ctx)
        except QuotaError as exc:
            return account.failure(exc.kind, exc.message, ctx.now())
        except Exception:  # a parser bug must not take the other accounts down with it
            log.exception("Quota fetch for %s failed unexpectedly", self.id)
            return account.failure(ErrorKind.INTERNAL, tr("Quotagate could not read the {service} quota (internal "
                                                          "error; see the log).", service=self.service), ctx.now())

    # --- helpers for discover ---------------------------------------------------------------------------
    def read_file(self, found: Discovery[C], locations: Locations, path: Path, tool: Tool) -> dict[str, Any] | None:
        """The JSON object in a credential file; None if missing or broken (then a problem is recorded)."""
        try:
            return read_json_object(path)
        except CredentialFileError as exc:
            self.add_problem(found, locations, path, tool, tr("{file} cannot be used: {reason}. Fix the file or "
                                                              "sign in again: {how}.", file=locations.display(path),
                                                              reason=exc.reason, how=tool.login))
            return None

    def add_problem(self, found: Discovery[C], locations: Locations, path: Path, tool: Tool, message: str) -> None:
        shown = locations.display(path)
        found.problems.append(QuotaSnapshot.failure(self.id, f"file:{shown}", tool.name, ErrorKind.CREDENTIALS,
                                                    message, source=shown))

    def unusable_entry(self, found: Discovery[C], locations: Locations, path: Path, tool: Tool,
                       entry: str, expected: str) -> None:
        """`expected` says, translated, what the entry should have held."""
        self.add_problem(found, locations, path, tool,
                         tr("{file} has an unusable \"{entry}\" entry ({expected}). Sign in again: {how}.",
                            file=locations.display(path), entry=entry, expected=expected, how=tool.login))

    def stored(self, stored: Sequence[StoredAccount]) -> list[StoredAccount]:
        return [account for account in stored if account.provider == self.id and account.secret.strip()]


def expired_error(service: str, tool: Tool, expires_at: datetime) -> QuotaError:
    """A token's own expiry has passed: say when, and which tool renews it."""
    when = expires_at.strftime("%Y-%m-%d %H:%M UTC")
    return QuotaError(ErrorKind.EXPIRED, tr("The {service} sign-in from {tool} expired on {when}; {how}.",
                                            service=service, tool=tool.title, when=when, how=tool.renew))


def check_not_expired(service: str, tool: Tool, expires_at: datetime | None, now: datetime) -> None:
    """Fail before asking the service with a token that has already expired (the answer would be a less
    helpful 401)."""
    if expires_at is not None and is_expired(expires_at, now):
        raise expired_error(service, tool, expires_at)
