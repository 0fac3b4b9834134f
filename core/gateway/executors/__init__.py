"""How each kind of upstream is reached: one executor per subscription (Claude, Codex, Copilot, Cloud Code).

Catalogue API-key providers and custom endpoints need none: their URL and headers are fixed by the routing
table, and the relay sends them directly (`Upstream.executor` is None), so that hot path has no extra step.
A subscription attempt goes through `send`: the account's token from the `CredentialSource`, the request in
the upstream's own shape, and on a 401 one renewal and one retry. `SignInRequired` leaves `send` for the
relay to mark the account and try the next target.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

import httpx

from core.gateway.dialects.common import Call, UpstreamRequest
from core.gateway.executors.base import Executor
from core.subscriptions.credentials import Credential, CredentialSource, SignInRequired

if TYPE_CHECKING:
    from core.gateway.routing import Upstream
    from core.gateway.upstream import UpstreamResponse

# Executor name (the subscription's provider id) -> "module:attribute"
_EXECUTORS = {"claude": "claude:EXECUTOR", "codex": "codex:EXECUTOR", "github": "copilot:EXECUTOR",
              "antigravity": "cloud_code:ANTIGRAVITY", "gemini-cli": "cloud_code:GEMINI_CLI"}
NAMES = tuple(_EXECUTORS)
_loaded: dict[str, Executor] = {}


class Sender(Protocol):
    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> "UpstreamResponse": ...


def get(name: str) -> Executor:
    """The executor called `name`; KeyError for one that does not exist."""
    executor = _loaded.get(name)
    if executor is None:
        module, _, attribute = _EXECUTORS[name].partition(":")
        executor = _loaded[name] = getattr(importlib.import_module(f"core.gateway.executors.{module}"), attribute)
    return executor


async def send(upstream: "Upstream", request: UpstreamRequest, call: Call, sender: Sender,
               source: CredentialSource | None) -> "UpstreamResponse":
    """One attempt at a subscription upstream. A 401 costs one renewal and one retry; a second 401 is
    returned like any failure (the relay marks the account). Raises SignInRequired when the account
    cannot be used, httpx.HTTPError when the network fails."""
    executor = get(upstream.executor or "")
    account = upstream.account_id
    if source is None or account is None:
        raise SignInRequired(account or 0, "no sign-in store is running in this gateway")
    credential = await source.current(account)
    response = await _post(executor, sender, upstream, request, credential, call)
    if response.status_code == 401:
        await _discard(response)
        credential = await source.renew_after_unauthorized(account, credential.access_token)
        response = await _post(executor, sender, upstream, request, credential, call)
    return executor.adapt(response, call) if response.status_code < 400 else response


async def _post(executor: Executor, sender: Sender, upstream: "Upstream", request: UpstreamRequest,
                credential: Credential, call: Call) -> "UpstreamResponse":
    outgoing = executor.request(upstream, request, credential, call)
    return await sender.send(outgoing.url, outgoing.body, outgoing.headers)


async def _discard(response: "UpstreamResponse") -> None:
    """Read the refused answer to its end, so its connection goes back to the pool."""
    try:
        await response.aread()
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()
