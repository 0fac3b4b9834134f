"""Carrying out a route: each attempt encoded for its own wire format, the answer relayed in the client's.

Attempts are tried in order; the request moves on while nothing has been sent to the client yet and the
failure is the account's or the provider's (auth, quota, overload, network, a stalled first byte), never for
a request the provider rejected as malformed. An attempt that speaks the client's format is a pass-through
(the client's body with only the model replaced; the answer's bytes relayed as they come); any other attempt
is translated through the common form (`dialects.common`). Streams are relayed event by event as they arrive;
a client that goes away closes the upstream request; a stream that breaks ends with the client dialect's
error event, never a hang. An attempt at a subscription account goes through its executor
(`core.gateway.executors`): token, request shape, one renewal after a 401; an account whose sign-in cannot be
renewed is marked and the next attempt goes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Sequence

import aiohttp
import httpx
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse

from core.gateway import dialects, executors, sessions
from core.gateway.dialects.common import (
    ADDED_DEFAULTS,
    DROPPED_TOOLS,
    STREAM_MEDIA_TYPE,
    UNTRANSLATABLE,
    Call,
    Dialect,
    Event,
    Finish,
    Start,
    StreamError,
    TranslationError,
    UpstreamRequest,
    Usage,
    dumps,
)
from core.gateway.errors import GatewayError
from core.gateway.images import image_usage
from core.gateway.model_bytes import replace_model
from core.gateway.request_defaults import for_passthrough
from core.gateway.resilience import SIGN_IN_AGAIN, Resilience, Skipped, describe_wait
from core.gateway.routing import Route, Upstream
from core.gateway.strategies import RoutingStats
from core.gateway.sse import EventSplitter, LineSplitter, model_rewriter
from core.gateway.upstream import UpstreamClients, UpstreamResponse, describe_transport_error, is_timeout
from core.gateway.usage import UsageRecorder
from core.logs import redact
from core.subscriptions.credentials import CredentialSource, SignInRequired

log = logging.getLogger(__name__)

# Failures that say "this account, or the provider right now", not "this request": try the next attempt.
FALLBACK_STATUSES = frozenset({401, 402, 403, 408, 409, 425, 429, 500, 502, 503, 504, 529})
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
                         "te", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization", "server",
                         "date", "set-cookie", "content-type"})
NDJSON = "application/x-ndjson"
# Operations other than chat: OpenAI-format only, passed through to this path under the account's base URL.
OPERATION_PATHS = {"embeddings": "/embeddings", "images": "/images/generations"}


@dataclass(frozen=True)
class Timeouts:
    """Per stage, so that a stalled provider costs seconds, not the whole read timeout, before fallback."""

    first_byte: float = 60.0  # from sending a streamed request to its first bytes
    answer: float = 600.0  # a whole non-streamed answer


@dataclass
class Exchange:
    """One client request on its way through the gateway."""

    call: Call
    client: Dialect
    route: Route
    api_key_id: int | None
    client_path: str
    started: float
    operation: str = "chat"  # or one of OPERATION_PATHS: OpenAI-format pass-through only
    attempts: tuple[Upstream, ...] = ()  # the plan for this request; empty: the route's listed order
    stats: RoutingStats | None = None  # told how each attempt went (strategies read it)
    resilience: Resilience | None = None  # told which failures to remember (cooldowns, marks, breakers)
    skipped: tuple[Skipped, ...] = ()  # targets left out of the plan, named when everything else fails
    fallbacks: int = 0  # attempts that failed before the one answering
    failures: list[str] = field(default_factory=list)  # why each of them failed (X-Quotagate-Failures)
    tried: list[dict[str, Any]] = field(default_factory=list)  # the same for the request log, one dict each
    credentials: CredentialSource | None = None  # subscription tokens, for attempts with an executor


@dataclass
class _Failure:
    status: int
    body: bytes
    wire: Dialect | None  # None: the gateway's own words (e.g. a translation refused)
    upstream: Upstream
    retry_after: str | None = None


class _AttemptFailed(Exception):
    """An attempt failed before anything reached the client; the next one may go."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


