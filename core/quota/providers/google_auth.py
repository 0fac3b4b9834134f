"""A Google access token for a refresh token, from the cache or freshly refreshed.

Shared by Antigravity and the Gemini CLI. If the service then rejects the token (revoked early, scopes
changed), the cached copy is dropped so that the next refresh asks Google again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.quota.accounts import QuotaAccount
from core.quota.errors import QuotaError
from core.quota.google import OAuthClient, refresh_access_token
from core.quota.model import ErrorKind
from core.quota.providers.base import FetchContext
from core.quota.tokens import TokenCache


@asynccontextmanager
async def google_access_token(ctx: FetchContext, account: QuotaAccount[Any], refresh_token: str,
                              oauth: OAuthClient) -> AsyncIterator[str]:
    key = TokenCache.key("google", refresh_token)
    token = await ctx.tokens.get_or_fetch(
        key, ctx.now(), lambda: refresh_access_token(ctx.client, oauth, refresh_token, account.tool, ctx.now()))
    try:
        yield token
    except QuotaError as exc:
        if exc.kind == ErrorKind.AUTH:
            ctx.tokens.drop(key)
        raise
