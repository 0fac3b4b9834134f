"""Claude [`claude`]: the subscription windows of a Claude Code (Pro/Max) sign-in, from `/api/oauth/usage`.

Credentials: `~/.claude/.credentials.json` (or `$CLAUDE_CONFIG_DIR`), OpenCode's `anthropic` entry, and tokens
stored in Quotagate. (On macOS Claude Code keeps the token in the Keychain instead; not read here.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.i18n import tr
from core.quota.accounts import CLAUDE_CODE, OPENCODE, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import text_field
from core.quota.errors import changed_answer
from core.quota.http import request_json
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, secret_fingerprint
from core.quota.parsing import child, epoch_millis, iso_time, number, require_object
from core.quota.providers.base import FetchContext, QuotaProvider, check_not_expired
from core.quota.providers.opencode import opencode_entry

USAGE_URL = "https://api.anthropic.com/api/oauth/usage"
BETA_HEADER = "oauth-2025-04-20"
SERVICE = "Claude"

# Known windows first, in display order; other `seven_day_<model>` windows are found by name.
_WINDOWS = (("five_hour", "session", "Session (5-hour)", 5 * 3600),
            ("seven_day", "weekly", "Weekly", 7 * 86400))
_MODEL_WEEKLY = re.compile(r"^seven_day_(?P<model>[a-z0-9]+)$")
_NOT_MODELS = {"oauth_apps", "cowork"}


@dataclass(frozen=True)
class ClaudeCredential:
    access_token: str
    expires_at: datetime | None
    plan: str | None


class ClaudeProvider(QuotaProvider[ClaudeCredential]):
    id = "claude"
    name = "Claude"
    service = SERVICE

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[ClaudeCredential]:
        found: Discovery[ClaudeCredential] = Discovery()
        path = locations.claude_credentials
        data = self.read_file(found, locations, path, CLAUDE_CODE)
        oauth = data.get("claudeAiOauth") if data else None
        if isinstance(oauth, dict) and text_field(oauth, "accessToken"):
            found.add(self._account("claude-code", CLAUDE_CODE.name, locations.display(path), CLAUDE_CODE,
                                    text_field(oauth, "accessToken") or "", epoch_millis(oauth.get("expiresAt")),
                                    text_field(oauth, "subscriptionType")))
        elif oauth is not None:
            self.unusable_entry(found, locations, path, CLAUDE_CODE, "claudeAiOauth",
                                tr("expected an object with \"{field}\"", field="accessToken"))

        entry = opencode_entry(self, found, locations, "anthropic")
        if entry is not None and entry.get("type", "oauth") == "oauth" and text_field(entry, "access"):
            found.add(self._account("opencode", "Claude (OpenCode)", locations.display(locations.opencode_auth),
                                    OPENCODE, text_field(entry, "access") or "", epoch_millis(entry.get("expires")),
                                    None))

        for item in self.stored(stored):
            key = item.options.get("key") or f"stored:{secret_fingerprint(item.secret)}"  # a sign-in's own key
            found.add(self._account(key, item.label or "Claude",
                                    "Quotagate", QUOTAGATE, item.secret.strip(), None, item.options.get("plan")))
        return found

    def _account(self, key: str, identity: str, source: str, tool: Tool, token: str, expires_at: datetime | None,
                 plan: str | None) -> QuotaAccount[ClaudeCredential]:
        return QuotaAccount(self.id, key, identity, source, tool, ClaudeCredential(token, expires_at, plan))

    async def fetch(self, account: QuotaAccount[ClaudeCredential], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        credential = account.credential
        check_not_expired(SERVICE, account.tool, credential.expires_at, now)
        headers = {"Authorization": f"Bearer {credential.access_token}", "anthropic-beta": BETA_HEADER,
                   "Accept": "application/json"}
        body = await request_json(ctx.client, SERVICE, account.tool, "GET", USAGE_URL, headers=headers)
        return parse_usage(body, account, now)


def parse_usage(body: Any, account: QuotaAccount[ClaudeCredential], now: datetime) -> QuotaSnapshot:
    """`five_hour` → session, `seven_day` → weekly, `seven_day_<model>` → that model's weekly window,
    `extra_usage` → paid extra usage when enabled. `utilization` is used %."""
    data = require_object(body, SERVICE)
    if not any(key in data for key, *_ in _WINDOWS):
        raise changed_answer(ErrorKind.FORMAT, SERVICE, "five_hour")
    windows = []
    for key, window_id, label, seconds in _WINDOWS:
        raw = child(data, key)
        if raw is not None:
            windows.append(_window(raw, window_id, label, seconds))
    for key in data:
        match = _MODEL_WEEKLY.match(key)
        raw = child(data, key)
        if match and raw is not None and match["model"] not in _NOT_MODELS:
            model = match["model"]
            windows.append(_window(raw, f"weekly-{model}", f"Weekly · {model.capitalize()}", 7 * 86400))
    extra = child(data, "extra_usage")
    if extra is not None and extra.get("is_enabled") is True:
        windows.append(QuotaWindow.from_used("extra", "Extra usage", number(extra.get("utilization")),
                                             used=number(extra.get("used_credits")),
                                             limit=number(extra.get("monthly_limit")), unit="credits"))
    plan = account.credential.plan if isinstance(account.credential, ClaudeCredential) else None
    return account.snapshot(now, plan=plan.capitalize() if plan else None, windows=windows)


def _window(raw: dict[str, Any], window_id: str, label: str, seconds: int) -> QuotaWindow:
    return QuotaWindow.from_used(window_id, label, number(raw.get("utilization")), window_seconds=seconds,
                                 resets_at=iso_time(raw.get("resets_at")))