def _stage_failure(exc: httpx.HTTPError, clients: UpstreamClients) -> _AttemptFailed:
    """A transport failure of the send, in words that name the stage that failed."""
    if is_timeout(exc):
        if isinstance(exc, httpx.ConnectTimeout) or isinstance(exc.__cause__, aiohttp.ConnectionTimeoutError):
            return _AttemptFailed(f"could not connect within {clients.timeout.connect:g} s", True)
        return _AttemptFailed(f"no answer within {clients.timeout.read:g} s", True)
    return _AttemptFailed(describe_transport_error(exc))


async def forward(exchange: Exchange, clients: UpstreamClients, usage: UsageRecorder,
                  timeouts: Timeouts = Timeouts()) -> Response:
    failures = exchange.failures
    timeouts_only = True  # every attempt timed out: 504, else 502
    rate_limited_only = True  # every attempt answered 429: the client gets 429 and when to come back
    back_in: float | None = None  # the earliest a rate-limited attempt may be tried again, seconds
    last: _Failure | None = None
    route = exchange.route
    attempts = exchange.attempts or route.upstreams
    for index, upstream in enumerate(attempts):
        has_next = index + 1 < len(attempts)
        exchange.fallbacks = index
        attempt_started = time.perf_counter()
        try:
            wire = _dialect_of(upstream)
            request = _encode(exchange, upstream, wire)
        except TranslationError as exc:
            attempt_failed(exchange, upstream, str(exc), attempt_started, label=upstream.account_name)
            last, timeouts_only = _Failure(400, str(exc).encode(), None, upstream), False
            continue
        sender = clients.sender_for(upstream.proxy)
        sessions.attempting(upstream)
        try:
            if upstream.executor is None:  # an API key: the route fixed URL and headers
                response = await sender.send(upstream.base_url + request.path, request.body,
                                             _upstream_headers(upstream, request, exchange.call.stream))
            else:  # a subscription: its executor fetches the token, shapes the request, renews after a 401
                response = await executors.send(upstream, request, exchange.call, sender, exchange.credentials)
            sessions.answered(upstream, response.headers)
        except httpx.HTTPError as exc:
            failed = _stage_failure(exc, clients)
            attempt_failed(exchange, upstream, str(failed), attempt_started)
            timeouts_only = timeouts_only and failed.timed_out
            rate_limited_only = False
            observe_attempt(exchange, upstream, False, attempt_started)
            continue
        except SignInRequired as exc:  # nothing was sent: the account waits for the user, the next one goes
            attempt_failed(exchange, upstream, f"sign in again — {exc}", attempt_started)
            timeouts_only = rate_limited_only = False
            if exchange.resilience is not None:
                exchange.resilience.mark(upstream, SIGN_IN_AGAIN)
            continue
        if response.status_code >= 400:
            body = await _read_and_close(response)
            attempt_failed(exchange, upstream, f"HTTP {response.status_code}", attempt_started, response.status_code)
            timeouts_only = False
            last = _Failure(response.status_code, body, wire, upstream, response.headers.get("retry-after"))
            if response.status_code in FALLBACK_STATUSES:
                cooling = observe_attempt(exchange, upstream, False, attempt_started, response.status_code,
                                   last.retry_after)
                if response.status_code == 429 and cooling is not None:
                    back_in = cooling if back_in is None else min(back_in, cooling)
                else:
                    rate_limited_only = False
            else:
                rate_limited_only = False
                observe_attempt(exchange, upstream, True, attempt_started)  # it answered: the request was at fault
            # With several attempts every fallback-worthy failure goes on; the summary below names them all.
            if (has_next or index > 0) and response.status_code in FALLBACK_STATUSES:
                log.info("%s/%s account %r answered %d; trying the next one", upstream.provider, upstream.model,
                         upstream.account_name, response.status_code)
                continue
            record_request(usage, exchange, upstream, response.status_code, Usage(), error=f"HTTP {response.status_code}",
                    answered=False)
            return _error_response(exchange, last)
        try:
            if exchange.call.stream:
                answer = await _stream_response(exchange, upstream, wire, response, usage, timeouts)
            else:
                answer = await _complete_response(exchange, upstream, wire, response, usage, timeouts,
                                                  clients.timeout.read)
        except _AttemptFailed as exc:
            attempt_failed(exchange, upstream, str(exc), attempt_started)
            timeouts_only = timeouts_only and exc.timed_out
            rate_limited_only = False
            observe_attempt(exchange, upstream, False, attempt_started)
            continue
        observe_attempt(exchange, upstream, True, attempt_started)
        return answer

    message = (f"Every attempt for '{route.requested}' failed: "
               + "; ".join(failures + _skipped_words(exchange.skipped)) + ".")
    if last is not None and len(attempts) == 1 and not exchange.skipped:
        record_request(usage, exchange, last.upstream, last.status, Usage(), error=message, answered=False)
        return _error_response(exchange, last)
    if failures and rate_limited_only:
        record_request(usage, exchange, attempts[-1], 429, Usage(), error=message, answered=False)
        wait = back_in if back_in is not None else 1.0
        raise GatewayError(429, message, "rate_limited", headers={"retry-after": str(max(1, math.ceil(wait)))})
    record_request(usage, exchange, attempts[-1] if attempts else None, 502, Usage(), error=message, answered=False)
    status = 504 if failures and timeouts_only else 502
    headers = {"retry-after": last.retry_after} if last is not None and last.retry_after else None
    raise GatewayError(status, message, "upstream_unavailable", headers=headers)


def attempt_failed(exchange: Exchange, upstream: Upstream, reason: str, started: float, status: int | None = None,
            label: str | None = None) -> None:
    """An attempt failed: named in the client's error and headers, and kept for the request log."""
    reason = reason.rstrip(". ")  # the summary puts its own full stop after the list
    exchange.failures.append(f"{label or _label(exchange, upstream)}: {reason}")
    exchange.tried.append({**_attempt_names(upstream), "status": status, "error": reason,
                           "ms": round((time.perf_counter() - started) * 1000, 1)})


def _attempt_names(upstream: Upstream) -> dict[str, Any]:
    return {"provider": upstream.provider, "model": upstream.model, "accountId": upstream.account_id,
            "account": upstream.account_name}


def _attempt_log(exchange: Exchange, upstream: Upstream | None, status: int, answered: bool
                 ) -> list[dict[str, Any]] | None:
    """Every attempt of a request with its outcome, skipped targets first; None when the one planned attempt
    answered (the row itself says all there is)."""
    if not exchange.tried and not exchange.skipped:
        return None
    log_ = [{**_attempt_names(s.target), "skipped": s.reason, "seconds": None if s.seconds is None
             else round(s.seconds, 1)} for s in exchange.skipped]
    log_ += exchange.tried
    if answered and upstream is not None:
        log_.append({**_attempt_names(upstream), "status": status})
    return log_


def _label(exchange: Exchange, upstream: Upstream) -> str:
    """How an attempt is named in errors: its account, and for a combo also what it asked where."""
    if exchange.route.combo is None:
        return upstream.account_name
    return f"{upstream.provider}/{upstream.model} ({upstream.account_name})"


def observe_attempt(exchange: Exchange, upstream: Upstream, ok: bool, started: float, status: int | None = None,
             retry_after: str | None = None) -> float | None:
    """Tell the strategies' stats and the resilience state how an attempt went; returns the cooldown a
    failure started (seconds), if any."""
    if exchange.stats is not None:
        combo = exchange.route.combo.name if exchange.route.combo is not None else None
        exchange.stats.record(upstream, ok, (time.perf_counter() - started) * 1000, combo)
    if exchange.resilience is None:
        return None
    if ok:
        exchange.resilience.succeeded(upstream)
        return None
    return exchange.resilience.failed(upstream, status, retry_after)


def _skipped_words(skipped: Sequence[Skipped]) -> list[str]:
    return [f"{s.target.provider}/{s.target.model} ({s.target.account_name}) skipped: {s.reason}, "
            f"{describe_wait(s.seconds)}" for s in skipped]


def _dialect_of(upstream: Upstream) -> Dialect:
    if upstream.wire_format not in dialects.FORMATS:  # Deepgram, AssemblyAI: speech to text, nothing else
        raise TranslationError(f"{upstream.provider} only transcribes audio (POST /v1/audio/transcriptions)")
    return dialects.get(upstream.wire_format)


