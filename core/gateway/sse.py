"""Server-sent events passed through whole: split on event boundaries, touched only where needed.

Chunks from the upstream are cut at arbitrary bytes; a client must only ever receive whole events, or a
rewritten model name could be split across two chunks. Events are released the moment they complete, so
this adds no buffering delay.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

_MODEL_FIELD = re.compile(rb'"model"\s*:\s*"(?:[^"\\]|\\.)*"')


class EventSplitter:
    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Whole events (each ending with a blank line) completed by `chunk`."""
        data = self._pending + chunk if self._pending else chunk
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        start = 0
        while True:
            end = data.find(b"\n\n", start)
            if end < 0:
                break
            yield data[start:end + 2]
            start = end + 2
        self._pending = data[start:]

    def rest(self) -> bytes | None:
        """An unterminated last event at end of stream, closed properly."""
        pending, self._pending = self._pending, b""
        return pending + b"\n\n" if pending.strip() else None


class LineSplitter:
    """Newline-delimited JSON (Ollama): whole lines, like `EventSplitter` for SSE."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        data = self._pending + chunk if self._pending else chunk
        start = 0
        while True:
            end = data.find(b"\n", start)
            if end < 0:
                break
            if end > start:
                yield data[start:end + 1]
            start = end + 1
        self._pending = data[start:]

    def rest(self) -> bytes | None:
        pending, self._pending = self._pending, b""
        return pending + b"\n" if pending.strip() else None


def model_rewriter(requested: str):  # type: ignore[no-untyped-def]
    """Replace the first `"model": "…"` of an event with the name the client asked for."""
    replacement = b'"model":' + json.dumps(requested).encode()

    def rewrite(event: bytes) -> bytes:
        return _MODEL_FIELD.sub(lambda _: replacement, event, count=1)

    return rewrite


def event_json(event: bytes) -> dict[str, Any] | None:
    """The JSON object carried by a `data:` event, if any."""
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            payload = line[5:].strip()
            if payload and payload != b"[DONE]":
                try:
                    value = json.loads(payload)
                except ValueError:
                    return None
                return value if isinstance(value, dict) else None
    return None


def error_event(message: str, code: str) -> bytes:
    """The event that ends a broken stream: OpenAI SDKs raise it as an APIError."""
    body = {"error": {"message": message, "type": "upstream_error", "code": code, "param": None}}
    return b"data: " + json.dumps(body).encode() + b"\n\ndata: [DONE]\n\n"
