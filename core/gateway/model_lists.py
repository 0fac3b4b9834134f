"""What each dialect's model list shows: the same routable models, in OpenAI, Gemini and Ollama shapes."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.gateway.requests import client_key_id
from core.gateway.runtime import GatewayRuntime

# Ollama clients compare the server's version before using newer fields (tools, thinking); this is the
# Ollama API level the gateway's /api/chat implements.
OLLAMA_API_VERSION = "0.12.0"
_GEMINI_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]
_NOT_GEMINI = ("image", "transcription")  # no Gemini method reaches them


def model_list_routes(runtime: Callable[[], GatewayRuntime]) -> list[Route]:
    def chat_models(request: Request) -> list[dict[str, Any]]:
        current = runtime()
        client_key_id(request, current.config.key_hashes, current.config.require_keys)
        return current.config.table.model_ids(current.endpoint_models.ids)

    async def openai_models(request: Request) -> Response:
        created = int(time.time())
        data = [{"id": m["id"], "object": "model", "created": created, "owned_by": m["owned_by"]}
                for m in chat_models(request)]
        return JSONResponse({"object": "list", "data": data})

    def kind_list(kind: str) -> Callable[[Request], Awaitable[Response]]:
        """`GET /v1/embeddings`, `GET /v1/images/generations`: the routable models of one kind."""
        async def listed(request: Request) -> Response:
            created = int(time.time())
            data = [{"id": m["id"], "object": "model", "created": created, "owned_by": m["owned_by"], "type": kind}
                    for m in chat_models(request) if m.get("kind") == kind]
            return JSONResponse({"object": "list", "data": data})
        return listed

    async def gemini_models(request: Request) -> Response:
        models = [_gemini_model(m) for m in chat_models(request) if m.get("kind") not in _NOT_GEMINI]
        return JSONResponse({"models": models})

    async def gemini_model(request: Request) -> Response:
        wanted = request.path_params["model"].removeprefix("models/")
        for model in chat_models(request):
            if model["id"] == wanted:
                return JSONResponse(_gemini_model(model))
        return JSONResponse({"error": {"code": 404, "message": f"Model '{wanted}' is not routable here. GET "
                                                               f"/v1beta/models lists the models.",
                                       "status": "NOT_FOUND"}}, status_code=404)

    async def ollama_tags(request: Request) -> Response:
        stamp = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        models = [{"name": m["id"], "model": m["id"], "modified_at": stamp, "size": 0, "digest": "",
                   "details": {"format": "", "family": m["owned_by"], "families": None, "parameter_size": "",
                               "quantization_level": ""}}
                  for m in chat_models(request)
                  if m.get("kind") in ("chat", "alias") and not m["id"].endswith("/*")]
        return JSONResponse({"models": models})

    async def ollama_version(request: Request) -> Response:
        return JSONResponse({"version": OLLAMA_API_VERSION})

    return [
        Route("/v1/models", openai_models, methods=["GET"]),
        Route("/v1/embeddings", kind_list("embedding"), methods=["GET"]),
        Route("/v1/images/generations", kind_list("image"), methods=["GET"]),
        Route("/v1beta/models", gemini_models, methods=["GET"]),
        Route("/v1beta/models/{model:path}", gemini_model, methods=["GET"]),
        Route("/api/tags", ollama_tags, methods=["GET"]),
        Route("/api/version", ollama_version, methods=["GET"]),
    ]


def _gemini_model(model: dict[str, Any]) -> dict[str, Any]:
    methods = ["embedContent"] if model.get("kind") == "embedding" else _GEMINI_METHODS
    return {"name": f"models/{model['id']}", "displayName": model["id"], "description": f"via {model['owned_by']}",
            "supportedGenerationMethods": methods}
