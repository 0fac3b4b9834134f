"""HTTP calls of the quota providers, with every failure turned into a `QuotaError` the user can act on.

Timeouts, refused connections, rejected credentials, server errors and non-JSON answers each get their own
`ErrorKind` and a message naming the service and — for sign-in problems — the tool that signs in again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from core.i18n import tr
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
        raise QuotaError(ErrorKind.TIMEOUT, timeout_message(service, seconds)) from None
    except httpx.TransportError as exc:
        log.info("%s unreachable: %s", service, redact(str(exc)))
        raise QuotaError(ErrorKind.NETWORK, tr("Could not reach {service} ({reason}); check the connection. "
                                               "Will retry.", service=service, reason=_transport_reason(exc))) from None


def check_status(response: httpx.Response, service: str, tool: Tool) -> None:
    """Raise the `QuotaError` matching an unsuccessful status; return quietly on 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in (401, 403):
        raise QuotaError(ErrorKind.AUTH, tr("{service} rejected the sign-in from {tool} (HTTP {status}). Sign in "
                                            "again: {how}.", service=service, tool=tool.title, status=status,
                                            how=tool.login), status)
    if status == 429:
        raise QuotaError(ErrorKind.RATE_LIMITED, tr("{service} is limiting quota checks (HTTP 429); will retry "
                                                    "later.", service=service), status)
    detail = error_detail(response)
    if status >= 500:
        raise QuotaError(ErrorKind.SERVER, tr("{service} had a server error (HTTP {status}); will retry.",
                                              service=service, status=status), status)
    if detail:
        raise QuotaError(ErrorKind.API, tr("{service} answered HTTP {status}: {detail}", service=service,
                                           status=status, detail=detail), status)
    raise QuotaError(ErrorKind.API, tr("{service} answered HTTP {status}", service=service, status=status), status)


def decode_json(response: httpx.Response, service: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise QuotaError(ErrorKind.FORMAT, tr("{service} sent an answer that is not JSON (HTTP {status}); the "
                                              "service may have changed.", service=service,
                                              status=response.status_code)) from None


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


def timeout_message(service: str, seconds: float | None) -> str:
    if seconds:
        return tr("{service} did not answer within {seconds} s; will retry.", service=service, seconds=f"{seconds:g}")
    return tr("{service} did not answer; will retry.", service=service)


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return tr("connection failed")
    if isinstance(exc, httpx.RemoteProtocolError):
        return tr("the connection was closed unexpectedly")
    if isinstance(exc, httpx.ProxyError):
        return tr("the proxy did not pass the request on")
    if isinstance(exc, httpx.NetworkError):  # reading, writing or closing failed midway
        return tr("the connection broke off")
    return type(exc).__name__  # rarer protocol failures: the name is what a bug report needs
