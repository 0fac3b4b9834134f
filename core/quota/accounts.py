"""Accounts to query: found in other tools' credential files, in the environment, or stored in Quotagate.

A `QuotaAccount` carries its secret only in memory (never in `repr`, logs or snapshots). Its `tool` says which
program issued the credential, so that error messages can say which program renews or re-signs it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from core.i18n import tr, translatable
from core.quota.model import QuotaSnapshot, QuotaWindow

C = TypeVar("C")


@dataclass(frozen=True)
class Tool:
    """The program a credential came from, and how the user gets a fresh one from it. The texts are English
    templates (`{variable}` is the environment variable of keys read from the environment); `title`, `login`
    and `renew` give them in the language in use."""

    name: str         # also an identity when nothing better is known, so kept as it is
    login_hint: str   # how to sign in again, e.g. "run `codex login`"
    renew_hint: str   # how an expired token gets renewed, e.g. "run `codex` once; it renews the token"
    title_text: str = ""
    variable: str = ""

    @property
    def title(self) -> str:
        """The program's name in a sentence: "the Codex CLI", "Codex CLI" in Chinese."""
        return tr(self.title_text or self.name, variable=self.variable)

    @property
    def login(self) -> str:
        return tr(self.login_hint, variable=self.variable)

    @property
    def renew(self) -> str:
        return tr(self.renew_hint, variable=self.variable)


CODEX_CLI = Tool("Codex CLI", translatable("run `codex login`"),
                 translatable("run `codex` once; it renews the token"), translatable("the Codex CLI"))
OPENCODE = Tool("OpenCode", translatable("run `opencode auth login`"),
                translatable("open OpenCode once; it renews the token"))
CLAUDE_CODE = Tool("Claude Code", translatable("run `claude` and use /login"),
                   translatable("run `claude` once; it renews the token"))
GEMINI_CLI = Tool("Gemini CLI", translatable("run `gemini` and sign in with Google"),
                  translatable("run `gemini` once; it renews the token"), translatable("the Gemini CLI"))
ANTIGRAVITY_PLUGIN = Tool("Antigravity plugin", translatable("run `opencode auth login` and choose Google"),
                          translatable("run `opencode auth login` and choose Google"),
                          translatable("OpenCode's Antigravity plugin"))
COPILOT_EDITOR = Tool("GitHub Copilot editor plugin", translatable("sign in to GitHub Copilot in your editor again"),
                      translatable("sign in to GitHub Copilot in your editor again"),
                      translatable("the GitHub Copilot editor plugin"))
QUOTAGATE = Tool("Quotagate", translatable("update the account in Quotagate's settings"),
                 translatable("update the account in Quotagate's settings"))


def environment_tool(variable: str) -> Tool:
    return Tool(f"${variable}", translatable("set a valid key in ${variable}"),
                translatable("set a valid key in ${variable}"), variable=variable)


@dataclass(frozen=True)
class QuotaAccount(Generic[C]):
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


# A stored account whose `options` carry this is not queried: its message (what the user must do, e.g. sign in
# again) is shown in its place, keyed by its `key` option.
NEEDS_SIGN_IN = "needs_sign_in"


class AccountSource(Protocol):
    """Supplies the accounts stored in Quotagate; called on every refresh so that edits show up."""

    def __call__(self) -> Sequence[StoredAccount]: ...


@dataclass
class Discovery(Generic[C]):
    """What a provider found: accounts to query, and problems (broken credential files) to show as errors."""

    accounts: list[QuotaAccount[C]] = field(default_factory=list)
    problems: list[QuotaSnapshot] = field(default_factory=list)

    def add(self, account: QuotaAccount[C]) -> None:
        """Add `account` unless one with the same key is already there (the first source wins)."""
        if all(existing.key != account.key for existing in self.accounts):
            self.accounts.append(account)


# API providers whose *keys* have a quota endpoint (the Zhipu and Z.ai coding plans). A key stored for any
# other API provider of the gateway's catalogue (an OpenAI or Gemini API key) pays per request and has no
# subscription quota: polling it as a ChatGPT or Gemini CLI sign-in only ever fails.
KEYS_WITH_QUOTA = frozenset({"zhipu", "zai"})


def has_quota(provider: str, gateway_key_providers: Collection[str]) -> bool:
    """Whether an account stored under `provider` belongs in the quota glance: subscription tokens (Claude,
    Copilot, Antigravity, …) do, and of the API keys the gateway routes with (`gateway_key_providers`,
    the catalogue's ids) only those in `KEYS_WITH_QUOTA`."""
    return provider in KEYS_WITH_QUOTA or provider not in gateway_key_providers
