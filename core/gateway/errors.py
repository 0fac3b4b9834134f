"""Errors as answers: every failure reaches the client as JSON in its dialect's error shape."""

from __future__ import annotations

from starlette.responses import JSONResponse

class GatewayError(Exception):
    """One error type for the whole request path: status, code, message and headers (e.g. `Retry-After`).
    Raised anywhere below a route; the client's dialect renders it in its own error shape."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def openai_error(status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """`{"error": {"message", "type", "code", "param"}}` as OpenAI's API answers."""
    error_type = _OPENAI_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": message, "type": error_type, "code": code, "param": None}}
    return JSONResponse(body, status_code=status, headers=headers)
