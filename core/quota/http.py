"""HTTP calls of the quota providers, with every failure turned into a `QuotaError` the user can act on.

Timeouts, refused connections, rejected credentials, server errors and non-JSON answers each get their own
`ErrorKind` and a message naming the service and — for sign-in problems — the tool that signs in again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from core.logs import redact
from core.quota.accounts import Tool
from core.quota.errors import QuotaError
from core.quota.model import ErrorKind

log = logging.getLogger(__name__)
_DETAIL_CHARS = 200


async def send(client: httpx.AsyncClient, service: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """Send one request; transport failures become `QuotaError`s, any HTTP status is returned."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        seconds = client.timeout.read or client.timeout.connect
        within = f" within {seconds:g} s" if seconds else ""
        raise QuotaError(ErrorKind.TIMEOUT, f"{service} did not answer{within}; will retry.") from None
    except httpx.TransportError as exc:
        log.info("%s unreachable: %s", service, redact(str(exc)))
        raise QuotaError(ErrorKind.NETWORK, f"Could not reach {service} ({_transport_reason(exc)}); "
                                            f"check the connection. Will retry.") from None


def check_status(response: httpx.Response, service: str, tool: Tool) -> None:
    """Raise the `QuotaError` matching an unsuccessful status; return quietly on 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403):
        raise QuotaError(ErrorKind.AUTH, f"{service} rejected the sign-in from {tool.name} (HTTP {status}). "
                                         f"Sign in again: {tool.login}.", status)
    if status == 429:
        raise QuotaError(ErrorKind.RATE_LIMITED, f"{service} is limiting quota checks (HTTP 429); "
                                                 f"will retry later.", status)
    detail = error_detail(response)
    if status >= 500:
        raise QuotaError(ErrorKind.SERVER, f"{service} had a server error (HTTP {status}); will retry.", status)
    suffix = f": {detail}" if detail else ""
    raise QuotaError(ErrorKind.API, f"{service} answered HTTP {status}{suffix}", status)


def decode_json(response: httpx.Response, service: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise QuotaError(ErrorKind.FORMAT, f"{service} sent an answer that is not JSON "
                                           f"(HTTP {response.status_code}); the service may have changed.") from None


async def request_json(client: httpx.AsyncClient, service: str, tool: Tool, method: str, url: str,
                       **kwargs: Any) -> Any:
    """Send, check the status, decode the JSON body."""
    response = await send(client, service, method, url, **kwargs)
    check_status(response, service, tool)
    return decode_json(response, service)


def error_detail(response: httpx.Response) -> str:
    """A short, redacted excerpt of what the service said was wrong."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            text = str(error.get("message") or error.get("code") or "")
        elif isinstance(error, str):
            text = str(body.get("error_description") or error)
        else:
            text = str(body.get("message") or body.get("msg") or "")
    if not text:
        text = response.text.strip()
    text = " ".join(redact(text).split())
    return text[:_DETAIL_CHARS] + ("…" if len(text) > _DETAIL_CHARS else "")


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection was closed unexpectedly"
    return type(exc).__name__
