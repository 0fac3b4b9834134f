"""Errors as answers: every failure reaches the client as JSON in its dialect's error shape."""

from __future__ import annotations


class GatewayError(Exception):
    """One error type for the whole request path: status, code, message and headers (e.g. `Retry-After`).
    Raised anywhere below a route; the client's dialect renders it in its own error shape."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers
