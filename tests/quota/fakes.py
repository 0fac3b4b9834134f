"""A real HTTP server on 127.0.0.1 standing in for the quota services, reached through QUOTAGATE_HOST_MAP.

Routes answer with scripted replies (status, JSON or raw body, optional delay) and every request is recorded
with its headers, so tests can check what the service would have received. Requests carry the host they
were meant for in `X-Forwarded-Host` (set by the host map), which lets one server play several services.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    host: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, list[str]] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str, str | None], list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reply(self, method: str, path: str, *replies: Reply, host: str | None = None, **one: Any) -> None:
        """Answer `method path` (optionally only for requests meant for `host`) with `replies` in turn, the
        last one repeating; or with a single `Reply(**one)`."""
        self._routes[(method.upper(), path, host)] = list(replies) or [Reply(**one)]

    def received(self, path: str | None = None, host: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (path is None or r.path == path) and (host is None or r.host == host)]

    def start(self) -> "FakeServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_reply(self, method: str, path: str, host: str) -> Reply:
        with self._lock:
            for key in ((method, path, host), (method, path, None)):
                replies = self._routes.get(key)
                if replies:
                    return replies.pop(0) if len(replies) > 1 else replies[0]
        return Reply(404, {"error": {"message": f"no fake route for {method} {path} ({host})"}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                host = headers.get("x-forwarded-host", headers.get("host", ""))
                fake.requests.append(Recorded(self.command, parts.path, host, headers, body, parse_qs(parts.query)))
                reply = fake._next_reply(self.command, parts.path, host)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body if reply.body is not None else json.dumps(reply.json).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up (a timeout test); nothing to answer
                    pass

            do_GET = do_POST = _serve

        return Handler
