"""Validation of client request fields, shared by the dialects' `parse_request`.

Every refusal is a 400 whose message names the field in backticks and says what it must be, e.g.
"`messages[2].content` must be a string.", with code "invalid_request"; a bad or missing model is
"invalid_model" in every dialect. A bool never passes for a number (JSON `true` is not 1).
"""

from __future__ import annotations

from typing import Any

from core.gateway.errors import GatewayError


def bad(field: str, what: str) -> GatewayError:
    """The 400 for a bad field: "`field` what." (`what` starts with a verb: "must be an object")."""
    return GatewayError(400, f"`{field}` {what}.", "invalid_request")


def model(value: Any, what: str = "must be a non-empty string") -> str:
    """The model name: a non-empty string, else a 400 with code "invalid_model"."""
    if not isinstance(value, str) or not value.strip():
        raise GatewayError(400, f"`model` {what}.", "invalid_model")
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check(value: Any, kind: type | tuple[type, ...], field: str, noun: str) -> Any:
    """`value` if it is of `kind` (a bool only where `kind` names bool), else "`field` must be <noun>."."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise bad(field, f"must be {noun}")
    return value


def optional(value: Any, kind: type | tuple[type, ...], field: str, noun: str) -> Any:
    """None for an absent (or null) field, else `check`."""
    return None if value is None else check(value, kind, field, noun)


def obj(value: Any, field: str) -> dict[str, Any]:
    return check(value, dict, field, "an object")


def array(value: Any, field: str) -> list[Any]:
    return check(value, list, field, "an array")


def string(value: Any, field: str) -> str:
    return check(value, str, field, "a string")


def non_empty(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise bad(field, "must be a non-empty string")
    return value


def boolean(value: Any, field: str) -> bool | None:
    return optional(value, bool, field, "true or false")


def number(value: Any, field: str) -> int | float | None:
    return optional(value, (int, float), field, "a number")


def integer(value: Any, field: str, *, positive: bool = False) -> int | None:
    if value is None:
        return None
    if not is_int(value) or (positive and value < 1):
        raise bad(field, "must be a positive integer" if positive else "must be an integer")
    return value
