"""Sending a client's request upstream and relaying the answer back.

Accounts of a provider are tried in priority order; a request moves to the next account only while nothing
has been sent to the client yet and the failure is the account's or the provider's (auth, quota, overload,
network), never for a request the provider rejected as malformed. Streams are relayed event by event as
they arrive; a client that goes away closes the upstream request; a stream that breaks ends with an
error event, never a hang.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse

from core.gateway.requests import GatewayError
from core.gateway.routing import Route, Upstream
from core.gateway.sse import EventSplitter, error_event, event_json, model_rewriter
from core.gateway.upstream import UpstreamClients, UpstreamResponse, describe_transport_error
from core.gateway.usage import Tokens, UsageRecorder, tokens_from_openai_usage

log = logging.getLogger(__name__)

# Failures that say "this account, or the provider right now", not "this request": try the next account.
FALLBACK_STATUSES = frozenset({401, 402, 403, 408, 409, 425, 429, 500, 502, 503, 504, 529})
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
                         "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization", "server",
                         "date", "set-cookie"})


@dataclass
class Exchange:
    """One client request on its way through the gateway."""

    route: Route
    path: str  # appended to the upstream base URL, e.g. "/chat/completions"
    body: bytes
    stream: bool
    api_key_id: int | None
    client_path: str
    started: float


async def forward(exchange: Exchange, clients: UpstreamClients, usage: UsageRecorder) -> Response:
    failures: list[str] = []
    last_error: tuple[int, bytes, str] | None = None
    route = exchange.route
    for index, upstream in enumerate(route.upstreams):
        has_next = index + 1 < len(route.upstreams)
        sender = clients.sender_for(upstream.proxy)
        try:
            response = await sender.send(upstream.base_url + exchange.path, exchange.body,
                                         _upstream_headers(upstream, exchange.stream))
        except httpx.HTTPError as exc:
            failures.append(f"{upstream.account_name}: {describe_transport_error(exc)}")
            continue
        if response.status_code >= 400:
            body = await _read_and_close(response)
            failures.append(f"{upstream.account_name}: HTTP {response.status_code}")
            last_error = (response.status_code, body, response.headers.get("content-type", ""))
            # With several accounts every fallback-worthy failure goes on; the summary below names them all.
            if (has_next or index > 0) and response.status_code in FALLBACK_STATUSES:
                log.info("%s/%s account %r answered %d; trying the next account", route.provider, route.model,
                         upstream.account_name, response.status_code)
                continue
            _record(usage, exchange, upstream, response.status_code, Tokens(), error=f"HTTP {response.status_code}")
            return _upstream_error_response(route, upstream, response.status_code, body,
                                            response.headers.get("content-type", ""))
        if exchange.stream:
            return _stream_response(exchange, upstream, response, usage)
        return await _complete_response(exchange, upstream, response, usage)

    message = f"Every {route.provider} account failed for '{route.requested}': " + "; ".join(failures) + "."
    if last_error is not None and len(route.upstreams) == 1:
        status, body, content_type = last_error
        _record(usage, exchange, route.upstreams[0], status, Tokens(), error=message)
        return _upstream_error_response(route, route.upstreams[0], status, body, content_type)
    _record(usage, exchange, None, 502, Tokens(), error=message)
    status = 504 if failures and all(f.endswith("timed out") for f in failures) else 502
    raise GatewayError(status, message, "upstream_unavailable")


async def _complete_response(exchange: Exchange, upstream: Upstream, response: UpstreamResponse,
                             usage: UsageRecorder) -> Response:
    try:
        raw = await response.aread()
    except httpx.HTTPError as exc:
        _record(usage, exchange, upstream, 502, Tokens(), error=str(exc))
        raise GatewayError(502, f"{exchange.route.provider} closed the connection before answering: "
                                f"{describe_transport_error(exc)}.", "upstream_unavailable") from None
    finally:
        await response.aclose()
    tokens = Tokens()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        tokens = tokens_from_openai_usage(payload.get("usage"))
        if "model" in payload:
            payload["model"] = exchange.route.requested
        raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    _record(usage, exchange, upstream, response.status_code, tokens)
    return Response(raw, status_code=response.status_code, headers=_client_headers(exchange, upstream, response),
                    media_type=response.headers.get("content-type", "application/json"))


def _stream_response(exchange: Exchange, upstream: Upstream, response: UpstreamResponse,
                     usage: UsageRecorder) -> Response:
    relay = _StreamRelay(exchange, upstream, response, usage)
    return StreamingResponse(relay.events(), status_code=response.status_code,
                             headers=_client_headers(exchange, upstream, response),
                             media_type=response.headers.get("content-type", "text/event-stream"),
                             background=BackgroundTask(relay.finish))


class _StreamRelay:
    def __init__(self, exchange: Exchange, upstream: Upstream, response: UpstreamResponse,
                 usage: UsageRecorder) -> None:
        self.exchange, self.upstream, self.response, self.usage = exchange, upstream, response, usage
        self.tokens = Tokens()
        self.first_byte: float | None = None
        self.status = response.status_code
        self.error: str | None = None
        self.recorded = False

    async def events(self) -> AsyncIterator[bytes]:
        splitter = EventSplitter()
        rewrite = model_rewriter(self.exchange.route.requested)
        try:
            async for chunk in self.response.aiter_bytes():
                # Every event this read completed goes out in one write: still no waiting, far fewer sends.
                events = []
                for event in splitter.feed(chunk):
                    if b'"usage"' in event:
                        self._take_usage(event)
                    events.append(rewrite(event))
                if events:
                    if self.first_byte is None:
                        self.first_byte = time.perf_counter()
                    yield b"".join(events)
            rest = splitter.rest()
            if rest is not None:
                yield rewrite(rest)
        except asyncio.CancelledError:
            self.status, self.error = 499, "client disconnected"
            raise
        except httpx.HTTPError as exc:
            self.status = 502
            self.error = f"{self.exchange.route.provider} stream broke: {describe_transport_error(exc)}"
            log.warning("%s", self.error)
            yield error_event(self.error + ". The answer above is incomplete.", "stream_interrupted")
        finally:
            await self.response.aclose()
            self.finish()

    def finish(self) -> None:
        if self.recorded:
            return
        self.recorded = True
        ttft = (self.first_byte - self.exchange.started) * 1000 if self.first_byte else None
        _record(self.usage, self.exchange, self.upstream, self.status, self.tokens, ttft_ms=ttft, error=self.error)

    def _take_usage(self, event: bytes) -> None:
        payload = event_json(event)
        if payload and isinstance(payload.get("usage"), dict):
            self.tokens = tokens_from_openai_usage(payload["usage"])


def _upstream_headers(upstream: Upstream, stream: bool) -> dict[str, str]:
    headers = dict(upstream.headers)
    headers["content-type"] = "application/json"
    headers["accept"] = "text/event-stream" if stream else "application/json"
    return headers


def _client_headers(exchange: Exchange, upstream: Upstream, response: UpstreamResponse) -> dict[str, str]:
    headers = {k: v for k, v in response.headers.items()
               if k.lower() not in _HOP_BY_HOP and k.lower() != "content-type"}
    headers["x-quotagate-provider"] = exchange.route.provider
    headers["x-quotagate-model"] = exchange.route.model
    headers["x-quotagate-account"] = upstream.account_name.encode("ascii", "replace").decode()
    if exchange.stream:
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"
    return headers


def _upstream_error_response(route: Route, upstream: Upstream, status: int, body: bytes,
                             content_type: str) -> Response:
    """The provider's own error when it is JSON with an `error`; otherwise one in OpenAI's shape."""
    headers = {"x-quotagate-provider": route.provider,
               "x-quotagate-account": upstream.account_name.encode("ascii", "replace").decode()}
    try:
        payload: Any = json.loads(body) if body else None
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "error" in payload:
        return JSONResponse(payload, status_code=status, headers=headers)
    text = body.decode("utf-8", "replace").strip()[:500] or "(empty body)"
    message = f"{route.provider} answered HTTP {status}: {text}"
    body_out = {"error": {"message": message, "type": "upstream_error", "code": f"upstream_{status}",
                          "param": None}}
    return JSONResponse(body_out, status_code=status, headers=headers)


async def _read_and_close(response: UpstreamResponse) -> bytes:
    try:
        return await response.aread()
    except httpx.HTTPError:
        return b""
    finally:
        await response.aclose()


def _record(usage: UsageRecorder, exchange: Exchange, upstream: Upstream | None, status: int, tokens: Tokens,
            ttft_ms: float | None = None, error: str | None = None) -> None:
    usage.record(path=exchange.client_path, status=status, provider=exchange.route.provider,
                 model=exchange.route.model, account_id=upstream.account_id if upstream else None,
                 api_key_id=exchange.api_key_id, tokens=tokens,
                 latency_ms=(time.perf_counter() - exchange.started) * 1000, ttft_ms=ttft_ms, error=error)
