"""What every subscription executor shares: the request it hands the relay, and answers reshaped on the way.

An executor is told, per attempt, the request already encoded in its upstream's wire format (an
`UpstreamRequest` from the dialect), the account's current `Credential` and the client's `Call`; it answers
with the URL, headers and body to send. Where its upstream answers in a shape the wire format's decoders do
not read (Cloud Code wraps Gemini answers; Codex only streams), it reshapes the answer with
`AdaptedResponse`, so the relay and the dialects see the plain wire format.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from core.gateway.dialects.common import Call, UpstreamRequest
from core.gateway.sse import EventSplitter
from core.net.host_map import HOST_MAP_ENV, HostMap
from core.subscriptions.credentials import Credential

if TYPE_CHECKING:
    from core.gateway.routing import Upstream
    from core.gateway.upstream import UpstreamResponse


@dataclass(frozen=True)
class Outgoing:
    """One request to send upstream, exactly as it goes on the wire."""

    url: str
    body: bytes
    headers: dict[str, str]


class Executor:
    """How to reach one kind of subscription upstream. Subclasses set `name` and implement `request`."""

    name: str = ""

    def request(self, upstream: "Upstream", request: UpstreamRequest, credential: Credential,
                call: Call) -> Outgoing:
        raise NotImplementedError

    def adapt(self, response: "UpstreamResponse", call: Call) -> "UpstreamResponse":
        """A successful answer as the wire format's decoders read it (default: as it came)."""
        return response


def json_headers(request: UpstreamRequest, stream: bool, token: str) -> dict[str, str]:
    """The headers every executor starts from: the format's own (e.g. the client's `anthropic-beta`), JSON
    in, the answer framing asked for, and the bearer."""
    headers = dict(request.headers)
    headers["content-type"] = "application/json"
    headers["accept"] = "text/event-stream" if stream else "application/json"
    headers["authorization"] = f"Bearer {token}"
    return headers


def body_object(request: UpstreamRequest) -> dict[str, Any]:
    """The encoded body as an object to amend (the dialects always encode one JSON object)."""
    value = json.loads(request.body)
    if not isinstance(value, dict):
        raise ValueError("the encoded request is not a JSON object")
    return value


def host_mapped(url: str) -> str:
    """`url` through QUOTAGATE_HOST_MAP, for URLs an upstream hands out at run time (Copilot's endpoint);
    catalogue base URLs are already rewritten by the routing table."""
    return _host_map(os.environ.get(HOST_MAP_ENV, "")).rewrite(url)


@lru_cache(maxsize=4)
def _host_map(text: str) -> HostMap:
    return HostMap.parse(text)


def platform_pair() -> tuple[str, str]:
    """(os, arch) the way Node-based tools name them in their user agents: ("linux", "x64")."""
    system = {"darwin": "darwin", "windows": "win32"}.get(platform.system().lower(), platform.system().lower())
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine or "x64")
    return system or "linux", arch


class AdaptedResponse:
    """An upstream answer with its body reshaped on the way; status and headers stay as they came (but for
    the content type, when the new body's differs). `body` reshapes a whole body; `event` each whole SSE
    event of a stream (events cut anywhere on the wire are joined first) and `end` may add a closing piece."""

    def __init__(self, response: "UpstreamResponse", *, body: Callable[[bytes], bytes] | None = None,
                 event: Callable[[bytes], bytes] | None = None, end: Callable[[], bytes] | None = None,
                 content_type: str | None = None) -> None:
        self._response = response
        self._body, self._event, self._end = body, event, end
        self.status_code = response.status_code
        headers: Mapping[str, str] = response.headers
        if content_type is not None:
            headers = {**{k: v for k, v in headers.items() if k.lower() != "content-type"},
                       "content-type": content_type}
        self.headers = headers

    async def aread(self) -> bytes:
        raw = await self._response.aread()
        return self._body(raw) if self._body is not None else raw

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        if self._event is None:
            async for chunk in self._response.aiter_bytes():
                yield chunk
            return
        splitter = EventSplitter()
        async for chunk in self._response.aiter_bytes():
            out = b"".join(self._event(event) for event in splitter.feed(chunk))
            if out:
                yield out
        rest = splitter.rest()
        out = (self._event(rest) if rest is not None else b"") + (self._end() if self._end is not None else b"")
        if out:
            yield out

    async def aclose(self) -> None:
        await self._response.aclose()
