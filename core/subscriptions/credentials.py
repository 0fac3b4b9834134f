"""The contract between the subscription token store and the gateway's executors.

An executor (core/gateway/executors/) asks a `CredentialSource` for a `Credential` before each attempt and,
when the upstream answers 401, asks it to renew once and retries once. Renewals of one account are serialised
by the source: two requests that both saw the same stale token cause one renewal, and the second gets the
token the first obtained. A source never blocks the event loop on disk or network without awaiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

SUBSCRIPTION_PROVIDERS = ("claude", "codex", "github", "antigravity", "gemini-cli")


class SignInRequired(Exception):
    """The account cannot be used until the user signs in again (renewal refused, token revoked, no refresh
    token). The message says what happened in words; combos skip the account."""

    def __init__(self, account_id: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.account_id = account_id
        self.reason = reason  # the refusal alone ("Claude refused the sign-in (invalid_grant)."), when known


class RenewalUnavailable(httpx.TransportError):
    """The token has expired and could not be renewed right now (the token endpoint is unreachable, answers
    5xx or 429, or the tool that holds Google's OAuth client is missing). Nothing is discarded and the account
    is not marked. It is a transport error so that the relay treats it like an unreachable upstream: a cooldown
    for this attempt, and the next target."""


@dataclass(frozen=True)
class Credential:
    """What an executor needs to call one subscription upstream right now. `access_token` is the bearer the
    upstream expects (for Copilot: the short-lived Copilot token, already exchanged from the GitHub token)."""

    account_id: int                 # Quotagate's stored account id
    access_token: str
    expires_at: float | None = None  # epoch seconds; None = unknown
    identity: str | None = None      # email / login, for the UI and logs (never the token)
    # Provider specifics: "chatgpt_account_id" (Codex), "project_id" (Cloud Code), "api_base" (Copilot's
    # endpoint from the token exchange), "plan".
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:  # never show the token
        return f"Credential(account_id={self.account_id}, identity={self.identity!r}, expires_at={self.expires_at})"


class CredentialSource(Protocol):
    async def current(self, account_id: int) -> Credential:
        """A token valid for a few more minutes, renewed first when it is about to expire.
        Raises SignInRequired when the account cannot be used."""

    async def renew_after_unauthorized(self, account_id: int, rejected_token: str) -> Credential:
        """The upstream said 401 to `rejected_token`: renew once (unless another request already replaced that
        token, then return the new one). Raises SignInRequired when renewal fails for good."""
