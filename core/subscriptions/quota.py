"""Subscription accounts as the quota glance and quota-aware routing see them: one account, one quota entry.

Each stored sign-in carries `quota_account`, the key its quota snapshot has. An imported copy gets the key the
quota glance already gives the CLI's file, so the copy and the file are one tray entry (the glance keeps the
first it finds of one key) and the gateway's quota gate finds the snapshot of the account it routes to.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.gateway.accounts import Account
from core.quota.accounts import NEEDS_SIGN_IN, StoredAccount
from core.quota.model import secret_fingerprint
from core.subscriptions import bundle
from core.subscriptions.bundle import Tokens
from core.subscriptions.providers import PROVIDERS


def quota_account_for(provider: str, tokens: Tokens, identity: str | None, source: str) -> str:
    """The quota snapshot's account key of a sign-in (as `core.quota.providers` key the same account)."""
    if provider == "claude":
        if source in ("claude-code", "opencode"):  # the keys the Claude glance gives those two files
            return source
        return f"account:{identity.lower()}" if identity else f"stored:{secret_fingerprint(tokens.refresh_token or '')}"
    if provider == "codex":
        return tokens.account_id or identity or source
    if provider == "github":
        return f"oauth:{secret_fingerprint(tokens.refresh_token or '')}"
    if provider == "gemini-cli" and not identity and source != bundle.SIGNED_IN:
        return "gemini-cli"
    return identity or secret_fingerprint(tokens.refresh_token or tokens.access_token or "")


def quota_key(account: Account) -> str | None:
    """The quota gate's key of a stored subscription account (`quota provider/account key`)."""
    provider = PROVIDERS.get(account.provider)
    key = account.options.get(bundle.QUOTA_ACCOUNT)
    return f"{provider.quota_id}/{key}" if provider is not None and isinstance(key, str) and key else None


def stored_subscription_accounts(accounts: Iterable[Account]) -> list[StoredAccount]:
    """Active, usable sign-ins as the quota providers' stored accounts: the credential each provider reads
    (Claude and Codex an access token, Copilot the GitHub token, Google the refresh token and its client) and
    the key it must use."""
    found = []
    for account in accounts:
        provider = PROVIDERS.get(account.provider)
        key = account.options.get(bundle.QUOTA_ACCOUNT)
        if provider is None or not account.active or account.tokens is None or not key:
            continue
        identity = account.options.get(bundle.IDENTITY)
        if account.options.get(bundle.STATE) == bundle.SIGN_IN_AGAIN:  # shown as what to do, not queried
            message = bundle.sign_in_message(account.name, account.options.get(bundle.STATE_REASON))
            found.append(StoredAccount(provider.quota_id, "", identity or account.name,
                                       {"key": str(key), NEEDS_SIGN_IN: message}))
            continue
        tokens = Tokens.from_dict(account.tokens)
        secret = tokens.refresh_token if provider.google or provider.id == "github" else tokens.access_token
        if not secret:
            continue
        options = {"key": str(key), "email": identity, "account_id": tokens.account_id, "project": tokens.project_id,
                   "plan": account.options.get(bundle.PLAN), "client_id": tokens.client_id,
                   "client_secret": tokens.client_secret}
        found.append(StoredAccount(provider.quota_id, secret, identity or account.name,
                                   {k: v for k, v in options.items() if isinstance(v, str) and v}))
    return found
