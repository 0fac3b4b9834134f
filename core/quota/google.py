"""Google OAuth refresh and Cloud Code `loadCodeAssist`, shared by the Antigravity and Gemini CLI providers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from core.i18n import tr
from core.quota.accounts import Tool
from core.quota.errors import QuotaError
from core.quota.http import check_status, decode_json, send
from core.quota.model import ErrorKind
from core.quota.parsing import child, number

TOKEN_URL = "https://oauth2.googleapis.com/token"
CLOUD_CODE_URL = "https://cloudcode-pa.googleapis.com/v1internal"


@dataclass(frozen=True)
class OAuthClient:
    """The OAuth client a refresh token was issued to; Google only refreshes it for that same client."""

    client_id: str
    client_secret: str = field(default="", repr=False)

    @classmethod
    def from_environment(cls, prefix: str, environ: Mapping[str, str] | None = None) -> "OAuthClient | None":
        environ = os.environ if environ is None else environ
        client_id = environ.get(f"{prefix}_CLIENT_ID", "").strip()
        if not client_id:
            return None
        return cls(client_id, environ.get(f"{prefix}_CLIENT_SECRET", "").strip())


async def refresh_access_token(client: httpx.AsyncClient, oauth: OAuthClient, refresh_token: str,
                               tool: Tool, now: datetime) -> tuple[str, datetime | None]:
    """Trade a refresh token for an access token and its expiry time."""
    service = tr("Google sign-in")  # Google's token endpoint, named in the messages below
    form = {"client_id": oauth.client_id, "refresh_token": refresh_token, "grant_type": "refresh_token"}
    if oauth.client_secret:
        form["client_secret"] = oauth.client_secret
    response = await send(client, service, "POST", TOKEN_URL, data=form)
    if response.status_code in (400, 401):
        body = _json_or_none(response)
        if isinstance(body, dict) and body.get("error") in ("invalid_grant", "unauthorized_client",
                                                             "invalid_client"):
            raise QuotaError(ErrorKind.AUTH, tr("Google no longer accepts the saved sign-in of {tool} ({error}). "
                                                "Sign in again: {how}.", tool=tool.title, error=body["error"],
                                                how=tool.login), response.status_code)
    check_status(response, service, tool)
    body = decode_json(response, service)
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise QuotaError(ErrorKind.FORMAT, tr("Google sign-in answered without an access token."))
    lifetime = number(body.get("expires_in"))
    return token, (now + timedelta(seconds=lifetime)) if lifetime else None


async def load_code_assist(client: httpx.AsyncClient, access_token: str, tool: Tool, service: str,
                           ide_type: str = "IDE_UNSPECIFIED") -> dict[str, Any]:
    """The Cloud Code account record: the project quotas are counted against, and the tier (plan)."""
    body = {"metadata": {"ideType": ide_type, "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}}
    response = await send(client, service, "POST", f"{CLOUD_CODE_URL}:loadCodeAssist", json=body,
                          headers={"Authorization": f"Bearer {access_token}"})
    check_status(response, service, tool)
    answer = decode_json(response, service)
    if not isinstance(answer, dict):
        raise QuotaError(ErrorKind.FORMAT, tr("{service} sent an unexpected loadCodeAssist answer.", service=service))
    return answer


def project_of(load_answer: Mapping[str, Any]) -> str | None:
    """`cloudaicompanionProject` is a string in some answers and `{"id": …}` in others."""
    project = load_answer.get("cloudaicompanionProject")
    if isinstance(project, dict):
        project = project.get("id")
    return project if isinstance(project, str) and project else None


def tier_of(load_answer: Mapping[str, Any]) -> str | None:
    tier = child(load_answer, "paidTier") or child(load_answer, "currentTier")
    name = (tier or {}).get("name") or (tier or {}).get("id")
    return name if isinstance(name, str) and name else None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
