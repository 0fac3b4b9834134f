"""'Test' buttons: can this account (or custom endpoint, or proxy) reach its provider, how fast, and if not,
why in plain words. Shared by the Providers window and `/api/providers/{id}/test`.

The upstream URL, headers and proxy come from a one-account `RoutingTable`, so a test goes exactly where
real traffic would go.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.gateway import dialects
from core.gateway.accounts import Account, CustomEndpoint
from core.gateway.dialects.common import Call, Message, Text, UpstreamRequest
from core.gateway.routing import ProxySettings, ResolveError, RoutingTable, Upstream
from core.gateway.upstream import UpstreamClients, describe_transport_error, is_timeout
from core.i18n import tr
from core.net.host_map import HostMap
from core.providers import catalog

CHECK_TIMEOUT = 15.0
PROXY_CHECK_URL = "https://api.openai.com/v1/models"


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str
    latency_ms: float | None = None
    status: int | None = None
    models: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {"valid": self.ok, "ok": self.ok, "message": self.message, "latencyMs": self.latency_ms,
                "status": self.status, "models": self.models}


def upstream_for(target: Account | CustomEndpoint, proxies: ProxySettings | None = None) -> tuple[Upstream, str]:
    """Where a request for `target` goes, and which catalogue provider (if any) it belongs to."""
    host_map = HostMap.from_environment()
    if isinstance(target, CustomEndpoint):
        table = RoutingTable(endpoints=[target], proxies=proxies, rewrite_url=host_map.rewrite)
        return table.resolve(f"{target.prefix}/-").upstreams[0], ""
    active = Account(target.id, target.provider, target.name, target.api_key, active=True, options=target.options)
    table = RoutingTable([active], proxies=proxies, rewrite_url=host_map.rewrite)
    provider = catalog.get_provider(target.provider)
    prefix = provider.prefix if provider else target.provider
    return table.resolve(f"{prefix}/-").upstreams[0], provider.id if provider else ""


async def check_connection(target: Account | CustomEndpoint, clients: UpstreamClients,
                           proxies: ProxySettings | None = None) -> CheckResult:
    """List models where the provider can (cheap, no tokens); else send a one-token chat."""
    try:
        upstream, provider_id = upstream_for(target, proxies)
    except ResolveError as exc:  # its words are for API clients; the one a test can meet is said here
        if exc.code == "no_active_account":
            return CheckResult(False, tr("{name} has no API key yet; add the key, then test again.",
                                         name=target.name))
        return CheckResult(False, exc.message)
    provider = catalog.get_provider(provider_id) if provider_id else None
    client = clients.client_for(upstream.proxy)
    started = time.perf_counter()
    try:
        response = None
        if provider is None or provider.models_endpoint or upstream.wire_format not in dialects.FORMATS:
            response = await client.get(upstream.base_url + models_path(upstream.wire_format),
                                        headers=upstream.headers, timeout=CHECK_TIMEOUT)
        # No model list (or a custom endpoint without one): one token in the endpoint's own format.
        if response is None or (provider is None and response.status_code in (404, 405)):
            chat_model = next((m.id for m in provider.models if m.kind == "chat"), "test") if provider else "test"
            request = _one_token_request(upstream.wire_format, chat_model)
            response = await client.post(upstream.base_url + request.path, content=request.body,
                                         headers={**upstream.headers, **request.headers,
                                                  "content-type": "application/json"},
                                         timeout=CHECK_TIMEOUT)
    except httpx.HTTPError as exc:
        if is_timeout(exc):
            return CheckResult(False, tr("Could not reach {url}: no answer within {seconds} s.",
                                         url=upstream.base_url, seconds=f"{CHECK_TIMEOUT:.0f}"))
        return CheckResult(False, tr("Could not reach {url}: {error}.", url=upstream.base_url,
                                     error=describe_transport_error(exc)))
    latency = round((time.perf_counter() - started) * 1000, 1)
    if response.status_code < 400:
        models = model_ids(response)
        return CheckResult(True, _connected(latency, len(models)), latency, response.status_code, models)
    return CheckResult(False, _explain_status(response), latency, response.status_code)


def models_path(wire_format: str) -> str:
    """Where an API of `wire_format` lists its models, relative to its base URL (speech-to-text APIs list none:
    there, a cheap call that needs a valid key)."""
    return {"ollama": "/api/tags", "deepgram": "/projects", "assemblyai": "/transcript?limit=1"}.get(wire_format,
                                                                                                      "/models")


def _one_token_request(wire_format: str, model: str) -> UpstreamRequest:
    ping = Call(format=wire_format, model=model, messages=[Message("user", [Text("ping")])], max_tokens=1)
    return dialects.get(wire_format).encode_request(ping, model)


def _connected(latency: float, models: int) -> str:
    ms = f"{latency:.0f}"
    if models == 0:
        return tr("Connected in {ms} ms.", ms=ms)
    if models == 1:
        return tr("Connected in {ms} ms, 1 model available.", ms=ms)
    return tr("Connected in {ms} ms, {count} models available.", ms=ms, count=models)


async def check_proxy(proxy_url: str, clients: UpstreamClients, target_url: str = PROXY_CHECK_URL) -> CheckResult:
    """Any HTTP answer through the proxy proves it works (an auth error from the target included)."""
    url = HostMap.from_environment().rewrite(target_url)
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(proxy=proxy_url, timeout=CHECK_TIMEOUT, trust_env=False) as client:
            response = await client.get(url)
    except httpx.ProxyError as exc:
        return CheckResult(False, tr("The proxy refused the connection: {error}.",
                                     error=describe_transport_error(exc)))
    except httpx.HTTPError as exc:
        if is_timeout(exc):
            return CheckResult(False, tr("Could not reach {url} through the proxy: no answer within {seconds} s.",
                                         url=target_url, seconds=f"{CHECK_TIMEOUT:.0f}"))
        return CheckResult(False, tr("Could not reach {url} through the proxy: {error}.", url=target_url,
                                     error=describe_transport_error(exc)))
    except ValueError as exc:  # malformed proxy URL or unsupported scheme
        return CheckResult(False, tr("The proxy URL is not usable: {error}.", error=exc))
    latency = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(True, tr("The proxy works: {url} answered HTTP {status} in {ms} ms.", url=target_url,
                                status=response.status_code, ms=f"{latency:.0f}"), latency, response.status_code)


def model_ids(response: httpx.Response) -> list[str]:
    """Model ids from a model list in any of the formats: OpenAI/Anthropic `data[].id`, Gemini
    `models[].name` ("models/…"), Ollama `models[].name`, or a bare list (Together)."""
    try:
        body = response.json()
    except ValueError:
        return []
    items = (body.get("data") or body.get("models")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    ids = {str(item.get("id") or item.get("name") or "").removeprefix("models/")
           for item in items if isinstance(item, dict)}
    return sorted(i for i in ids if i)


def _explain_status(response: httpx.Response) -> str:
    detail = ""
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        detail = error.get("message", "") if isinstance(error, dict) else str(error or "")
    except ValueError:
        detail = response.text[:200]
    status = response.status_code
    if status in (401, 403):
        lead = tr("The provider rejected the API key (HTTP {status})", status=status)
    elif status == 402:
        lead = tr("The account has no credit left (HTTP {status})", status=status)
    elif status == 429:
        lead = tr("The account is rate-limited or out of quota (HTTP {status})", status=status)
    elif status == 404:
        lead = tr("The endpoint was not found, check the base URL (HTTP {status})", status=status)
    elif status >= 500:
        lead = tr("The provider had an internal error (HTTP {status})", status=status)
    else:
        lead = tr("The provider refused the test request (HTTP {status})", status=status)
    detail = detail.strip()
    return tr("{problem}: {detail}.", problem=lead, detail=detail) if detail else tr("{problem}.", problem=lead)
