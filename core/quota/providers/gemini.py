"""Gemini CLI [`gemini`]: the Code Assist quota buckets of a "Sign in with Google" Gemini CLI login.

Credentials: `~/.gemini/oauth_creds.json`. The project quotas count against comes from
`GOOGLE_CLOUD_PROJECT` or, when unset, from `loadCodeAssist` (asked once per run, with the plan).
The Gemini CLI renews its own token whenever it runs; when it has expired, Quotagate refreshes it with
the OAuth client of the installed Gemini CLI (see `core.quota.oauth_clients`; `QUOTAGATE_GEMINI_CLIENT_ID` /
`_CLIENT_SECRET` override it), and without one says to run `gemini`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.quota import oauth_clients
from core.i18n import tr
from core.quota.accounts import GEMINI_CLI, QUOTAGATE, QuotaAccount, Discovery, StoredAccount, Tool
from core.quota.credentials import CredentialFileError, is_expired, jwt_claims, read_json_object, text_field
from core.quota.errors import QuotaError, changed_answer
from core.quota.families import ModelQuota, group_by_family
from core.quota.google import CLOUD_CODE_URL, load_code_assist, project_of, tier_of
from core.quota.http import request_json
from core.quota.locations import Locations
from core.quota.model import ErrorKind, QuotaSnapshot, secret_fingerprint
from core.quota.parsing import epoch_millis, iso_time, number, require_object
from core.quota.providers.base import FetchContext, QuotaProvider, expired_error
from core.quota.providers.google_auth import google_access_token

QUOTA_URL = f"{CLOUD_CODE_URL}:retrieveUserQuota"
PROJECT_ENV = ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID")
SERVICE = "Gemini Code Assist"


@dataclass(frozen=True)
class GeminiCredential:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class _CodeAssist:
    project: str | None
    plan: str | None


class GeminiProvider(QuotaProvider[GeminiCredential]):
    id = "gemini"
    name = "Gemini CLI"
    service = SERVICE

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[GeminiCredential]:
        found: Discovery[GeminiCredential] = Discovery()
        path = locations.gemini_dir / "oauth_creds.json"
        data = self.read_file(found, locations, path, GEMINI_CLI)
        if data is not None:
            access, refresh = text_field(data, "access_token"), text_field(data, "refresh_token")
            if access or refresh:
                email = text_field(jwt_claims(text_field(data, "id_token") or ""), "email") or _active_email(locations)
                found.add(QuotaAccount(self.id, email or "gemini-cli", email or "Gemini CLI", locations.display(path),
                                  GEMINI_CLI, GeminiCredential(access, refresh, epoch_millis(data.get("expiry_date")))))
            else:
                self.unusable_entry(found, locations, path, GEMINI_CLI, "access_token",
                                    tr("expected \"{field}\" or \"{other}\"", field="access_token", other="refresh_token"))
        for item in self.stored(stored):
            found.add(self._stored(item))
        return found

    def _stored(self, item: StoredAccount) -> QuotaAccount[GeminiCredential]:
        tool: Tool = QUOTAGATE
        key = item.options.get("key") or item.options.get("email") or f"stored:{secret_fingerprint(item.secret)}"
        return QuotaAccount(self.id, key,
                       item.options.get("email") or item.label or "Gemini", "Quotagate", tool,
                       GeminiCredential(None, item.secret.strip(), None))

    async def fetch(self, account: QuotaAccount[GeminiCredential], ctx: FetchContext) -> QuotaSnapshot:
        now = ctx.now()
        async with self._token(ctx, account) as token:
            code_assist = await self._code_assist(ctx, account, token)
            body = await request_json(ctx.client, SERVICE, account.tool, "POST", QUOTA_URL,
                                      json={"project": code_assist.project} if code_assist.project else {},
                                      headers={"Authorization": f"Bearer {token}"})
        return parse_user_quota(body, account, now, plan=code_assist.plan)

    @asynccontextmanager
    async def _token(self, ctx: FetchContext, account: QuotaAccount[GeminiCredential]) -> AsyncIterator[str]:
        """The saved access token while valid; else a refreshed one (if we can); else say it expired."""
        credential = account.credential
        if credential.access_token and not is_expired(credential.expires_at, ctx.now()):
            yield credential.access_token
            return
        oauth = (await asyncio.to_thread(oauth_clients.GEMINI_CLI.find, ctx.locations)
                 if credential.refresh_token else None)
        if credential.refresh_token and oauth is not None:
            async with google_access_token(ctx, account, credential.refresh_token, oauth) as token:
                yield token
        elif credential.access_token and credential.expires_at is not None:
            raise expired_error(SERVICE, account.tool, credential.expires_at)
        else:
            raise QuotaError(ErrorKind.CONFIG, tr(
                "This {service} account has only a refresh token, and Quotagate renews it with the OAuth client of "
                "the Gemini CLI, which it did not find installed. Install the Gemini CLI, or set {prefix}_CLIENT_ID "
                "and {prefix}_CLIENT_SECRET.", service=SERVICE, prefix=oauth_clients.GEMINI_CLI.env_prefix))

    async def _code_assist(self, ctx: FetchContext, account: QuotaAccount[Any], token: str) -> _CodeAssist:
        configured = next((ctx.locations.env(name) for name in PROJECT_ENV if ctx.locations.env(name)), None)
        memo_key = f"{account.provider}/{account.key}/code-assist"
        cached = ctx.memo.get(memo_key)
        if isinstance(cached, _CodeAssist):
            return _CodeAssist(configured or cached.project, cached.plan)
        if configured:
            return _CodeAssist(configured, None)
        answer = await load_code_assist(ctx.client, token, account.tool, SERVICE)
        result = _CodeAssist(project_of(answer), tier_of(answer))
        ctx.memo[memo_key] = result
        return result


def parse_user_quota(body: Any, account: QuotaAccount[Any], now: datetime, plan: str | None = None) -> QuotaSnapshot:
    """`{"buckets": [{"modelId", "remainingFraction", "resetTime", "tokenType"}]}` → Pro / Flash / Flash-Lite."""
    data = require_object(body, SERVICE)
    buckets = data.get("buckets")
    if not isinstance(buckets, list):
        raise changed_answer(ErrorKind.FORMAT, SERVICE, "buckets")
    quotas = []
    for bucket in buckets:
        model = text_field(bucket, "modelId")
        if model and isinstance(bucket, dict):
            fraction = number(bucket.get("remainingFraction"))
            quotas.append(ModelQuota(model, None if fraction is None else fraction * 100,
                                     iso_time(bucket.get("resetTime"))))
    return account.snapshot(now, plan=plan, windows=group_by_family(quotas))


def _active_email(locations: Locations) -> str | None:
    """The Gemini CLI records the signed-in address in `google_accounts.json`; a broken one is not fatal."""
    try:
        accounts = read_json_object(locations.gemini_dir / "google_accounts.json")
    except CredentialFileError:
        return None
    return text_field(accounts, "active")
