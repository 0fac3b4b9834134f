"""The OpenAI dialect: chat completions (streamed or not), embeddings, provider-scoped chat, models."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.relay import Exchange, forward
from core.gateway.requests import GatewayError, client_key_id, read_json_object
from core.gateway.routing import ResolveError
from core.gateway.runtime import GatewayRuntime


def openai_routes(runtime: Callable[[], GatewayRuntime]) -> list[Route]:
    async def chat_completions(request: Request) -> Response:
        return await _proxy(request, runtime(), "/chat/completions", _check_chat)

    async def embeddings(request: Request) -> Response:
        return await _proxy(request, runtime(), "/embeddings", _check_embeddings)

    async def provider_chat_completions(request: Request) -> Response:
        return await _proxy(request, runtime(), "/chat/completions", _check_chat,
                            provider=request.path_params["provider"])

    async def provider_embeddings(request: Request) -> Response:
        return await _proxy(request, runtime(), "/embeddings", _check_embeddings,
                            provider=request.path_params["provider"])

    async def list_models(request: Request) -> Response:
        current = runtime()
        client_key_id(request, current.config.key_hashes, current.config.require_keys)
        created = int(time.time())
        data = [{"id": m["id"], "object": "model", "created": created, "owned_by": m["owned_by"]}
                for m in current.config.table.model_ids()]
        return JSONResponse({"object": "list", "data": data})

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/providers/{provider}/chat/completions", provider_chat_completions, methods=["POST"]),
        Route("/v1/providers/{provider}/embeddings", provider_embeddings, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
    ]


async def _proxy(request: Request, runtime: GatewayRuntime, upstream_path: str,
                 check: Callable[[dict[str, Any]], bool], provider: str | None = None) -> Response:
    started = time.perf_counter()
    config = runtime.config
    key_id = client_key_id(request, config.key_hashes, config.require_keys)
    payload, _ = await read_json_object(request, config.max_body_bytes)
    model = payload.get("model")
    if provider is not None:
        model = _scoped_model(provider, model, config.table)
    try:
        route = config.table.resolve(model)
    except ResolveError as exc:
        raise GatewayError(exc.status, exc.message, exc.code) from None
    if route.api_format != "openai":
        raise GatewayError(400, f"'{route.provider}' speaks the {route.api_format} format, which "
                                f"{request.url.path} cannot reach yet; use its OpenAI-compatible endpoint "
                                f"as a custom endpoint instead.", "unsupported_format")
    stream = check(payload)
    payload["model"] = route.model
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    exchange = Exchange(route, upstream_path, body, stream, key_id, request.url.path, started)
    return await forward(exchange, runtime.clients, runtime.usage)


def _check_chat(payload: dict[str, Any]) -> bool:
    """Reject what no provider would accept; return whether the client asked for a stream."""
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayError(400, "`messages` must be a non-empty array of {role, content} objects.",
                           "invalid_request")
    if not all(isinstance(m, dict) for m in messages):
        raise GatewayError(400, "Every item of `messages` must be an object with `role` and `content`.",
                           "invalid_request")
    return _stream_flag(payload)


def _check_embeddings(payload: dict[str, Any]) -> bool:
    if not isinstance(payload.get("input"), (str, list)):
        raise GatewayError(400, "`input` must be a string or an array.", "invalid_request")
    if payload.get("stream"):
        raise GatewayError(400, "Embeddings cannot be streamed.", "invalid_request")
    return False


def _stream_flag(payload: dict[str, Any]) -> bool:
    stream = payload.get("stream", False)
    if stream is None:
        return False
    if not isinstance(stream, bool):
        raise GatewayError(400, "`stream` must be true or false.", "invalid_request")
    return stream


def _scoped_model(provider: str, model: Any, table: Any) -> str:
    """`/v1/providers/{p}/…`: add the provider's prefix when missing, refuse another provider's model."""
    if not isinstance(model, str) or not model.strip():
        raise GatewayError(400, "`model` must be a non-empty string.", "invalid_model")
    try:
        scope = table.resolve(f"{provider}/-").provider
    except ResolveError as exc:
        raise GatewayError(exc.status, exc.message, exc.code) from None
    first, slash, _ = model.partition("/")
    if slash:
        owner = table.provider_of_prefix(first)
        if owner == scope:
            return model
        if owner is not None and not table.lists_model(scope, model):
            raise GatewayError(400, f"Model '{model}' belongs to '{owner}', not to '{provider}'.",
                               "model_provider_mismatch")
    return f"{provider}/{model}"
