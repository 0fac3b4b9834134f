"""Accounts to query: found in other tools' credential files, in the environment, or stored in Quotagate.

An `Account` carries its secret only in memory (never in `repr`, logs or snapshots). Its `tool` says which
program issued the credential, so that error messages can say which program renews or re-signs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from core.quota.model import QuotaSnapshot, QuotaWindow

C = TypeVar("C")


@dataclass(frozen=True)
class Tool:
    """The program a credential came from, and how the user gets a fresh one from it."""

    name: str
    login: str   # how to sign in again, e.g. "run `codex login`"
    renew: str   # how an expired token gets renewed, e.g. "run `codex` once; it renews the token"


CODEX_CLI = Tool("the Codex CLI", "run `codex login`", "run `codex` once; it renews the token")
OPENCODE = Tool("OpenCode", "run `opencode auth login`", "open OpenCode once; it renews the token")
CLAUDE_CODE = Tool("Claude Code", "run `claude` and use /login", "run `claude` once; it renews the token")
GEMINI_CLI = Tool("the Gemini CLI", "run `gemini` and sign in with Google",
                  "run `gemini` once; it renews the token")
ANTIGRAVITY_PLUGIN = Tool("OpenCode's Antigravity plugin", "run `opencode auth login` and choose Google",
                          "run `opencode auth login` and choose Google")
COPILOT_EDITOR = Tool("the GitHub Copilot editor plugin", "sign in to GitHub Copilot in your editor again",
                      "sign in to GitHub Copilot in your editor again")
QUOTAGATE = Tool("Quotagate", "update the account in Quotagate's settings",
                 "update the account in Quotagate's settings")


def environment_tool(variable: str) -> Tool:
    return Tool(f"${variable}", f"set a valid key in ${variable}", f"set a valid key in ${variable}")


@dataclass(frozen=True)
class Account(Generic[C]):
    """One account of one provider, ready to be queried. `credential` is the provider's own dataclass."""

    provider: str
    key: str          # stable within the provider; see QuotaSnapshot.account_key
    identity: str     # shown to the user: email, masked key, or the tool's name
    source: str       # where it was found, e.g. "~/.codex/auth.json"
    tool: Tool
    credential: C = field(repr=False)

    def snapshot(self, now: datetime, *, plan: str | None = None, windows: Sequence[QuotaWindow] = (),
                 identity: str | None = None) -> QuotaSnapshot:
        """A successful snapshot of this account (`identity` when the answer names the user better)."""
        return QuotaSnapshot(self.provider, self.key, identity or self.identity, plan=plan, windows=tuple(windows),
                             fetched_at=now, source=self.source)

    def failure(self, kind: str, message: str, now: datetime) -> QuotaSnapshot:
        return QuotaSnapshot.failure(self.provider, self.key, self.identity, kind, message, now, self.source)


@dataclass(frozen=True)
class StoredAccount:
    """An account the user stored in Quotagate, handed in by the caller (the store is not read here).

    `secret` is the key or token; `options` carries what some providers need besides it (Copilot's billing
    path: `username` and `plan`; Antigravity: `project`, `email`).
    """

    provider: str
    secret: str = field(repr=False)
    label: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


class AccountSource(Protocol):
    """Supplies the accounts stored in Quotagate; called on every refresh so that edits show up."""

    def __call__(self) -> Sequence[StoredAccount]: ...


@dataclass
class Discovery(Generic[C]):
    """What a provider found: accounts to query, and problems (broken credential files) to show as errors."""

    accounts: list[Account[C]] = field(default_factory=list)
    problems: list[QuotaSnapshot] = field(default_factory=list)

    def add(self, account: Account[C]) -> None:
        """Add `account` unless one with the same key is already there (the first source wins)."""
        if all(existing.key != account.key for existing in self.accounts):
            self.accounts.append(account)
