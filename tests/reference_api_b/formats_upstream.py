"""A recording fake of the two upstream formats the strict fakes do not play: OpenAI Responses (`/responses`)
and Ollama (`/api/chat`). It answers "ok" in each format's own shape, non-streamed, and keeps every body."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


class FormatsUpstream:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any]]] = []

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/responses", self.responses, methods=["POST"]),
                                 Route("/api/chat", self.ollama, methods=["POST"])])

    async def responses(self, request: Request) -> Response:
        body = await request.json()
        self.bodies.append((request.url.path, body))
        if not isinstance(body.get("input"), (str, list)):
            return JSONResponse({"error": {"message": "input is required", "type": "invalid_request_error"}}, 400)
        return JSONResponse({
            "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": body["model"],
            "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
            "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}})

    async def ollama(self, request: Request) -> Response:
        body = await request.json()
        self.bodies.append((request.url.path, body))
        if not isinstance(body.get("messages"), list):
            return JSONResponse({"error": "messages is required"}, 400)
        return JSONResponse({"model": body["model"], "created_at": "2025-01-01T00:00:00Z",
                             "message": {"role": "assistant", "content": "ok"}, "done": True, "done_reason": "stop",
                             "prompt_eval_count": 3, "eval_count": 1})
