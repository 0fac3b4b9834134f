"""Parsing a client's JSON so that what parses can also be stored, logged and answered.

`json.loads` alone lets through text that breaks later: raw UTF-8 for a lone surrogate (ED A0 80) and the
escape `"\\ud800"` both become a Python string that cannot be encoded again — a database write, a log line
or the answer then fails — and nesting a few thousand levels deep raises `RecursionError`. Here all three
are a `ValueError` the caller turns into a 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class JsonInputError(ValueError):
    """The body is not JSON we accept; the message says why (in English, for the API)."""


def loads(raw: bytes, **options: Any) -> Any:
    """`raw` parsed as strict UTF-8 JSON; `JsonInputError` for anything unusable (see the module doc)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInputError(f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JsonInputError("it is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if _SURROGATE_ESCAPE.search(raw) and not _encodable(value):
        raise JsonInputError("it holds a lone UTF-16 surrogate escape such as \\ud800, which is not text")
    return value


def _encodable(value: Any) -> bool:
    """Every string in `value` (keys too) is real Unicode. Iterative: the depth is the client's."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
