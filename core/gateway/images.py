"""`POST /v1/images/generations`: OpenAI's image API, passed on to any OpenAI-format provider that draws
(OpenAI, xAI, Together, Fireworks) through the same routing, fallback and usage recording as chat. Only what
would make every provider refuse is checked here; everything else reaches the provider as the client sent it."""

from __future__ import annotations

from typing import Any

from core.gateway.dialects.common import Call, Usage
from core.gateway.errors import GatewayError

MAX_IMAGES = 10  # OpenAI's own limit of `n`
MAX_PROMPT = 32_000  # characters (gpt-image-1's limit; DALL·E's are lower and the provider says so)


def images_call(payload: dict[str, Any]) -> Call:
    """The request as a `Call` the relay can route (its body goes on untranslated), or a 400 naming the field."""
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise GatewayError(400, "`prompt` must be a non-empty string describing the image.", "invalid_request")
    if len(prompt) > MAX_PROMPT:
        raise GatewayError(400, f"`prompt` is longer than {MAX_PROMPT:,} characters.", "invalid_request")
    count = payload.get("n")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_IMAGES):
        raise GatewayError(400, f"`n` must be a whole number from 1 to {MAX_IMAGES}.", "invalid_request")
    if payload.get("stream"):
        raise GatewayError(400, "Image generation cannot be streamed through the gateway; leave out `stream`.",
                           "invalid_request")
    model = payload.get("model")
    return Call(format="openai", model=model if isinstance(model, str) else "", messages=[], payload=payload)


def image_usage(answer: dict[str, Any]) -> Usage:
    """gpt-image-1's `usage` (`input_tokens`, `output_tokens`: the image's own tokens); other image models
    answer none, and are priced per image, which the usage cannot say."""
    usage = answer.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    counts = [usage.get(name) for name in ("input_tokens", "output_tokens")]
    prompt, completion = (value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
                          for value in counts)
    return Usage(prompt=prompt, completion=completion)
