"""Talking to the subscriptions' auth services: code exchange, renewal, Copilot's token exchange, who signed in
and which Cloud Code project they use.

Every failure is sorted into one of two kinds, because they call for opposite reactions:
- `RenewalRefused`: the service said no for good (400/401 from a token endpoint, `invalid_grant`, a revoked
  GitHub token, no Copilot subscription). The account is marked "sign in again".
- `RenewalUnavailable`: anything that may pass (network, timeout, 429, 5xx, a missing Google client). Nothing is
  discarded — in particular never a Google refresh token — and the next request tries again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from core.i18n import tr
from core.logs import redact
from core.quota import google
from core.quota.credentials import jwt_claims, jwt_expiry, text_field
from core.quota.errors import QuotaError
from core.quota.locations import Locations
from core.quota.model import ErrorKind, utc_now
from core.quota.providers.copilot import editor_headers
from core.quota.providers.gemini import PROJECT_ENV
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import RenewalUnavailable
from core.subscriptions.providers import GITHUB_USER_URL, GOOGLE_USERINFO_URL, SubscriptionProvider

log = logging.getLogger(__name__)

OPENAI_AUTH_CLAIM = "https://api.openai.com/auth"
CODEX_REFRESH_SCOPE = "openid profile email"


class RenewalRefused(Exception):
    """The auth service refused the sign-in for good; the message says so in words."""


# --- token endpoints ----------------------------------------------------------------------------------------
async def exchange_code(client: httpx.AsyncClient, provider: SubscriptionProvider, code: str, verifier: str,
                        redirect_uri: str, state: str,
                        oauth: google.OAuthClient | None) -> tuple[Tokens, dict[str, Any]]:
    """An authorization code (and the PKCE verifier that proves we asked for it) for tokens; also the whole
    answer, which for Claude names the account."""
    form: dict[str, str] = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                            "client_id": oauth.client_id if oauth else provider.client_id, "code_verifier": verifier}
    if provider.id == "claude":
        form["state"] = state  # Claude's token endpoint checks it too
    if oauth is not None and oauth.client_secret:
        form["client_secret"] = oauth.client_secret
    answer = await _token_request(client, provider, form)
    tokens = _tokens_from(answer, time.time())
    if oauth is not None:
        tokens = tokens.merged(Tokens(client_id=oauth.client_id, client_secret=oauth.client_secret or None))
    return tokens, answer


async def renew(client: httpx.AsyncClient, provider: SubscriptionProvider, tokens: Tokens,
                locations: Locations) -> Tokens:
    """Fresh tokens for a stored bundle (merged over it: what the answer leaves out is kept)."""
    if provider.id == "github":
        return tokens.merged(await copilot_token(client, provider, tokens.refresh_token or ""))
    if not tokens.refresh_token:
        raise RenewalRefused(tr("The {service} sign-in has no refresh token, so it cannot be renewed once it "
                                "expires.", service=provider.name))
    if provider.google:
        return tokens.merged(await _renew_google(client, provider, tokens, locations))
    body: dict[str, str] = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                            "client_id": provider.client_id}
    if provider.id == "codex":
        body["scope"] = CODEX_REFRESH_SCOPE
    answer = await _token_request(client, provider, body, as_form=False)
    return tokens.merged(_tokens_from(answer, time.time()))


async def _renew_google(client: httpx.AsyncClient, provider: SubscriptionProvider, tokens: Tokens,
                        locations: Locations) -> Tokens:
    oauth = await google_client(provider, locations, tokens)
    try:
        access, expires = await google.refresh_access_token(client, oauth, tokens.refresh_token or "",
                                                            provider.tool, utc_now())
    except QuotaError as exc:
        if exc.kind == ErrorKind.AUTH:
            raise RenewalRefused(tr("Google no longer accepts this {service} sign-in.", service=provider.name)) \
                from None
        raise RenewalUnavailable(exc.message) from None
    return Tokens(access_token=access, expires_at=expires.timestamp() if expires else None)


async def google_client(provider: SubscriptionProvider, locations: Locations,
                        tokens: Tokens | None = None) -> google.OAuthClient:
    """The Google OAuth client a sign-in belongs to: the one stored with it, else the installed tool's."""
    if tokens is not None and tokens.client_id:
        return google.OAuthClient(tokens.client_id, tokens.client_secret or "")
    assert provider.installed_client is not None
    found = await asyncio.to_thread(provider.installed_client.find, locations)
    if found is None:
        raise RenewalUnavailable(tr(
            "Quotagate signs in to {service} with the OAuth client of {tool}, which it did not find installed. "
            "Install it, or set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET.", service=provider.name,
            tool=provider.installed_client.tool, prefix=provider.installed_client.env_prefix))
    return found


async def _token_request(client: httpx.AsyncClient, provider: SubscriptionProvider, body: dict[str, str],
                         as_form: bool | None = None) -> dict[str, Any]:
    form = provider.token_form if as_form is None else as_form
    response = await _send(client, provider, "POST", provider.token_url, headers={"Accept": "application/json"},
                           **({"data": body} if form else {"json": body}))
    if response.status_code in (400, 401):
        error = _error_code(response)
        log.info("%s refused a token request (HTTP %d, %s)", provider.name, response.status_code, error)
        raise RenewalRefused(tr("{service} refused the sign-in ({error}).", service=provider.name,
                                error=error or f"HTTP {response.status_code}"))
    answer = _json_answer(response, provider)
    if not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
        raise RenewalUnavailable(tr("{service} answered without an access token.", service=provider.name))
    return answer


