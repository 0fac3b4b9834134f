"""A strict fake of the OpenAI-style image API as OpenAI, xAI, Together and Fireworks serve it
(`POST {base}/images/generations`, Bearer key, JSON body), on both `/v1/…` and Fireworks' `/inference/v1/…`.

It refuses, in OpenAI's error shape, what the real APIs refuse: a missing or unknown key, a provider-prefixed
model, a missing prompt, fields none of them knows. The key `IMAGES_BUSY_KEY` answers 429 with Retry-After.
An answer is `{"created", "data": [{"url" | "b64_json", "revised_prompt"}]}` with `n` images, plus `usage` in
gpt-image-1's shape for that model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.openai_upstream import Received

IMAGES_KEY = "sk-images-fake"
IMAGES_BUSY_KEY = "sk-images-busy"
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
_FIELDS = {"model", "prompt", "n", "size", "quality", "style", "response_format", "user", "background",
           "moderation", "output_format", "output_compression", "width", "height", "steps", "seed",
           "negative_prompt", "aspect_ratio"}


@dataclass
class ImagesUpstream:
    calls: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/images/generations", self.generate, methods=["POST"]),
                                 Route("/inference/v1/images/generations", self.generate, methods=["POST"])])

    async def generate(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        self.calls.append(Received(request.url.path, dict(request.headers), body))
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        if key == IMAGES_BUSY_KEY:
            return _error(429, "Rate limit reached for images per minute.", {"retry-after": "3"})
        if key != IMAGES_KEY:
            return _error(401, "Incorrect API key provided.")
        if request.headers.get("content-type") != "application/json":
            return _error(400, "Content-Type must be application/json.")
        unknown = set(body) - _FIELDS
        if unknown:
            return _error(400, f"Unrecognized request argument supplied: {sorted(unknown)[0]}")
        model, prompt = body.get("model"), body.get("prompt")
        if not isinstance(model, str) or not model:
            return _error(400, "Missing required parameter: 'model'.")
        if model.startswith(("openai/", "xai/", "together/", "fireworks/")):
            return _error(404, f"The model `{model}` does not exist.")
        if not isinstance(prompt, str) or not prompt:
            return _error(400, "Missing required parameter: 'prompt'.")
        count = body.get("n", 1)
        b64 = body.get("response_format") == "b64_json" or model == "gpt-image-1"
        image = {"b64_json": PNG_BASE64} if b64 else {"url": f"https://images.example/{len(self.calls)}.png"}
        answer: dict[str, Any] = {"created": int(time.time()),
                                  "data": [{**image, "revised_prompt": f"{prompt} (revised)"} for _ in range(count)]}
        if model == "gpt-image-1":
            answer["usage"] = {"input_tokens": 12, "output_tokens": 4160, "total_tokens": 4172,
                               "input_tokens_details": {"text_tokens": 12, "image_tokens": 0}}
        return JSONResponse(answer)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error", "param": None,
                                   "code": None}}, status_code=status, headers=headers)
