"""Exact token counts from the provider, where its API offers counting (Anthropic's count_tokens, Gemini's
countTokens); the routes fall back to the offline estimate (`token_estimate`) when it does not or fails.

Counting is free at both providers and needs no quota, so a failure here never moves to another account:
the estimate answers instead, and the client is not kept waiting more than `COUNT_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from typing import Any

import httpx

from core.gateway import dialects
from core.gateway.dialects.common import Call, TranslationError, dumps
from core.gateway.routing import Route, Upstream
from core.gateway.upstream import UpstreamClients, describe_transport_error

log = logging.getLogger(__name__)

COUNT_TIMEOUT = 10.0
# What Anthropic's count_tokens accepts of a Messages body; generation settings are refused there.
_ANTHROPIC_COUNT_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")


async def count_with_provider(call: Call, route: Route, clients: UpstreamClients) -> int | None:
    """The first attempt's own count, or None when its format cannot count or the count failed."""
    upstream = route.upstreams[0] if route.upstreams else None
    if upstream is None or upstream.wire_format not in ("anthropic", "gemini") or upstream.executor is not None:
        return None  # a subscription's token is its executor's to use: the estimate answers
    try:
        path, body, field = _count_request(replace(call, stream=False), upstream)
    except (TranslationError, ValueError) as exc:
        log.info("Token count for %s falls back to the estimate: %s", route.requested, exc)
        return None
    headers = {**upstream.headers, "content-type": "application/json", "accept": "application/json"}
    try:
        async with asyncio.timeout(COUNT_TIMEOUT):
            response = await clients.sender_for(upstream.proxy).send(upstream.base_url + path, body, headers)
            try:
                raw = await response.aread()
            finally:
                await response.aclose()
    except (httpx.HTTPError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else describe_transport_error(exc)
        log.info("Token count from %s failed (%s); answering the estimate", upstream.provider, reason)
        return None
    if response.status_code >= 400:
        log.info("Token count from %s answered HTTP %d; answering the estimate", upstream.provider,
                 response.status_code)
        return None
    try:
        value = json.loads(raw).get(field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _count_request(call: Call, upstream: Upstream) -> tuple[str, bytes, str]:
    """(path, body, answer field) of the provider's counting request for `call`."""
    wire = dialects.get(upstream.wire_format)
    if upstream.wire_format == "anthropic":
        body = _as_object(wire.encode_request(call, upstream.model).body)
        counted = {key: body[key] for key in _ANTHROPIC_COUNT_FIELDS if key in body}
        if call.format == "anthropic":  # the client's own blocks (documents, cache_control) count too
            counted.update({key: call.payload[key] for key in _ANTHROPIC_COUNT_FIELDS if key in call.payload})
            counted["model"] = upstream.model
        return "/messages/count_tokens", dumps(counted), "input_tokens"
    body = _as_object(wire.encode_request(call, upstream.model).body)
    request = {"model": f"models/{upstream.model}", **body}
    return f"/models/{upstream.model}:countTokens", dumps({"generateContentRequest": request}), "totalTokens"


def _as_object(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the encoded request is not an object")
    return value
