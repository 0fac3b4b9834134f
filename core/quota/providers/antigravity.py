"""Google Antigravity [`antigravity`]: per-model quotas from Cloud Code's `fetchAvailableModels`, by family.

Accounts: every account with a refresh token in OpenCode's `antigravity-accounts.json`, and accounts
stored in Quotagate. The access token is refreshed at Google and cached until it expires.

Google refreshes a token only for the OAuth client it was issued to (the Antigravity plugin's). Quotagate
does not ship that client: it reads it from the installed plugin (see `core.quota.oauth_clients`), unless
`QUOTAGATE_ANTIGRAVITY_CLIENT_ID` / `_CLIENT_SECRET` or a stored account's `client_id` / `client_secret`
options name one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.quota import oauth_clients
from core.i18n import tr
from core.quota.accounts import ANTIGRAVITY_PLUGIN, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import text_field
from core.quota.errors import QuotaError, changed_answer
from core.quota.families import ModelQuota, group_by_family
from core.quota.google import CLOUD_CODE_URL, OAuthClient, load_code_assist, project_of
from core.quota.http import request_json
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, mask_secret, secret_fingerprint
from core.quota.parsing import child, epoch_millis, iso_time, number, require_object
from core.quota.providers.base import FetchContext, QuotaProvider
from core.quota.providers.google_auth import google_access_token

MODELS_URL = f"{CLOUD_CODE_URL}:fetchAvailableModels"
ACCOUNTS_FILE = "antigravity-accounts.json"
SERVICE = "Google Antigravity"


@dataclass(frozen=True)
class CachedQuota:
    """What the plugin itself last saw (`cachedQuota` per model group, `cachedQuotaUpdatedAt` in ms)."""

    quotas: tuple[ModelQuota, ...]
    updated_at: datetime


@dataclass(frozen=True)
class AntigravityCredential:
    refresh_token: str
    project: str | None
    oauth: OAuthClient | None
    cached: CachedQuota | None = None


class AntigravityProvider(QuotaProvider[AntigravityCredential]):
    id = "antigravity"
    name = "Google Antigravity"
    service = SERVICE

    def discover(self, locations: Locations,
                 stored: Sequence[StoredAccount]) -> Discovery[AntigravityCredential]:
        found: Discovery[AntigravityCredential] = Discovery()
        path = locations.opencode_config / ACCOUNTS_FILE
        data = self.read_file(found, locations, path, ANTIGRAVITY_PLUGIN)
        entries = data.get("accounts") if data else None
        if data is not None and not isinstance(entries, list):
            self.unusable_entry(found, locations, path, ANTIGRAVITY_PLUGIN, "accounts", tr("expected a list"))
        for entry in entries if isinstance(entries, list) else ():
            refresh = text_field(entry, "refreshToken")
            if refresh:
                found.add(self._account(refresh, text_field(entry, "email"),
                                        text_field(entry, "projectId", "managedProjectId"),
                                        locations.display(path), ANTIGRAVITY_PLUGIN, None, cached_quota(entry)))
        for item in self.stored(stored):
            client = (OAuthClient(item.options["client_id"], item.options.get("client_secret", ""))
                      if item.options.get("client_id") else None)
            found.add(self._account(item.secret.strip(), item.options.get("email") or item.label or None,
                                    item.options.get("project"), "Quotagate", QUOTAGATE, client))
        return found

    def _account(self, refresh: str, email: str | None, project: str | None, source: str, tool: Tool,
                 oauth: OAuthClient | None, cached: CachedQuota | None = None) -> QuotaAccount[AntigravityCredential]:
        return QuotaAccount(self.id, email or secret_fingerprint(refresh), email or mask_secret(refresh), source, tool,
                       AntigravityCredential(refresh, project, oauth, cached))

    async def fetch(self, account: QuotaAccount[AntigravityCredential], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        credential = account.credential
        oauth = credential.oauth or await asyncio.to_thread(oauth_clients.ANTIGRAVITY.find, ctx.locations)
        if oauth is None:
            problem = QuotaError(ErrorKind.CONFIG, tr(
                "Quotagate renews {service} sign-ins with the OAuth client of OpenCode's Antigravity plugin and "
                "did not find the plugin installed. Open OpenCode once so that it installs the plugin, or set "
                "{prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.", service=SERVICE,
                prefix=oauth_clients.ANTIGRAVITY.env_prefix))
            if credential.cached is None:
                raise problem
            # The plugin's own last reading, shown for what it is: stale, with its age and the reason.
            cached = account.snapshot(credential.cached.updated_at, windows=group_by_family(credential.cached.quotas))
            return cached.as_stale(problem.message, problem.kind)
        async with google_access_token(ctx, account, credential.refresh_token, oauth) as token:
            project = credential.project or await self._project(ctx, account, token)
            body = await request_json(ctx.client, SERVICE, account.tool, "POST", MODELS_URL,
                                      json={"project": project} if project else {},
                                      headers={"Authorization": f"Bearer {token}"})
        return parse_available_models(body, account, now)

    async def _project(self, ctx: FetchContext, account: QuotaAccount[Any], token: str) -> str | None:
        """Accounts without a saved project: ask Cloud Code once, then remember it."""
        memo_key = f"{account.provider}/{account.key}/project"
        if memo_key not in ctx.memo:
            answer = await load_code_assist(ctx.client, token, account.tool, SERVICE, ide_type="ANTIGRAVITY")
            ctx.memo[memo_key] = project_of(answer)
        project = ctx.memo[memo_key]
        return project if isinstance(project, str) else None


def parse_available_models(body: Any, account: QuotaAccount[Any], now: datetime) -> QuotaSnapshot:
    """`{"models": {id: {"quotaInfo": {"remainingFraction", "resetTime"}}}}` → one window per family.
    Models without `quotaInfo` have no quota and are skipped; a missing `remainingFraction` is unknown."""
    data = require_object(body, SERVICE)
    models = data.get("models")
    if not isinstance(models, dict):
        raise changed_answer(ErrorKind.FORMAT, SERVICE, "models")
    quotas = []
    for name, info in models.items():
        quota = child(info, "quotaInfo")
        if quota is None:
            continue
        fraction = number(quota.get("remainingFraction"))
        if fraction is None and quota.get("isExhausted") is True:
            fraction = 0.0
        quotas.append(ModelQuota(name, None if fraction is None else fraction * 100,
                                 iso_time(quota.get("resetTime")), text_field(info, "displayName", "label")))
    return account.snapshot(now, windows=group_by_family(quotas))


def cached_quota(entry: Any) -> CachedQuota | None:
    """The plugin's `cachedQuota` (`{group: {remainingFraction, resetTime, modelCount}}`), if readable."""
    groups = child(entry, "cachedQuota")
    updated_at = epoch_millis(entry.get("cachedQuotaUpdatedAt")) if isinstance(entry, dict) else None
    if not groups or updated_at is None:
        return None
    quotas = []
    for group, info in groups.items():
        if isinstance(info, dict):
            fraction = number(info.get("remainingFraction"))
            quotas.append(ModelQuota(str(group), None if fraction is None else fraction * 100,
                                     iso_time(info.get("resetTime"))))
    return CachedQuota(tuple(quotas), updated_at) if quotas else None
