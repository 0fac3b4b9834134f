"""Zhipu [`zhipu`] and Z.ai [`zai`]: GLM Coding Plan limits from `/api/monitor/usage/quota/limit`.

The two sites share one API and one parser and differ only in host, key names and environment variable.
Every entry of `data.limits` becomes a window: token windows (5-hour, weekly, …), the monthly tool-call
allowance (`TIME_LIMIT`) and credits (`CREDIT_LIMIT`), plus any type the service adds later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from core.i18n import tr
from core.quota.accounts import OPENCODE, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool, environment_tool
from core.quota.credentials import text_field
from core.quota.errors import QuotaError, changed_answer
from core.quota.http import request_json
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, mask_secret, secret_fingerprint
from core.quota.parsing import child, duration_label, epoch_millis, month_length_before, number, require_object, slug
from core.quota.providers.base import FetchContext, QuotaProvider
from core.quota.providers.opencode import opencode_entry

QUOTA_PATH = "/api/monitor/usage/quota/limit"
# `unit` codes of TOKENS_LIMIT windows: 1 day, 3 hour, 5 minute, 6 week (`number` of them).
UNIT_SECONDS = {1: 86400, 3: 3600, 5: 60, 6: 7 * 86400}
_AUTH_CODES = {401, 403, 1000, 1001, 1002}


@dataclass(frozen=True)
class PlanSite:
    id: str
    name: str
    base_url: str
    opencode_key: str
    env_var: str


ZHIPU = PlanSite("zhipu", "Zhipu", "https://bigmodel.cn", "zhipuai-coding-plan", "ZHIPU_API_KEY")
ZAI = PlanSite("zai", "Z.ai", "https://api.z.ai", "zai-coding-plan", "Z_AI_API_KEY")


class ZhipuProvider(QuotaProvider[str]):
    """One instance per site; the credential is the API key itself."""

    def __init__(self, site: PlanSite) -> None:
        self.site = site
        self.id = site.id
        self.name = site.name
        self.service = site.name

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[str]:
        found: Discovery[str] = Discovery()
        entry = opencode_entry(self, found, locations, self.site.opencode_key)
        if entry is not None:
            key = text_field(entry, "key", "access")
            if key:
                found.add(self._account(key, locations.display(locations.opencode_auth), OPENCODE))
            else:
                self.unusable_entry(found, locations, locations.opencode_auth, OPENCODE, self.site.opencode_key,
                                    tr("expected \"{field}\"", field="key"))
        env_key = locations.env(self.site.env_var)
        if env_key:
            found.add(self._account(env_key, f"${self.site.env_var}", environment_tool(self.site.env_var)))
        for item in self.stored(stored):
            found.add(self._account(item.secret.strip(), "Quotagate", QUOTAGATE, item.label))
        return found

    def _account(self, key: str, source: str, tool: Tool, label: str = "") -> QuotaAccount[str]:
        identity = f"{label} ({mask_secret(key)})" if label else mask_secret(key)
        return QuotaAccount(self.id, secret_fingerprint(key), identity, source, tool, key)

    async def fetch(self, account: QuotaAccount[str], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        headers = {"Authorization": account.credential, "Accept": "application/json",
                   "Content-Type": "application/json"}
        body = await request_json(ctx.client, self.service, account.tool, "GET", self.site.base_url + QUOTA_PATH,
                                  headers=headers)
        return parse_quota_limit(body, account, now, self.service)


def parse_quota_limit(body: Any, account: QuotaAccount[Any], now: datetime, service: str) -> QuotaSnapshot:
    """`{"success": true, "data": {"limits": [...], "level": "pro"}}` → one window per limit."""
    data = require_object(body, service)
    if data.get("success") is not True:
        message = text_field(data, "msg", "message") or tr("no reason given")
        if number(data.get("code")) in _AUTH_CODES:
            raise QuotaError(ErrorKind.AUTH, tr("{service} rejected the key from {tool}: {reason}. Sign in again: "
                                                "{how}.", service=service, tool=account.tool.title, reason=message,
                                                how=account.tool.login))
        raise QuotaError(ErrorKind.API, tr("{service} refused the quota request: {reason}", service=service,
                                           reason=message))
    inner = child(data, "data")
    limits = inner.get("limits") if inner else None
    if not isinstance(limits, list):
        raise changed_answer(ErrorKind.FORMAT, service, "data.limits")
    windows: list[QuotaWindow] = []
    for entry in limits:
        if isinstance(entry, dict):
            window = limit_window(entry)
            taken = {w.id for w in windows}
            if window.id in taken:
                suffix = 2
                while f"{window.id}-{suffix}" in taken:
                    suffix += 1
                window = replace(window, id=f"{window.id}-{suffix}")
            windows.append(window)
    level = text_field(inner, "level", "planName")
    return account.snapshot(now, plan=level.capitalize() if level else None, windows=windows)


def limit_window(entry: dict[str, Any]) -> QuotaWindow:
    """One entry of `data.limits`. `percentage` is used %; `nextResetTime` is epoch milliseconds."""
    kind = str(entry.get("type") or "LIMIT").upper()
    used, limit = number(entry.get("currentValue")), number(entry.get("usage"))
    remaining = number(entry.get("remaining"))
    percent = number(entry.get("percentage"))
    if percent is None and used is not None and limit:
        percent = used / limit * 100
    resets_at = epoch_millis(entry.get("nextResetTime"))
    if kind == "TOKENS_LIMIT":
        seconds = _token_window_seconds(entry)
        length = duration_label(seconds)
        window_id, label, unit = (f"tokens-{slug(length)}" if length else "tokens",
                                  f"Tokens · {length}" if length else "Tokens", "tokens")
    elif kind == "TIME_LIMIT":
        seconds = month_length_before(resets_at)
        window_id, label, unit = "tool-calls-monthly", "Tool calls · Monthly", "calls"
    elif kind == "CREDIT_LIMIT":
        seconds = None
        window_id, label, unit = "credits", "Credits", "credits"
    else:
        seconds = None
        window_id, label, unit = slug(kind), kind.replace("_", " ").capitalize(), None
    return QuotaWindow.from_used(window_id, label, percent, window_seconds=seconds, resets_at=resets_at,
                                 used=used, limit=limit, remaining=remaining, unit=unit)


def _token_window_seconds(entry: dict[str, Any]) -> int | None:
    unit, count = number(entry.get("unit")), number(entry.get("number"))
    if unit is None or count is None or int(unit) not in UNIT_SECONDS or count <= 0:
        return None
    return UNIT_SECONDS[int(unit)] * int(count)
