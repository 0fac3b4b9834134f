"""Replacing the top-level `"model"` string of a JSON object in its bytes, without parsing and dumping it.

A pass-through request or answer changes only its model name; re-serialising the whole body for that costs
more than everything else the gateway does with it, and changes bytes the client or provider chose (spacing,
key order, escapes). `replace_model` edits the one value in place and says None whenever it cannot be sure
it found the one top-level key, so the caller falls back to parse and dump.

Why the scan is sound on valid JSON (the callers have parsed, or will parse, the same bytes): a `"` byte not
preceded by a backslash outside a string opens one (after a closing quote JSON allows only `,:]}` or
whitespace, never the `m` of `model`), so an unescaped `"model"` followed by `:` is an object key; it is a
key of the top-level object when, outside strings, exactly one bracket is open before it.
"""

from __future__ import annotations

import functools
import json
import re

_NAME = b'"model"'
_KEY = re.compile(rb'"model"\s*:\s*')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# An ASCII letter written as an escape (`"mod\u0065l"`): a key the scan cannot see. Encoders only escape
# non-ASCII and control characters, so bodies with this are rare; they take the parse-and-dump path.
_ESCAPED_LETTER = re.compile(rb"\\u00[4-7][0-9a-fA-F]")


def replace_model(raw: bytes, model: str) -> bytes | None:
    """`raw` (a JSON object) with its top-level `model` string set to `model`; None when the body has no
    such key, has it more than once, its value is not a string, or a key may be spelled with escapes."""
    if _ESCAPED_LETTER.search(raw):
        return None
    found = None
    depth = 0
    position = 0
    start = raw.find(_NAME)
    while start >= 0:
        if not (start and raw[start - 1] == 0x5C):  # `\"model"` is an escaped quote inside a string
            depth += _depth_change(raw, position, start)
            position = start
            if depth == 1:
                key = _KEY.match(raw, start)
                if key is not None:
                    if found is not None:  # a duplicate key: JSON readers take the last; leave it to them
                        return None
                    found = key
        start = raw.find(_NAME, start + len(_NAME))
    if found is None:
        return None
    value = _STRING.match(raw, found.end())
    if value is None:
        return None
    return raw[:value.start()] + _encoded(model) + raw[value.end():]


def _depth_change(raw: bytes, start: int, end: int) -> int:
    """Brackets opened minus closed in raw[start:end], strings left out; `start` lies outside any string."""
    opened = raw.count(b"{", start, end) + raw.count(b"[", start, end)
    closed = raw.count(b"}", start, end) + raw.count(b"]", start, end)
    if not opened + closed:
        return 0
    if start == 0 and opened == 1 and not closed:  # the object's own brace and no other: depth 1
        return 1
    between = _STRING.sub(b"", raw[start:end])  # brackets inside strings do not count
    return between.count(b"{") + between.count(b"[") - between.count(b"}") - between.count(b"]")


@functools.lru_cache(maxsize=512)
def _encoded(model: str) -> bytes:
    return json.dumps(model, ensure_ascii=False).encode()
