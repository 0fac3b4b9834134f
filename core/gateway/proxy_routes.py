"""The routes clients send model requests to, one set per dialect, all through one request path:
parse in the client's dialect -> resolve the model to a route -> `relay.forward`.

- OpenAI Chat: `/v1/chat/completions`, `/v1/providers/{provider}/chat/completions`, embeddings, images
- Anthropic Messages: `/v1/messages`, `/v1/messages/count_tokens`
- OpenAI Responses: `/v1/responses`
- Gemini: `/v1beta/models/{model}:generateContent`, `:streamGenerateContent`, `:countTokens` (also under
  `/v1/models/…`, where google-genai sends them by default)
- Ollama: `/api/chat`, `/v1/api/chat`
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any, Callable, Coroutine

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway import dialects
from core.gateway.admission import attempts_for, resolve, route_for
from core.gateway.answer_cache import request_key
from core.gateway.dialects.common import STREAM_MEDIA_TYPE, Call
from core.gateway.errors import GatewayError
from core.gateway.images import images_call
from core.gateway.provider_count import count_with_provider
from core.gateway.relay import Exchange, forward
from core.gateway.requests import client_key_id, read_json_object
from core.gateway.routing import RoutingTable
from core.gateway.runtime import GatewayRuntime
from core.gateway.server import CLIENT_WATCH
from core.gateway.token_estimate import count_tokens
from core.subscriptions.credentials import CredentialSource

GEMINI_ACTIONS = ("generateContent", "streamGenerateContent", "countTokens")


def proxy_routes(runtime: Callable[[], GatewayRuntime],
                 credentials: Callable[[], CredentialSource | None] = lambda: None) -> list[Route]:
    async def chat_completions(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai")

    async def provider_chat_completions(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai", provider=request.path_params["provider"])

    async def embeddings(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai", operation="embeddings")

    async def provider_embeddings(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai", operation="embeddings",
                            provider=request.path_params["provider"])

    async def images(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai", operation="images")

    async def provider_images(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "openai", operation="images",
                            provider=request.path_params["provider"])

    async def messages(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "anthropic")

    async def messages_count_tokens(request: Request) -> Response:
        return await _count(request, runtime(), "anthropic")

    async def responses(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "responses")

    async def ollama_chat(request: Request) -> Response:
        return await _serve(request, runtime(), credentials(), "ollama")

    async def gemini_model_action(request: Request) -> Response:
        model, _, action = request.path_params["target"].rpartition(":")
        if not model or action not in GEMINI_ACTIONS:
            raise GatewayError(404, f"Unknown Gemini method '{request.path_params['target']}'. Use "
                                    f"models/{{model}}:{', :'.join(GEMINI_ACTIONS)}.", "not_found")
        model = model.removeprefix("models/")
        if action == "countTokens":
            return await _count(request, runtime(), "gemini", model=model)
        return await _serve(request, runtime(), credentials(), "gemini", model=model, stream=action == "streamGenerateContent")

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/providers/{provider}/chat/completions", provider_chat_completions, methods=["POST"]),
        Route("/v1/providers/{provider}/embeddings", provider_embeddings, methods=["POST"]),
        Route("/v1/images/generations", images, methods=["POST"]),
        Route("/v1/providers/{provider}/images/generations", provider_images, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/messages/count_tokens", messages_count_tokens, methods=["POST"]),
        Route("/v1/responses", responses, methods=["POST"]),
        Route("/v1beta/models/{target:path}", gemini_model_action, methods=["POST"]),
        Route("/v1/models/{target:path}", gemini_model_action, methods=["POST"]),  # google-genai's default
        Route("/api/chat", ollama_chat, methods=["POST"]),
        Route("/v1/api/chat", ollama_chat, methods=["POST"]),
    ]


async def _parse(request: Request, runtime: GatewayRuntime, dialect_name: str, *, model: str | None = None,
                 stream: bool | None = None, provider: str | None = None,
                 operation: str = "chat") -> tuple[Call, int | None, float]:
    started = time.perf_counter()
    config = runtime.config
    key_id = client_key_id(request, config.key_hashes, config.require_keys)
    payload, raw = await read_json_object(request, config.max_body_bytes)
    if provider is not None:
        payload["model"] = _scoped_model(provider, payload.get("model"), config.table)
    if operation != "chat":
        call = _embeddings_call(payload) if operation == "embeddings" else images_call(payload)
    else:
        call = dialects.get(dialect_name).parse_request(payload, model=model, stream=stream)
        if provider is None:  # the payload is the body as sent: a pass-through may edit its bytes instead
            call.raw = raw
        if dialect_name == "gemini":
            call.meta["sse"] = request.query_params.get("alt") == "sse"
            if not call.meta["sse"]:  # without alt=sse Gemini streams one JSON array
                call.meta[STREAM_MEDIA_TYPE] = "application/json"
        beta = request.headers.get("anthropic-beta") if dialect_name == "anthropic" else None
        if beta:  # Claude Code's beta features go on with the request
            call.meta["anthropic_beta"] = beta
        config.defaults.apply(call)  # the global system prompt and default thinking, once per request
    return call, key_id, started


async def _serve(request: Request, runtime: GatewayRuntime, credentials: CredentialSource | None,
                 dialect_name: str, **options: Any) -> Response:
    call, key_id, started = await _parse(request, runtime, dialect_name, **options)
    operation = options.get("operation", "chat")
    route = route_for(runtime, key_id, call.model)  # limits, then policies before combos and strategies

    async def answer() -> Response:
        attempts, skipped = attempts_for(runtime, route)
        exchange = Exchange(call, dialects.get(dialect_name), route, key_id, request.scope["path"], started,
                            operation, tuple(attempts), runtime.stats, runtime.resilience, tuple(skipped),
                            credentials=credentials)
        work = forward(exchange, runtime.clients, runtime.usage, runtime.timeouts)
        if call.stream:  # a streaming response notices the client leaving by itself
            return await work
        return await unless_client_leaves(request, work)

    if call.stream:  # streams are neither cached nor replayed: each is relayed as it happens
        return await answer()
    produce = answer
    if (operation == "chat" and call.temperature == 0
            and request.headers.get("x-quotagate-no-cache", "").lower() != "true"):
        key = request_key(key_id, dialect_name, call.model, call.payload)  # hashed only when it may be used
        produce = functools.partial(runtime.answers.cached, key, answer)
    retry_key = request.headers.get("idempotency-key") or request.headers.get("x-request-id")
    if retry_key:
        return await runtime.answers.once(f"{key_id}:{retry_key[:200]}", produce)
    return await produce()


async def unless_client_leaves(request: Request, work: Coroutine[Any, Any, Response]) -> Response:
    """Run `work`, but cancel it (and so the upstream call) when the client hangs up first: nobody would
    read the answer, and a pending call would hold Quit for the whole grace period. The gateway's own
    server cancels the task when the connection closes (`server.ClientWatch`); under any other ASGI server
    a watcher task per request does it."""
    current = asyncio.current_task()
    assert current is not None
    client = request.scope.get(CLIENT_WATCH)
    if client is None:
        return await _watched_by_task(request, work, current)
    if not client.watch(current):  # gone already: the call is not even started
        work.close()
        return Response(status_code=499)
    try:
        return await work
    except asyncio.CancelledError:
        if not client.unwatch(current):
            raise
        current.uncancel()
        return Response(status_code=499)  # nginx's "client closed request"; no one receives it
    finally:
        client.unwatch(current)


async def _watched_by_task(request: Request, work: Coroutine[Any, Any, Response],
                           current: asyncio.Task[Any]) -> Response:
    left = False

    async def watch() -> None:
        nonlocal left
        await _disconnect(request)
        left = True
        current.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if not left:
            raise
        current.uncancel()
        return Response(status_code=499)
    finally:
        watcher.cancel()


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _count(request: Request, runtime: GatewayRuntime, dialect_name: str, model: str | None = None) -> Response:
    """Anthropic's count_tokens and Gemini's countTokens: the provider's exact count where its API counts,
    else an offline estimate (the route is resolved either way, so an unknown model is refused as it would
    be when sending)."""
    if dialect_name == "anthropic":
        payload, _ = await read_json_object(request, runtime.config.max_body_bytes)
        client_key_id(request, runtime.config.key_hashes, runtime.config.require_keys)
        added = "max_tokens" not in payload
        payload.setdefault("max_tokens", 1)  # count_tokens takes no max_tokens; Messages requires one
        call = dialects.get("anthropic").parse_request(payload)
        if added:
            del call.payload["max_tokens"]
    else:
        call, _, _ = await _parse(request, runtime, dialect_name, model=model, stream=False)
    route = resolve(runtime.config.table, call.model)
    tokens = await count_with_provider(call, route, runtime.clients)
    if tokens is None:
        tokens = count_tokens(call)
    return JSONResponse({"input_tokens": tokens} if dialect_name == "anthropic" else {"totalTokens": tokens})


def _embeddings_call(payload: dict[str, Any]) -> Call:
    if not isinstance(payload.get("input"), (str, list)):
        raise GatewayError(400, "`input` must be a string or an array.", "invalid_request")
    if payload.get("stream"):
        raise GatewayError(400, "Embeddings cannot be streamed.", "invalid_request")
    model = payload.get("model")
    return Call(format="openai", model=model if isinstance(model, str) else "", messages=[], payload=payload)


def _scoped_model(provider: str, model: Any, table: RoutingTable) -> str:
    """`/v1/providers/{p}/…`: add the provider's prefix when missing, refuse another provider's model."""
    if not isinstance(model, str) or not model.strip():
        raise GatewayError(400, "`model` must be a non-empty string.", "invalid_model")
    scope = resolve(table, f"{provider}/-").provider
    first, slash, _ = model.partition("/")
    if slash:
        owner = table.provider_of_prefix(first)
        if owner == scope:
            return model
        if owner is not None and not table.lists_model(scope, model):
            raise GatewayError(400, f"Model '{model}' belongs to '{owner}', not to '{provider}'.",
                               "model_provider_mismatch")
    return f"{provider}/{model}"
