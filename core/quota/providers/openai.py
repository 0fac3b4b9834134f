"""ChatGPT / Codex [`openai`]: the `wham/usage` rate-limit windows of a ChatGPT sign-in.

Credentials: `$CODEX_HOME/auth.json` (default `~/.codex/auth.json`), OpenCode's `openai` entry, and tokens
stored in Quotagate. Team and business workspaces only answer for the workspace named in the
`ChatGPT-Account-Id` header, taken from the credential or else from the token's own claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.i18n import tr
from core.quota.accounts import CODEX_CLI, OPENCODE, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import jwt_claims, jwt_expiry, text_field
from core.quota.errors import changed_answer
from core.quota.http import request_json
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, mask_secret
from core.quota.parsing import child, duration_label, epoch_millis, epoch_seconds, number, require_object, slug
from core.quota.providers.base import FetchContext, QuotaProvider, check_not_expired
from core.quota.providers.opencode import opencode_entry

USAGE_URL = "https://chatgpt.com/backend-api/wham/usage"
AUTH_CLAIM = "https://api.openai.com/auth"
PROFILE_CLAIM = "https://api.openai.com/profile"
SERVICE = "ChatGPT"


@dataclass(frozen=True)
class OpenAICredential:
    access_token: str
    account_id: str | None
    expires_at: datetime | None


class OpenAIProvider(QuotaProvider[OpenAICredential]):
    id = "openai"
    name = "ChatGPT / Codex"
    service = SERVICE

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[OpenAICredential]:
        found: Discovery[OpenAICredential] = Discovery()
        codex = self.read_file(found, locations, locations.codex_auth, CODEX_CLI)
        tokens = codex.get("tokens") if codex else None
        if isinstance(tokens, dict) and text_field(tokens, "access_token"):
            found.add(self._account(locations.display(locations.codex_auth), CODEX_CLI,
                                    text_field(tokens, "access_token") or "", text_field(tokens, "account_id"),
                                    text_field(tokens, "id_token"), expires_at=None))
        elif tokens is not None:  # an API-key-only Codex login has no tokens and no subscription quota
            self.unusable_entry(found, locations, locations.codex_auth, CODEX_CLI, "tokens",
                                tr("expected an object with \"{field}\"", field="access_token"))

        entry = opencode_entry(self, found, locations, "openai")
        if entry is not None and entry.get("type", "oauth") == "oauth":
            access = text_field(entry, "access")
            if access:
                found.add(self._account(locations.display(locations.opencode_auth), OPENCODE, access,
                                        text_field(entry, "accountId", "account_id"), None,
                                        expires_at=epoch_millis(entry.get("expires"))))
            else:
                self.unusable_entry(found, locations, locations.opencode_auth, OPENCODE, "openai",
                                    tr("expected \"{field}\"", field="access"))

        for item in self.stored(stored):
            found.add(self._account("Quotagate", QUOTAGATE, item.secret.strip(), item.options.get("account_id"),
                                    None, expires_at=None, label=item.label))
        return found

    def _account(self, source: str, tool: Tool, access_token: str, account_id: str | None, id_token: str | None,
                 expires_at: datetime | None, label: str = "") -> QuotaAccount[OpenAICredential]:
        claims = jwt_claims(access_token)
        account_id = account_id or text_field(claims.get(AUTH_CLAIM), "chatgpt_account_id")
        email = (text_field(jwt_claims(id_token or ""), "email")
                 or text_field(claims.get(PROFILE_CLAIM), "email"))
        identity = label or email or (f"ChatGPT {mask_secret(account_id)}" if account_id else tool.name)
        key = account_id or email or f"{source}"
        credential = OpenAICredential(access_token, account_id, expires_at or jwt_expiry(access_token))
        return QuotaAccount(self.id, key, identity, source, tool, credential)

    async def fetch(self, account: QuotaAccount[OpenAICredential], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        credential = account.credential
        check_not_expired(SERVICE, account.tool, credential.expires_at, now)
        headers = {"Authorization": f"Bearer {credential.access_token}", "Accept": "application/json"}
        if credential.account_id:
            headers["ChatGPT-Account-Id"] = credential.account_id
        body = await request_json(ctx.client, SERVICE, account.tool, "GET", USAGE_URL, headers=headers)
        return parse_usage(body, account, now)


def parse_usage(body: Any, account: QuotaAccount[Any], now: datetime) -> QuotaSnapshot:
    """`wham/usage` → snapshot: main limits, code review, additional per-model limits, credits."""
    data = require_object(body, SERVICE)
    if not any(key in data for key in ("rate_limit", "additional_rate_limits", "plan_type")):
        raise changed_answer(ErrorKind.FORMAT, SERVICE, "rate_limit")
    windows = _limit_windows(child(data, "rate_limit"), "", "", now)
    windows += _limit_windows(child(data, "code_review_rate_limit"), "code-review-", "Code review · ", now)
    extras = data.get("additional_rate_limits")
    for item in extras if isinstance(extras, list) else ():
        name = text_field(item, "limit_name", "metered_feature")
        if name:
            windows += _limit_windows(child(item, "rate_limit"), f"{slug(name)}-", f"{name} · ", now)
    credits = _credits_window(child(data, "credits"))
    if credits is not None:
        windows.append(credits)
    plan = text_field(data, "plan_type")
    return account.snapshot(now, plan=plan.capitalize() if plan else None, windows=windows)


def _limit_windows(limit: dict[str, Any] | None, id_prefix: str, label_prefix: str,
                   now: datetime) -> list[QuotaWindow]:
    windows = []
    for key, fallback in (("primary_window", "Primary"), ("secondary_window", "Secondary")):
        raw = child(limit, key)
        if raw is None:
            continue
        seconds = number(raw.get("limit_window_seconds"))
        length = int(seconds) if seconds else None
        label = duration_label(length) or fallback
        windows.append(QuotaWindow.from_used(
            f"{id_prefix}{key.removesuffix('_window')}", f"{label_prefix}{label}",
            number(raw.get("used_percent")), window_seconds=length, resets_at=_reset_time(raw, now)))
    return windows


def _reset_time(raw: dict[str, Any], now: datetime) -> datetime | None:
    """`reset_at` (epoch seconds) when given — it does not drift with latency — else `reset_after_seconds`."""
    absolute = epoch_seconds(raw.get("reset_at"))
    if absolute is not None:
        return absolute
    after = number(raw.get("reset_after_seconds"))
    return now + timedelta(seconds=after) if after is not None and after >= 0 else None


def _credits_window(credits: dict[str, Any] | None) -> QuotaWindow | None:
    if credits is None:
        return None
    if credits.get("unlimited") is True:
        return QuotaWindow("credits", "Credits", unlimited=True, unit="credits")
    if credits.get("has_credits") is True:
        return QuotaWindow("credits", "Credits", remaining=number(credits.get("balance")), unit="credits")
    return None
