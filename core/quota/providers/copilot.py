"""GitHub Copilot [`copilot`]: premium requests, chat and completions quotas.

Two paths, both supported:
- the internal user API (`/copilot_internal/user`) with a GitHub OAuth token from OpenCode's
  `github-copilot` entry, the Copilot editor plugins' `~/.config/github-copilot/{apps,hosts}.json`, or
  Quotagate. Tokens some apps issue are only accepted after exchanging them for a Copilot session token
  (`/copilot_internal/v2/token`); that exchange is the fallback, and its token is cached until it expires.
- the public billing API with a fine-grained token, a user name and a plan (from
  `~/.config/opencode/copilot-quota-token.json` or Quotagate), counting premium requests against the plan's
  monthly allowance.

Unlimited quotas are shown as unlimited, and placeholder quotas (no allowance at all) are left out: neither
may be drawn as 0 % left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from core.i18n import tr, translatable
from core import __version__
from core.quota.accounts import COPILOT_EDITOR, OPENCODE, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import text_field
from core.quota.errors import QuotaError, changed_answer
from core.quota.http import check_status, decode_json, request_json, send
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, secret_fingerprint
from core.quota.parsing import (
    child,
    epoch_seconds,
    iso_time,
    month_length_before,
    number,
    require_object,
    start_of_next_month,
)
from core.quota.providers.base import FetchContext, QuotaProvider
from core.quota.providers.opencode import opencode_entry
from core.quota.tokens import TokenCache

API = "https://api.github.com"
USER_URL = f"{API}/copilot_internal/user"
TOKEN_URL = f"{API}/copilot_internal/v2/token"
BILLING_CONFIG = "copilot-quota-token.json"
SERVICE = "GitHub Copilot"
# Premium requests included per month, by plan.
PLAN_ALLOWANCE = {"free": 50, "pro": 300, "pro+": 1500, "business": 300, "enterprise": 1000}
_QUOTAS = (("premium_interactions", "premium", "Premium requests"), ("chat", "chat", "Chat"),
           ("completions", "completions", "Completions"))
BILLING_TOOL = Tool("Copilot billing token",
                    translatable("create a new fine-grained token with the \"Plan\" read permission and put it in "
                                 "~/.config/opencode/{variable}"),
                    translatable("create a new fine-grained token and put it in ~/.config/opencode/{variable}"),
                    translatable("the token in ~/.config/opencode/{variable}"), variable=BILLING_CONFIG)


@dataclass(frozen=True)
class CopilotOAuth:
    oauth_token: str


@dataclass(frozen=True)
class CopilotBilling:
    token: str
    username: str
    plan: str


CopilotCredential = CopilotOAuth | CopilotBilling


class CopilotProvider(QuotaProvider[CopilotCredential]):
    id = "copilot"
    name = "GitHub Copilot"
    service = SERVICE

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[CopilotCredential]:
        found: Discovery[CopilotCredential] = Discovery()
        self._discover_billing(found, locations)
        entry = opencode_entry(self, found, locations, "github-copilot")
        token = text_field(entry, "refresh", "access")
        if token:
            found.add(self._oauth_account(token, SERVICE, locations.display(locations.opencode_auth), OPENCODE))
        for name in ("apps.json", "hosts.json"):
            path = locations.copilot_config / name
            for value in (self.read_file(found, locations, path, COPILOT_EDITOR) or {}).values():
                token = text_field(value, "oauth_token")
                if token:
                    user = text_field(value, "user")
                    found.add(self._oauth_account(token, f"@{user}" if user else SERVICE,
                                                  locations.display(path), COPILOT_EDITOR))
        for item in self.stored(stored):
            username, plan = item.options.get("username"), (item.options.get("plan") or "").lower()
            if username and plan in PLAN_ALLOWANCE:
                found.add(QuotaAccount(self.id, f"billing:{username.lower()}", f"@{username}", "Quotagate", QUOTAGATE,
                                  CopilotBilling(item.secret.strip(), username, plan)))
            else:
                found.add(self._oauth_account(item.secret.strip(), item.label or SERVICE, "Quotagate", QUOTAGATE))
        return found

    def _discover_billing(self, found: Discovery[CopilotCredential], locations: Locations) -> None:
        path = locations.opencode_config / BILLING_CONFIG
        config = self.read_file(found, locations, path, BILLING_TOOL)
        if config is None:
            return
        token, username = text_field(config, "token"), text_field(config, "username")
        plan = (text_field(config, "tier", "plan") or "").lower()
        if not token or not username:
            self.unusable_entry(found, locations, path, BILLING_TOOL, "token" if not token else "username",
                                tr("\"{a}\", \"{b}\" and \"{c}\" are all needed", a="token", b="username", c="tier"))
        elif plan not in PLAN_ALLOWANCE:
            self.add_problem(found, locations, path, BILLING_TOOL,
                             tr("{file}: \"tier\" must be one of {choices} (it is {value}).",
                                file=locations.display(path), choices=", ".join(PLAN_ALLOWANCE),
                                value=plan or tr("missing")))
        else:
            found.add(QuotaAccount(self.id, f"billing:{username.lower()}", f"@{username}", locations.display(path),
                              BILLING_TOOL, CopilotBilling(token, username, plan)))

    def _oauth_account(self, token: str, identity: str, source: str, tool: Tool) -> QuotaAccount[CopilotCredential]:
        return QuotaAccount(self.id, f"oauth:{secret_fingerprint(token)}", identity, source, tool, CopilotOAuth(token))

    async def fetch(self, account: QuotaAccount[CopilotCredential], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        credential = account.credential
        if isinstance(credential, CopilotBilling):
            url = f"{API}/users/{quote(credential.username, safe='')}/settings/billing/premium_request/usage"
            body = await request_json(ctx.client, SERVICE, account.tool, "GET", url, headers={
                "Accept": "application/vnd.github+json", "Authorization": f"Bearer {credential.token}",
                "X-GitHub-Api-Version": "2022-11-28"})
            return parse_billing_usage(body, account, now, credential.plan)
        return parse_copilot_user(await self._user(ctx, account, credential), account, now)

    async def _user(self, ctx: FetchContext, account: QuotaAccount[Any], credential: CopilotOAuth) -> Any:
        """The user record: directly with the OAuth token, else through the session-token exchange (and
        straight through the exchange next time, once it is known to be needed)."""
        exchange_key = f"{account.provider}/{account.key}/exchange"
        if not ctx.memo.get(exchange_key):
            response = await send(ctx.client, SERVICE, "GET", USER_URL,
                                  headers=editor_headers(f"token {credential.oauth_token}"))
            if response.status_code not in (401, 403, 404):
                check_status(response, SERVICE, account.tool)
                return decode_json(response, SERVICE)
        session = await self._session_token(ctx, account, credential)
        response = await send(ctx.client, SERVICE, "GET", USER_URL, headers=editor_headers(f"Bearer {session}"))
        if response.status_code in (401, 403):
            ctx.tokens.drop(TokenCache.key("copilot", credential.oauth_token))
        check_status(response, SERVICE, account.tool)
        ctx.memo[exchange_key] = True
        return decode_json(response, SERVICE)

    async def _session_token(self, ctx: FetchContext, account: QuotaAccount[Any], credential: CopilotOAuth) -> str:
        async def exchange() -> tuple[str, datetime | None]:
            response = await send(ctx.client, SERVICE, "GET", TOKEN_URL,
                                  headers=editor_headers(f"token {credential.oauth_token}"))
            if response.status_code == 404:
                raise QuotaError(ErrorKind.API, tr("{service}: this GitHub account has no Copilot subscription (or "
                                                   "the token lacks access to it). Sign in again: {how}.",
                                                   service=SERVICE, how=account.tool.login), 404)
            check_status(response, SERVICE, account.tool)
            body = require_object(decode_json(response, SERVICE), SERVICE)
            token = text_field(body, "token")
            if not token:
                raise changed_answer(ErrorKind.FORMAT, SERVICE, "token")
            return token, epoch_seconds(body.get("expires_at"))

        return await ctx.tokens.get_or_fetch(TokenCache.key("copilot", credential.oauth_token), ctx.now(), exchange)


def editor_headers(authorization: str) -> dict[str, str]:
    """The internal API wants to know the editor; Quotagate names itself rather than posing as one."""
    return {"Authorization": authorization, "Accept": "application/json",
            "Editor-Version": f"Quotagate/{__version__}", "Editor-Plugin-Version": f"Quotagate/{__version__}"}


def parse_copilot_user(body: Any, account: QuotaAccount[Any], now: datetime) -> QuotaSnapshot:
    """`copilot_internal/user` → premium requests, chat, completions (paid plans' `quota_snapshots`, or the
    free plan's `limited_user_quotas` against `monthly_quotas`)."""
    data = require_object(body, SERVICE)
    resets_at = (iso_time(data.get("quota_reset_date_utc")) or iso_time(data.get("quota_reset_date"))
                 or iso_time(data.get("limited_user_reset_date")))
    snapshots = child(data, "quota_snapshots") or {}
    windows = []
    for key, window_id, label in _QUOTAS:
        window = _quota_window(child(snapshots, key), window_id, label, resets_at)
        if window is not None:
            windows.append(window)
    known = {w.id for w in windows}
    left, monthly = child(data, "limited_user_quotas") or {}, child(data, "monthly_quotas") or {}
    for key, window_id, label in _QUOTAS:
        total, remaining = number(monthly.get(key)), number(left.get(key))
        if window_id not in known and total and remaining is not None:
            windows.append(_counted(window_id, label, total - remaining, total, resets_at))
    login = text_field(data, "login")
    plan = text_field(data, "copilot_plan", "access_type_sku")
    return account.snapshot(now, plan=plan.replace("_", " ").capitalize() if plan else None, windows=windows,
                            identity=f"@{login}" if login else None)


def _quota_window(raw: dict[str, Any] | None, window_id: str, label: str,
                  resets_at: datetime | None) -> QuotaWindow | None:
    if raw is None:
        return None
    if raw.get("unlimited") is True:
        return QuotaWindow(window_id, label, unlimited=True, resets_at=resets_at, unit="requests")
    entitlement, remaining = number(raw.get("entitlement")), number(raw.get("remaining"))
    if not entitlement:  # a placeholder: no allowance to measure, not an empty one
        return None
    percent = number(raw.get("percent_remaining"))
    if percent is None and remaining is not None:
        percent = remaining / entitlement * 100
    used = None if remaining is None else max(0.0, entitlement - remaining)
    return QuotaWindow.from_remaining(window_id, label, percent, window_seconds=month_length_before(resets_at),
                                      resets_at=resets_at, used=used, limit=entitlement, remaining=remaining,
                                      unit="requests")


def _counted(window_id: str, label: str, used: float, limit: float, resets_at: datetime | None) -> QuotaWindow:
    remaining = max(0.0, limit - used)
    return QuotaWindow.from_remaining(window_id, label, remaining / limit * 100,
                                      window_seconds=month_length_before(resets_at), resets_at=resets_at,
                                      used=used, limit=limit, remaining=remaining, unit="requests")


def parse_billing_usage(body: Any, account: QuotaAccount[Any], now: datetime, plan: str) -> QuotaSnapshot:
    """Public billing API → premium requests used this month (sum of `grossQuantity` of premium items)
    against the plan's monthly allowance; resets at the start of next month (UTC)."""
    data = require_object(body, SERVICE)
    items = data.get("usageItems")
    if not isinstance(items, list):
        raise changed_answer(ErrorKind.FORMAT, SERVICE, "usageItems")
    used = sum(number(item.get("grossQuantity")) or 0.0 for item in items
               if isinstance(item, dict) and "premium" in str(item.get("sku", "")).lower())
    period = child(data, "timePeriod") or {}
    year, month = number(period.get("year")), number(period.get("month"))
    resets_at = (start_of_next_month(int(year), int(month)) if year and month
                 else start_of_next_month(now.year, now.month))
    window = _counted("premium", "Premium requests", used, float(PLAN_ALLOWANCE[plan]), resets_at)
    user = text_field(data, "user")
    return account.snapshot(now, plan=plan.capitalize(), windows=[window], identity=f"@{user}" if user else None)