# --- GitHub Copilot -----------------------------------------------------------------------------------------
async def copilot_token(client: httpx.AsyncClient, provider: SubscriptionProvider, github_token: str) -> Tokens:
    """GitHub's token exchange: the short-lived Copilot token and the API endpoint it is valid for."""
    if not github_token:
        raise RenewalRefused(tr("The GitHub Copilot sign-in has no GitHub token."))
    response = await _send(client, provider, "GET", provider.token_url,
                           headers=editor_headers(f"token {github_token}"))
    if response.status_code in (401, 403):
        raise RenewalRefused(tr("GitHub no longer accepts this sign-in (HTTP {status}).",
                                status=response.status_code))
    if response.status_code == 404:
        raise RenewalRefused(tr("This GitHub account has no GitHub Copilot subscription."))
    answer = _json_answer(response, provider)
    token = text_field(answer, "token")
    if not token:
        raise RenewalUnavailable(tr("{service} answered without an access token.", service=provider.name))
    endpoints = answer.get("endpoints")
    api_base = text_field(endpoints, "api") if isinstance(endpoints, dict) else None
    expires = answer.get("expires_at")
    return Tokens(access_token=token, expires_at=float(expires) if isinstance(expires, (int, float)) else None,
                  api_base=api_base.rstrip("/") if api_base else None)


async def github_login(client: httpx.AsyncClient, provider: SubscriptionProvider, github_token: str) -> str | None:
    """`@login` of the GitHub account (None when GitHub does not say)."""
    try:
        response = await _send(client, provider, "GET", GITHUB_USER_URL,
                               headers={"Authorization": f"token {github_token}", "Accept": "application/json"})
        login = text_field(_json_answer(response, provider), "login")
    except RenewalUnavailable:
        return None
    return f"@{login}" if login else None


# --- who signed in ------------------------------------------------------------------------------------------
def codex_facts(tokens: Tokens) -> tuple[Tokens, str | None, str | None]:
    """Codex: the ChatGPT account id (the header its backend needs), the email and the plan, from the id token
    (or the access token's claims)."""
    claims = jwt_claims(tokens.id_token or "")
    access_claims = jwt_claims(tokens.access_token or "")
    auth = claims.get(OPENAI_AUTH_CLAIM) or access_claims.get(OPENAI_AUTH_CLAIM)
    auth = auth if isinstance(auth, dict) else {}
    account_id = tokens.account_id or text_field(auth, "chatgpt_account_id")
    email = text_field(claims, "email") or text_field(access_claims.get("https://api.openai.com/profile"), "email")
    plan = text_field(auth, "chatgpt_plan_type")
    return tokens.merged(Tokens(account_id=account_id)), email, plan.capitalize() if plan else None


async def google_email(client: httpx.AsyncClient, provider: SubscriptionProvider, tokens: Tokens) -> str | None:
    email = text_field(jwt_claims(tokens.id_token or ""), "email")
    if email or not tokens.access_token:
        return email
    try:
        response = await _send(client, provider, "GET", GOOGLE_USERINFO_URL,
                               headers={"Authorization": f"Bearer {tokens.access_token}"})
        return text_field(_json_answer(response, provider), "email")
    except RenewalUnavailable:
        return None


async def cloud_code_project(client: httpx.AsyncClient, provider: SubscriptionProvider, access_token: str,
                             locations: Locations) -> str | None:
    """The Cloud Code project requests count against, found as the quota glance finds it: the Gemini CLI's
    GOOGLE_CLOUD_PROJECT when set, else `loadCodeAssist`."""
    if provider.id == "gemini-cli":
        configured = next((locations.env(name) for name in PROJECT_ENV if locations.env(name)), None)
        if configured:
            return configured
    try:
        answer = await google.load_code_assist(client, access_token, provider.tool, provider.name,
                                               ide_type=provider.ide_type)
    except QuotaError as exc:
        raise RenewalUnavailable(exc.message) from None
    return google.project_of(answer)


# --- plumbing -----------------------------------------------------------------------------------------------
async def _send(client: httpx.AsyncClient, provider: SubscriptionProvider, method: str, url: str,
                **kwargs: Any) -> httpx.Response:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise RenewalUnavailable(tr("{service} did not answer in time; will retry.", service=provider.name)) \
            from None
    except httpx.TransportError as exc:
        log.info("%s unreachable: %s", provider.name, redact(str(exc)))
        raise RenewalUnavailable(tr("Could not reach {service}; check the connection. Will retry.",
                                    service=provider.name)) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise RenewalUnavailable(tr("{service} is unavailable right now (HTTP {status}); will retry.",
                                    service=provider.name, status=response.status_code))
    return response


def _json_answer(response: httpx.Response, provider: SubscriptionProvider) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RenewalUnavailable(tr("{service} answered HTTP {status}.", service=provider.name,
                                    status=response.status_code))
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RenewalUnavailable(tr("{service} sent an answer that is not JSON.", service=provider.name))
    return answer


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # Anthropic: {"error": {"type": …, "message": …}}
        error = error.get("type")
    return error if isinstance(error, str) and len(error) <= 100 else None


def _tokens_from(answer: dict[str, Any], now: float) -> Tokens:
    access = answer.get("access_token")
    lifetime = answer.get("expires_in")
    expires_at = now + float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else None
    if expires_at is None and isinstance(access, str):
        expiry = jwt_expiry(access)
        expires_at = expiry.timestamp() if expiry else None
    refresh, id_token = answer.get("refresh_token"), answer.get("id_token")
    return Tokens(access_token=access, refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                  expires_at=expires_at, id_token=id_token if isinstance(id_token, str) and id_token else None)
