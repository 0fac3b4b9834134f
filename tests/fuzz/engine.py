"""A seeded fuzzer for the gateway's HTTP surface: every route with hostile bodies, headers, query strings,
path ids, methods and content types, plus raw malformed HTTP over a socket.

It judges each answer by the rules every route promises: no 5xx of our own making (a 502/503/504 about an
upstream on a gateway path is an answer, not a failure), and every error is JSON in the route's own shape
(`{"error": "…"}` on management paths; the dialect's shape on gateway paths). Used by the CI suite
(tests/fuzz/test_fuzz_routes.py, small) and the long benchmark run (`python -m tests.bench.fuzz`).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from core.gateway import dialects
from core.gateway.management.guard import is_management_path

FIELDS = ["name", "provider", "apiKey", "priority", "isActive", "defaultModel", "proxy", "prefix", "baseUrl",
          "apiType", "type", "headers", "customHeaders", "alias", "model", "global", "providers", "requireApiKey",
          "maxBodyMb", "upstreamReadTimeoutS", "priceOverrides", "allowedHosts", "password", "id", "backupId",
          "messages", "stream", "max_tokens", "contents", "input", "prompt", "tools", "temperature", "system"]
QUERY_KEYS = ["provider", "limit", "offset", "since", "until", "bucket", "status", "search", "model", "alias", "key"]
SCALARS: list[Any] = [None, True, False, 0, -1, 1, 2**31, 2**63, 2**64, -(2**63) - 1, 10**30, 1e308, -1e308, 1.5,
                      "", " ", "x", "模型", "a\u0000b", "a\r\nb", "•••", "sk-…abcd", "http://127.0.0.1:9",
                      "ftp://x", "socks5://u:p@127.0.0.1", "openai/gpt-4.1", "openai", "../../etc/passwd",
                      "x" * 5000, "%00", "\u202e", "😀"]
QUERY_VALUES = ["", "-1", "0", "1", "99999999999999999999", "1e400", "nan", "inf", "%00", "%ED%A0%80", "%FF",
                "2025-13-45", "9999-12-31T23:59:59", "0001-01-01", "2025-01-01T00:00:00+99:00", "'; DROP TABLE x;--",
                "hour", "day", "ok", "error", "429", "a" * 3000, "%F0%9F%98%80", "openai/gpt-4.1"]
IDS = ["0", "1", "2", str(2**63 - 1), str(2**63), "9" * 30, "-1", "abc", "1.5", "%00", "%2F", "１"]
TARGETS = ["gpt-4.1:generateContent", "x:streamGenerateContent", "a:countTokens", "..%2F..%2Fetc", "%00", "模型",
           "a" * 2000, "models/x:generateContent", ""]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=xyz", "multipart/form-data", "application/json; charset=utf-16",
                 "application/octet-stream", "\u00ff/garbage", None]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO"]
RAW_REQUESTS: list[bytes] = [
    b"NOT HTTP AT ALL\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n", b"GET /v1/models\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nBad Header\r\n\r\n", b"GET /v1/models HTTP/1.1\r\nHost: a\x00b\r\n\r\n",
    b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
    b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
    b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n folded: value\r\n\r\n",
    b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"GET /v1/models HTTP/1.1\nHost: 127.0.0.1\n\n",
    b"GET /api/\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"GET http://evil.example/v1/models HTTP/1.1\r\n\r\n",
    b"GET /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"\xed\xa0\x80" * 10 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"\r\n\r\n\r\n", b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
]


@dataclass
class Failure:
    what: str
    request: str
    status: int | None
    body: str

    def __str__(self) -> str:
        return f"{self.what}: {self.request} -> {self.status} {self.body[:300]!r}"


@dataclass
class Result:
    requests: int = 0
    raw_requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


class Fuzzer:
    def __init__(self, base_url: str, routes: list[tuple[str, set[str]]], seed: int = 0) -> None:
        self.base_url = base_url
        self.routes = routes
        self.random = random.Random(seed)
        self.result = Result()
        self.port = int(base_url.rsplit(":", 1)[1])

    # -- generators -------------------------------------------------------------------------------------
    def value(self, depth: int = 0) -> Any:
        roll = self.random.random()
        if depth < 3 and roll < 0.15:
            return [self.value(depth + 1) for _ in range(self.random.randint(0, 4))]
        if depth < 3 and roll < 0.3:
            return {self.random.choice(FIELDS + ["x", "", "$sealed"]): self.value(depth + 1)
                    for _ in range(self.random.randint(0, 4))}
        return self.random.choice(SCALARS)

    def body(self) -> bytes:
        roll = self.random.random()
        if roll < 0.45:
            payload = {name: self.value() for name in self.random.sample(FIELDS, self.random.randint(0, 6))}
            return json.dumps(payload, ensure_ascii=self.random.random() < 0.5).encode("utf-8", "surrogatepass")
        special = [
            b"", b"   ", b"null", b"[]", b'"text"', b"42", b"{", b'{"a": NaN}', b'{"a": Infinity}',
            b"[" * 3000 + b"]" * 3000, b'{"a": ' + b"[" * 50_000, b'{"name": "\\ud800"}', b'{"name": "\xed\xa0\x80"}',
            b'{"\\udfff": 1}', b"\xff\xfe{}", b'{"n": 1' + b"0" * 5000 + b"}", b'{"a": 1, "a": 2}',
            bytes(self.random.getrandbits(8) for _ in range(self.random.randint(1, 300))),
            b'{"messages": [' + b'{"role": "user", "content": "x"},' * 2000 + b'{}]}',
        ]
        return self.random.choice(special)

    def path(self, template: str) -> str:
        def fill(match: re.Match[str]) -> str:
            kind = match.group(1)
            if kind.startswith("id"):
                return self.random.choice(IDS)
            if kind.endswith(":path"):
                return self.random.choice(TARGETS)
            return quote(str(self.random.choice(SCALARS))[:60], safe="")
        return re.sub(r"\{([^}]+)\}", fill, template)

    def query(self) -> str:
        if self.random.random() < 0.5:
            return ""
        pairs = [f"{self.random.choice(QUERY_KEYS)}={self.random.choice(QUERY_VALUES)}"
                 for _ in range(self.random.randint(1, 4))]
        return "?" + "&".join(pairs)

    def headers(self) -> dict[str, bytes]:
        headers: dict[str, str] = {}
        content_type = self.random.choice(CONTENT_TYPES)
        if content_type is not None:
            headers["content-type"] = content_type
        extras = {"authorization": ["Bearer x", "Bearer " + "a" * 500, "Basic Og==", "bearer", "Bearer \u00e9"],
                  "x-api-key": ["x", ""], "cookie": ["auth_token=zzz", "auth_token="],
                  "x-backup-passphrase": ["pw", "x" * 2000], "accept": ["*/*", "text/event-stream"],
                  "sec-fetch-site": ["same-origin", "none"], "x-goog-api-key": ["k"]}
        for name in self.random.sample(list(extras), self.random.randint(0, 3)):
            headers[name] = self.random.choice(extras[name])
        return {k: v.encode("utf-8") for k, v in headers.items()}  # raw bytes: non-ASCII values too

    # -- judging ----------------------------------------------------------------------------------------
    def judge(self, method: str, url_path: str, response: httpx.Response, sent: str) -> None:
        self.result.statuses[response.status_code] = self.result.statuses.get(response.status_code, 0) + 1
        path = url_path.split("?", 1)[0]
        management = is_management_path(path)
        status = response.status_code
        if status >= 500 and (management or status == 500 or not 502 <= status <= 504):
            self.fail("5xx answer", sent, response)
            return
        if status < 400 or method == "HEAD":
            return
        try:
            body = response.json()
        except ValueError:
            self.fail("error answer is not JSON", sent, response)
            return
        if _protocol_refusal(body):
            return  # refused by the HTTP layer before any route (an unknown method, say): its own JSON shape
        expected = {"error": ""} if management else _skeleton(dialects.for_path(path).error_body(400, "m", "c"))
        if not _fits(body, expected if management else expected):
            self.fail("error answer not in the route's shape", sent, response)

    def fail(self, what: str, sent: str, response: httpx.Response | None, status: int | None = None,
             text: str = "") -> None:
        if len(self.result.failures) < 50:
            self.result.failures.append(Failure(what, sent, response.status_code if response else status,
                                                response.text if response is not None else text))

    # -- runs -------------------------------------------------------------------------------------------
    async def run(self, count: int, concurrency: int = 4) -> Result:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(count):
                queue.put_nowait(i)

            async def worker() -> None:
                while not queue.empty():
                    queue.get_nowait()
                    await self.one(client)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return self.result

    async def one(self, client: httpx.AsyncClient) -> None:
        template, methods = self.random.choice(self.routes)
        method = self.random.choice(sorted(methods)) if self.random.random() < 0.8 else self.random.choice(METHODS)
        url = self.path(template) + self.query()
        content = self.body() if method not in ("GET", "HEAD") or self.random.random() < 0.1 else None
        headers = self.headers()
        sent = f"{method} {url[:200]} {headers} body={content[:120] if content else None!r}"
        try:
            response = await client.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            self.fail("no answer", sent, None, text=repr(exc))
            return
        finally:
            self.result.requests += 1
        self.judge(method, url, response, sent)

    async def raw(self, rounds: int = 1) -> Result:
        for _ in range(rounds):
            for request in RAW_REQUESTS:
                await self.raw_one(request)
        return self.result

    async def raw_one(self, request: bytes) -> None:
        self.result.raw_requests += 1
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        answer = b""
        try:
            writer.write(request)
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(65536), 15)
            while chunk := await asyncio.wait_for(reader.read(65536), 0.3):  # the rest, unless kept alive
                answer += chunk
        except asyncio.TimeoutError:
            if not answer:
                self.fail("raw request left hanging", repr(request[:80]), None, text="no answer within 15 s")
        except ConnectionError:
            pass
        finally:
            writer.close()
        if not answer:
            return  # closed without a word: allowed for bytes that are not HTTP at all
        head, _, body = answer.partition(b"\r\n\r\n")
        try:
            status = int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            self.fail("raw answer is not HTTP", repr(request[:80]), None, text=repr(answer[:200]))
            return
        if status >= 500:
            self.fail("raw 5xx", repr(request[:80]), None, status, repr(answer[:300]))
        elif status >= 400 and b"chunked" not in head.lower():
            try:
                json.loads(body)
            except ValueError:
                self.fail("raw error answer is not JSON", repr(request[:80]), None, status, repr(answer[:300]))


def routes_of(app: Any) -> list[tuple[str, set[str]]]:
    """(path template, methods) of every route of a Starlette app."""
    return [(route.path, set(route.methods or {"GET"})) for route in app.routes]


def gateway_routes() -> list[tuple[str, set[str]]]:
    """The route table of the gateway app as it is built (no store needed: routes only reach it per request)."""
    from core.gateway.app import build_app
    from core.gateway.context import GatewayContext

    return routes_of(build_app(GatewayContext(store=None, address=lambda: ("127.0.0.1", 0), runtime=None)))  # type: ignore[arg-type]


PROTOCOL_CODES = {"bad_request", "headers_too_large", "request_timeout"}  # core/gateway/server.py's refusals


def _protocol_refusal(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") in PROTOCOL_CODES and isinstance(error.get("message"), str)


def _skeleton(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _skeleton(v) for k, v in value.items()}
    return type(value).__name__


def _fits(body: Any, expected: Any) -> bool:
    """`body` has `expected`'s keys (nested) with a string `message`/`error` where expected gives one."""
    if isinstance(expected, dict):
        return isinstance(body, dict) and all(k in body and _fits(body[k], v) for k, v in expected.items())
    if expected in ("str", ""):
        return isinstance(body, str)
    return True  # numbers and codes: their presence is enough
