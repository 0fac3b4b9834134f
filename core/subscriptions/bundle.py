"""A subscription sign-in as it is stored: the token bundle (sealed in the account's `secret`) and the public
facts about it (in the account's `options`), so that one `ProviderAccount` row holds an API key or a sign-in.

The bundle never leaves the process except sealed; the facts are what the windows and `/api/providers` show.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from typing import Any

from core.i18n import tr
from core.secrets import mask

# Public facts kept in the account's options.
IDENTITY = "identity"          # email or @login
PLAN = "plan"
SOURCE = "source"              # "signed-in" or the CLI file it was imported from (as shown, e.g. ~/.codex/auth.json)
STATE = "state"                # absent/"active", or SIGN_IN_AGAIN
STATE_REASON = "state_reason"  # why it must be signed in again, in words
QUOTA_ACCOUNT = "quota_account"  # the quota glance's key for this account (see core.subscriptions.quota)
SIGN_IN_AGAIN = "sign-in-again"
SIGNED_IN = "signed-in"


@dataclass(frozen=True)
class Tokens:
    """What renews and authorises one sign-in. For GitHub Copilot `refresh_token` is the long-lived GitHub
    OAuth token and `access_token` the short-lived Copilot token exchanged from it. A Google bundle keeps the
    OAuth client its refresh token was issued to (read from the user's installed tool at sign-in), because
    Google renews a token only for that client."""

    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float | None = None   # epoch seconds of access_token; None = unknown
    id_token: str | None = None
    account_id: str | None = None     # ChatGPT account id (Codex)
    project_id: str | None = None     # Cloud Code project (Antigravity, Gemini CLI)
    api_base: str | None = None       # Copilot's API endpoint from its token exchange
    client_id: str | None = None
    client_secret: str | None = None

    def __repr__(self) -> str:  # never show a token
        return f"Tokens(expires_at={self.expires_at}, refreshable={bool(self.refresh_token)})"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Tokens":
        data = data or {}
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names and v not in ("", None)}
        if "expires_at" in values:
            try:
                values["expires_at"] = float(values["expires_at"])
            except (TypeError, ValueError):
                values.pop("expires_at")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def to_secret(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def merged(self, newer: "Tokens") -> "Tokens":
        """`newer` (a renewal's answer) over this bundle: what the answer leaves out is kept — Google does not
        send the refresh token again, and a renewal never loses the project or the client."""
        return replace(self, **{k: v for k, v in asdict(newer).items() if v is not None})


def bundle_from_secret(secret: str) -> dict[str, Any]:
    """The stored bundle as a dict. A bare token (pasted by hand in an earlier version) is an access token."""
    try:
        data = json.loads(secret)
    except ValueError:
        return {"access_token": secret}
    return data if isinstance(data, dict) else {"access_token": secret}


def public_subscription(options: dict[str, Any], tokens: dict[str, Any] | None) -> dict[str, Any]:
    """The fields `Account.public()` adds for a sign-in: identity, plan, expiry, state, where it came from."""
    bundle = Tokens.from_dict(tokens)
    return {
        "identity": shown_identity(options.get(IDENTITY)),
        "plan": options.get(PLAN),
        "expiresAt": iso_time(bundle.expires_at),
        "renewable": bool(bundle.refresh_token),
        "state": options.get(STATE) or "active",
        "stateReason": options.get(STATE_REASON),
        "source": options.get(SOURCE) or SIGNED_IN,
    }


def sign_in_message(name: str, reason: Any) -> str:
    """What the tray, the windows and the gateway say about an account whose sign-in must be renewed."""
    return tr("Sign in to “{name}” again in Quotagate's Providers window: {reason}", name=name,
              reason=reason or tr("its sign-in was refused"))


def shown_identity(identity: Any) -> str | None:
    """An email or @login is what the user recognises the account by; anything else (an account id) is masked."""
    if not isinstance(identity, str) or not identity:
        return None
    return identity if "@" in identity else mask(identity)


def iso_time(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
