"""What every management route shares: errors as `{"error": "…"}`, defensive body reading, typed field
checks that name the field, ids that fit the store, and running store work off the event loop.

Changes go through `core.configuration`; its refusals (`ConfigError`) become answers here, in `resource`."""

from __future__ import annotations

import asyncio
import functools
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.configuration import Configuration
from core.gateway import json_input
from core.gateway.accounts import AccountStore
from core.secrets import is_masked
from core.settings import ConfigError

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext

T = TypeVar("T")
Handler = Callable[[Request], Awaitable[Response]]

MAX_BODY_BYTES = 1024 * 1024  # management bodies are small; a bigger one is a mistake or an attack
__all__ = ["is_masked"]


class IdConvertor(Convertor[int]):
    """`{id:id}`: a store id — 1 to 18 digits, so anything past SQLite's 64-bit integers is simply no route
    (404) instead of an overflow deep in a query."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


class ManagementError(Exception):
    """An answer `{"error": message}` with a 4xx status; raised anywhere below a management route."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def resource(path: str, **handlers: Handler) -> Route:
    """One route per path with a handler per method, so a 405 lists every method the path takes."""
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        try:
            return await handlers[method](request)
        except ConfigError as exc:  # the configuration service's refusal, in the API's error shape
            return error_response(exc.status, str(exc))

    return Route(path, endpoint, methods=list(handlers))


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run store reads in the default executor (changes go through `configuration`)."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(fn, *args, **kwargs))


def account_store(context: "GatewayContext") -> AccountStore:
    if context.accounts is None:
        raise ManagementError(503, "The account store is not open yet; try again in a moment.")
    return context.accounts


def configuration(context: "GatewayContext") -> Configuration:
    if context.configuration is None:
        raise ManagementError(503, "Configuration changes are not available in this process.")
    return context.configuration


# --- bodies --------------------------------------------------------------------------------------


async def read_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or a 400/413 that says what is wrong."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if allow_empty:
            return {}
        raise ManagementError(400, "The request body is empty; send a JSON object.")
    try:
        payload = json_input.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ValueError as exc:  # not JSON, not UTF-8, a lone surrogate, nested too deeply, not finite
        raise ManagementError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict):
        raise ManagementError(400, f"The request body must be a JSON object, not {_json_type(payload)}.")
    return payload


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def _too_large() -> ManagementError:
    return ManagementError(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB, the management "
                                f"API's limit.")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --- typed fields --------------------------------------------------------------------------------


def text(value: Any, name: str, *, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ManagementError(400, f"`{name}` must be a non-empty string, not {_json_type(value)}.")
    value = value.strip()
    if len(value) > max_length:
        raise ManagementError(400, f"`{name}` is longer than {max_length} characters.")
    return value


def optional_text(value: Any, name: str, *, max_length: int = 200) -> str | None:
    if value is None or value == "":
        return None
    return text(value, name, max_length=max_length)


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ManagementError(400, f"`{name}` must be true or false, not {_json_type(value)}.")
    return value


def integer(value: Any, name: str, *, limit: int = 1_000_000_000) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or int(value) != value:
        raise ManagementError(400, f"`{name}` must be a whole number, not {_json_type(value)}.")
    if abs(value) > limit:
        raise ManagementError(400, f"`{name}` must be between -{limit} and {limit}.")
    return int(value)


def positive_number(value: Any, name: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ManagementError(400, f"`{name}` must be a number greater than 0.")
    return value


def string_map(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.strip() and isinstance(v, str)
                                              for k, v in value.items()):
        raise ManagementError(400, f"`{name}` must be an object whose values are strings.")
    return {k.strip(): v for k, v in value.items()}


# --- query parameters ----------------------------------------------------------------------------


def query_time(request: Request, name: str) -> float | None:
    """Unix seconds, or an ISO 8601 date/time (local time when it names no zone)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            value = datetime.fromisoformat(raw).timestamp()
        except (ValueError, OverflowError, OSError):  # not a date, or one no clock can count to
            raise ManagementError(400, f"`{name}` must be Unix seconds or an ISO 8601 date such as "
                                       f"2025-01-31T12:00:00Z, not {raw[:40]!r}.") from None
    # Past the year 9999 local-time calendars (the usage buckets) overflow: such a bound means nothing anyway.
    if not math.isfinite(value) or not 0 <= value <= _LAST_SECOND:
        raise ManagementError(400, f"`{name}` must be Unix seconds between 0 and {_LAST_SECOND:.0f} "
                                   f"(the end of the year 9999).")
    return value


_LAST_SECOND = 253402300799.0


def query_int(request: Request, name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ManagementError(400, f"`{name}` must be a whole number, not {raw[:40]!r}.") from None
    if not minimum <= value <= maximum:
        raise ManagementError(400, f"`{name}` must be between {minimum} and {maximum}.")
    return value


def scrub(message: str, *secrets: str | None) -> str:
    """Remove secrets a provider or proxy may echo back from a message meant for an answer."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "•••")
    return message