def _encode(exchange: Exchange, upstream: Upstream, wire: Dialect) -> UpstreamRequest:
    call = exchange.call
    path = OPERATION_PATHS.get(exchange.operation)
    if path is not None:  # embeddings, images: OpenAI's shape on both sides, the body passed on
        if wire.name != "openai":
            raise TranslationError(f"{upstream.provider} has no OpenAI-format {path.lstrip('/')} endpoint")
        return UpstreamRequest(path, dumps({**call.payload, "model": upstream.model}))
    if wire is exchange.client:
        if ADDED_DEFAULTS in call.meta:  # the global system prompt or default thinking: into a copy of the payload
            call = for_passthrough(call, upstream.model)
        return wire.passthrough_request(call, upstream.model)
    untranslatable = call.meta.get(UNTRANSLATABLE)
    if untranslatable:  # what only the client's own format can carry (documents, built-in tool results, …)
        raise TranslationError(f"{upstream.provider} speaks {wire.name}, which cannot carry "
                               + "; ".join(untranslatable))
    if call.meta.get(DROPPED_TOOLS):
        log.info("%s speaks %s: the built-in tools %s are left out of this request", upstream.provider, wire.name,
                 ", ".join(call.meta[DROPPED_TOOLS]))
    return wire.encode_request(call, upstream.model)


# --- non-streamed answers ------------------------------------------------------------------------------


async def _complete_response(exchange: Exchange, upstream: Upstream, wire: Dialect, response: UpstreamResponse,
                             usage: UsageRecorder, timeouts: Timeouts, idle: float) -> Response:
    try:
        async with asyncio.timeout(timeouts.answer):
            raw = await response.aread()
    except TimeoutError:
        raise _AttemptFailed(f"the answer was not complete within {timeouts.answer:g} s", True) from None
    except httpx.HTTPError as exc:
        if is_timeout(exc):
            raise _AttemptFailed("the answer stalled: nothing arrived for "
                                 f"{idle:g} s", True) from None
        raise _AttemptFailed(f"the answer broke off: {describe_transport_error(exc)}") from None
    finally:
        await response.aclose()
    payload = _json_object(raw)
    headers = _client_headers(exchange, upstream, response)
    if wire is exchange.client or exchange.operation != "chat":
        tokens = Usage()
        if payload is not None:
            tokens = image_usage(payload) if exchange.operation == "images" else wire.answer_usage(payload)
            if "model" in payload:  # the name the client asked for, the provider's bytes otherwise kept
                edited = replace_model(raw, exchange.route.requested)
                if edited is None:
                    payload["model"] = exchange.route.requested
                    edited = dumps(payload)
                raw = edited
        record_request(usage, exchange, upstream, response.status_code, tokens)
        return Response(raw, status_code=response.status_code, headers=headers,
                        media_type=response.headers.get("content-type", "application/json"))
    try:
        if payload is None:
            raise ValueError("the answer is not a JSON object")
        answer = wire.decode_answer(payload)
        body = exchange.client.encode_answer(answer, exchange.call)
    except (TranslationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        message = f"{upstream.provider} sent an answer the gateway could not read as {wire.name}: {exc}"
        record_request(usage, exchange, upstream, 502, Usage(), error=message)
        raise GatewayError(502, message, "upstream_bad_answer") from None
    record_request(usage, exchange, upstream, response.status_code, answer.usage)
    return Response(dumps(body), status_code=response.status_code, headers=headers, media_type="application/json")


# --- streams -------------------------------------------------------------------------------------------


async def _stream_response(exchange: Exchange, upstream: Upstream, wire: Dialect, response: UpstreamResponse,
                           usage: UsageRecorder, timeouts: Timeouts) -> Response:
    chunks = response.aiter_bytes().__aiter__()
    try:  # wait for the first bytes here, while falling back to the next attempt is still possible
        first = await asyncio.wait_for(chunks.__anext__(), timeouts.first_byte)
    except StopAsyncIteration:  # a 200 with nothing in it: no answer, and nothing sent yet
        await response.aclose()
        raise _AttemptFailed("answered an empty stream") from None
    except asyncio.TimeoutError:
        await response.aclose()
        raise _AttemptFailed(f"no first byte of the stream within {timeouts.first_byte:g} s", True) from None
    except httpx.HTTPError as exc:
        await response.aclose()
        raise _AttemptFailed(f"the stream broke before its first byte: {describe_transport_error(exc)}",
                             is_timeout(exc)) from None
    relay: _StreamRelay
    if wire is exchange.client:
        relay = _PassThroughStream(exchange, upstream, wire, response, usage, first, chunks)
        media_type = response.headers.get("content-type", wire.stream_media_type)
    else:
        relay = _TranslatedStream(exchange, upstream, wire, response, usage, first, chunks)
        media_type = exchange.call.meta.get(STREAM_MEDIA_TYPE) or exchange.client.stream_media_type
    return StreamingResponse(relay.events(), status_code=response.status_code,
                             headers=_client_headers(exchange, upstream, response),
                             media_type=media_type, background=BackgroundTask(relay.finish))


class _StreamRelay:
    def __init__(self, exchange: Exchange, upstream: Upstream, wire: Dialect, response: UpstreamResponse,
                 usage: UsageRecorder, first: bytes, chunks: AsyncIterator[bytes]) -> None:
        self.exchange, self.upstream, self.wire, self.response, self.usage = exchange, upstream, wire, response, usage
        self.first, self.chunks = first, chunks
        self.tokens = Usage()
        self.first_byte: float | None = None
        self.status = response.status_code
        self.error: str | None = None
        self.recorded = False

    async def events(self) -> AsyncIterator[bytes]:
        try:
            if self.first:
                out = self.relay(self.first)
                if out:
                    self.first_byte = time.perf_counter()
                    yield out
            async for chunk in self.chunks:
                # Every event this read completed goes out in one write: still no waiting, far fewer sends.
                out = self.relay(chunk)
                if out:
                    if self.first_byte is None:
                        self.first_byte = time.perf_counter()
                    yield out
            out = self.end()
            if out:
                yield out
        except asyncio.CancelledError:
            self.status, self.error = 499, "client disconnected"
            raise
        except httpx.HTTPError as exc:
            self.status = 502
            self.error = f"{self.upstream.provider} stream broke: {describe_transport_error(exc)}"
            log.warning("%s", self.error)
            yield self.broken(self.error + ". The answer above is incomplete.")
        finally:
            await self.response.aclose()
            self.finish()

    def relay(self, chunk: bytes) -> bytes:
        raise NotImplementedError

    def end(self) -> bytes:
        raise NotImplementedError

    def broken(self, message: str) -> bytes:
        raise NotImplementedError

    def finish(self) -> None:
        if self.recorded:
            return
        self.recorded = True
        ttft = (self.first_byte - self.exchange.started) * 1000 if self.first_byte else None
        record_request(self.usage, self.exchange, self.upstream, self.status, self.tokens, ttft_ms=ttft, error=self.error)


class _PassThroughStream(_StreamRelay):
    """Same format on both sides: whole events relayed as they are, the model renamed, usage read on the way."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.splitter = LineSplitter() if self.wire.stream_media_type == NDJSON else EventSplitter()
        self.rewrite = model_rewriter(self.exchange.route.requested)
        self.marker = self.wire.usage_marker
        self.drop_usage = self.wire.passthrough_chunk_filter(self.exchange.call)

    def relay(self, chunk: bytes) -> bytes:
        out = []
        for event in self.splitter.feed(chunk):
            if self.marker in event:
                found = self.wire.event_usage(event)
                if found is not None:
                    self.tokens = _merge_usage(self.tokens, found)
                if self.drop_usage is not None:
                    kept = self.drop_usage(event)
                    if kept is None:
                        continue
                    event = kept
            out.append(self.rewrite(event))
        return b"".join(out)

    def end(self) -> bytes:
        rest = self.splitter.rest()
        return self.relay(rest) if rest is not None else b""

    def broken(self, message: str) -> bytes:
        return self.exchange.client.stream_encoder(self.exchange.call).fail(message)


class _TranslatedStream(_StreamRelay):
    """Another format upstream: its events decoded into the common form and encoded in the client's."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.decoder = self.wire.stream_decoder()
        self.encoder = self.exchange.client.stream_encoder(self.exchange.call)
        self.failed = False

    def relay(self, chunk: bytes) -> bytes:
        return self._encode(self.decoder.feed(chunk))

    def end(self) -> bytes:
        return self._encode(self.decoder.close())

    def broken(self, message: str) -> bytes:
        if self.failed:
            return b""
        self.failed = True
        return self.encoder.fail(message)

    def _encode(self, events: list[Event]) -> bytes:
        if self.failed or not events:
            return b""
        for position, event in enumerate(events):
            if isinstance(event, (Start, Finish)) and event.usage is not None:
                self.tokens = _merge_usage(self.tokens, event.usage)
            if isinstance(event, StreamError):
                self.status, self.error = 502, f"{self.upstream.provider} stream failed: {event.message}"
                log.warning("%s", self.error)
                self.failed = True
                return self.encoder.encode(events[:position]) + self.encoder.fail(event.message)
        return self.encoder.encode(events)


def _merge_usage(old: Usage, new: Usage) -> Usage:
    """Formats report usage in parts (Anthropic: input at the start, output at the end): the latest
    non-zero count of each kind wins."""
    return Usage(new.prompt or old.prompt, new.completion or old.completion, new.cached or old.cached,
                 new.cache_write or old.cache_write, new.reasoning or old.reasoning)


# --- headers, errors, usage ----------------------------------------------------------------------------


def _upstream_headers(upstream: Upstream, request: UpstreamRequest, stream: bool) -> dict[str, str]:
    headers = dict(upstream.headers)
    headers.update(request.headers)
    headers["content-type"] = "application/json"
    headers["accept"] = "text/event-stream" if stream else "application/json"
    return headers


def _header_value(text: str) -> str:
    """Header values are latin-1 without control characters; names and models may be anything."""
    if text.isascii() and text.isprintable():  # the usual case, without a loop per character
        return text
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _client_headers(exchange: Exchange, upstream: Upstream, response: UpstreamResponse) -> dict[str, str]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
    headers.update(identity_headers(upstream))
    headers["x-quotagate-fallbacks"] = str(exchange.fallbacks)
    if exchange.failures:
        headers["x-quotagate-failures"] = _header_value("; ".join(exchange.failures))[:2000]
    dropped = exchange.call.meta.get(DROPPED_TOOLS)
    if dropped and upstream.wire_format != exchange.client.name:
        headers["x-quotagate-dropped-tools"] = _header_value(", ".join(dropped))[:1000]
    if exchange.call.stream:
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"
    return headers


def identity_headers(upstream: Upstream) -> dict[str, str]:
    return {"x-quotagate-provider": _header_value(upstream.provider),
            "x-quotagate-model": _header_value(upstream.model),
            "x-quotagate-account": _header_value(upstream.account_name)}


def _error_response(exchange: Exchange, failure: _Failure) -> Response:
    """The provider's own error when it speaks the client's format; otherwise its words in the client's
    shape. Keys a provider echoes back ("Incorrect API key provided: sk-…") are masked either way."""
    headers = identity_headers(failure.upstream)
    if failure.retry_after:
        headers["retry-after"] = _header_value(failure.retry_after)
    client = exchange.client
    text = redact(failure.body.decode("utf-8", "replace"))
    payload = _json_object(text.encode())
    if failure.wire is client and payload is not None and "error" in payload:
        log.info("%s: %s answered HTTP %d: %s", exchange.client_path, failure.upstream.provider, failure.status,
                 text[:500])
        return JSONResponse(payload, status_code=failure.status, headers=headers)
    if failure.wire is None:
        message = f"'{exchange.route.requested}' cannot go to {failure.upstream.provider}: {text}"
        return JSONResponse(client.error_body(failure.status, message, "unsupported_request"),
                            status_code=failure.status, headers=headers)
    words = failure.wire.error_message(payload, text.encode()).strip()[:500] or "(empty body)"
    message = f"{failure.upstream.provider} answered HTTP {failure.status}: {words}"
    log.info("%s: %s", exchange.client_path, message)
    return JSONResponse(client.error_body(failure.status, message, f"upstream_{failure.status}"),
                        status_code=failure.status, headers=headers)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


async def _read_and_close(response: UpstreamResponse) -> bytes:
    try:
        return await response.aread()
    except httpx.HTTPError:
        return b""
    finally:
        await response.aclose()


def record_request(usage: UsageRecorder, exchange: Exchange, upstream: Upstream | None, status: int, tokens: Usage,
            ttft_ms: float | None = None, error: str | None = None, answered: bool = True) -> None:
    """The request's one row; `answered` False when `upstream` is a failed attempt already in `tried`."""
    usage.record(path=exchange.client_path, status=status,
                 provider=upstream.provider if upstream else exchange.route.provider,
                 model=upstream.model if upstream else exchange.route.model,
                 account_id=upstream.account_id if upstream else None,
                 api_key_id=exchange.api_key_id, tokens=tokens,
                 latency_ms=(time.perf_counter() - exchange.started) * 1000, ttft_ms=ttft_ms, error=error,
                 attempts=_attempt_log(exchange, upstream, status, answered))
