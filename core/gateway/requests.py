"""Reading client requests defensively: size limit, JSON, object shape, API keys."""

from __future__ import annotations

from typing import Any, Callable

from starlette.requests import Request

from core.gateway import json_input
from core.gateway.client_keys import hash_key, presented_key
from core.gateway.errors import GatewayError

__all__ = ["GatewayError", "client_key_id", "read_json_object"]


async def read_body(request: Request, limit_bytes: int,
                    too_large: Callable[[int], GatewayError] | None = None) -> bytes:
    """The whole body, refused (413 by default) as soon as it is known to pass `limit_bytes`."""
    refuse = too_large or _too_large
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise refuse(limit_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise refuse(limit_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, limit_bytes: int) -> tuple[dict[str, Any], bytes]:
    """The request's JSON object and its raw bytes, or a 400/413 that says what is wrong."""
    raw = await read_body(request, limit_bytes)
    if not raw.strip():
        raise GatewayError(400, "The request body is empty; send a JSON object.", "invalid_json")
    try:
        payload = json_input.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, a lone surrogate, nested too deeply
        raise GatewayError(400, f"The request body is not valid JSON: {exc}.", "invalid_json") from None
    if not isinstance(payload, dict):
        raise GatewayError(400, f"The request body must be a JSON object, not {type(payload).__name__}.",
                           "invalid_request")
    return payload, raw


def client_key_id(request: Request, key_hashes: dict[str, int], required: bool) -> int | None:
    """The id of the client's API key; 401 when keys are required and none valid was sent."""
    key = presented_key(request.headers.get("authorization"),
                        request.headers.get("x-api-key") or request.headers.get("x-goog-api-key")
                        or (request.query_params.get("key") if request.url.path.startswith("/v1beta") else None))
    key_id = key_hashes.get(hash_key(key)) if key else None
    if required and key_id is None:
        reason = "Invalid or revoked API key" if key else "Missing API key"
        raise GatewayError(401, f"{reason}. Send `Authorization: Bearer <key>` (or `x-api-key`, or `x-goog-api-key` for Gemini clients); create keys "
                                f"in Quotagate's API keys window or with POST /api/keys.", "invalid_api_key")
    return key_id


def _too_large(limit_bytes: int) -> GatewayError:
    return GatewayError(413, f"The request body is larger than the gateway's limit of "
                             f"{limit_bytes // (1024 * 1024)} MiB; raise it with maxBodyMb in PUT /api/settings.",
                        "request_too_large")
