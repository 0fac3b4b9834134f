"""A fake OpenAI-compatible provider. Its behaviour is chosen by the API key a request carries, so one
server can play a healthy account and a failing one side by side:

    sk-ok            answers normally (echoes unknown request fields back under `echo`)
    sk-status-NNN    answers HTTP NNN with an OpenAI-shaped error
    sk-text-NNN      answers HTTP NNN with a plain-text body
    sk-slow          waits 2 s before answering
    sk-break         streams two chunks, then drops the connection
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

STREAM_WORDS = ["Hello", " from", " the", " fake", " upstream", "."]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""  # the body's bytes as they arrived


@dataclass
class FakeUpstream:
    requests: list[Received] = field(default_factory=list)
    stream_closed_early: asyncio.Event | None = None
    closed_early_count: int = 0
    chunk_delay: float = 0.0
    model_reported: str | None = None  # what the upstream claims as model (e.g. a dated snapshot)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
        ])

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(Received(request.url.path, dict(request.headers), body, await request.body()))
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        failure = await self._failure_for(key)
        if failure is not None:
            return failure
        model = self.model_reported or body.get("model")
        if body.get("stream"):
            return StreamingResponse(self._stream(model, key == "sk-break", body), media_type="text/event-stream")
        echo = {k: v for k, v in body.items() if k not in ("model", "messages", "stream")}
        return JSONResponse({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(STREAM_WORDS)},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18,
                      "prompt_tokens_details": {"cached_tokens": 4},
                      "completion_tokens_details": {"reasoning_tokens": 2}},
            "echo": echo,
            "system_fingerprint": "fp_fake",
        })

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(Received(request.url.path, dict(request.headers), body))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return JSONResponse({
            "object": "list", "model": body.get("model"),
            "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(len(inputs))],
            "usage": {"prompt_tokens": 5 * len(inputs), "total_tokens": 5 * len(inputs)},
        })

    async def models(self, request: Request) -> Response:
        failure = await self._failure_for(request.headers.get("authorization", "").removeprefix("Bearer "))
        if failure is not None:
            return failure
        return JSONResponse({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    async def _failure_for(self, key: str) -> Response | None:
        if key.startswith("sk-status-"):
            status = int(key.rsplit("-", 1)[1])
            return JSONResponse({"error": {"message": f"fake failure {status}", "type": "fake_error",
                                           "code": f"fake_{status}"}}, status_code=status)
        if key.startswith("sk-text-"):
            return PlainTextResponse("upstream exploded", status_code=int(key.rsplit("-", 1)[1]))
        if key == "sk-slow":
            await asyncio.sleep(2)
        return None

    async def _stream(self, model: str, break_midway: bool, body: dict[str, Any]) -> AsyncIterator[bytes]:
        finished = False
        try:
            for index, word in enumerate(STREAM_WORDS):
                if break_midway and index == 2:
                    raise ConnectionResetError("fake upstream dropped the connection")
                chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
                         "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                # Split each event across two writes, as real networks do.
                encoded = f"data: {json.dumps(chunk)}\n\n".encode()
                yield encoded[:7]
                yield encoded[7:]
                if self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": model,
                         "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15}}
                yield f"data: {json.dumps(usage)}\n\n".encode()
            yield b"data: [DONE]\n\n"
            finished = True
        finally:
            if not finished and not break_midway:
                self.closed_early_count += 1
