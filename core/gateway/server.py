"""Running the ASGI app with uvicorn's `Server.serve()` as a task on whatever loop is current.

We bind the listening socket ourselves so that "port taken" is an exception we can explain (uvicorn would
call `sys.exit`), and we leave signal handling to the program that owns the loop (Qt or the CLI).

No peer can exhaust the gateway (`ServerLimits`, enforced by `LimitedHttpProtocol`): the request line and
headers must arrive within a deadline and stay under a size and count (431 otherwise), a body that stops
arriving ends the request (408), and past a cap on open connections the longest-idle one makes room for the
new one (a slowloris crowd cannot lock out a real client); the soft open-file limit is raised at start.
Each kind of refusal is logged at most once per interval, never once per socket. A refusal is JSON in the
shape of the path it was sent to, as far as the path arrived: `{"error": "…"}` on management paths, the
dialect's own error shape elsewhere (OpenAI's when no path arrived at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterator

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.i18n import tr

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 5.0
# The scope key under which a request finds its connection's `ClientWatch`: a handler can have its task
# cancelled when the client hangs up, without a watcher task of its own per request.
CLIENT_WATCH = "quotagate.client_watch"


class PortInUseError(OSError):
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        super().__init__(
            errno.EADDRINUSE,
            tr("Port {port} on {host} is already in use by another program. Stop that program, or run Quotagate "
               "on another port: Settings > General > Port, `quotagate serve --port N`, or QUOTAGATE_PORT=N.",
               port=port, host=host),
        )

    def __str__(self) -> str:
        return self.strerror or super().__str__()


@dataclass(frozen=True)
class ServerLimits:
    header_timeout: float = 10.0  # request line + headers, from the first byte (or the connection) on
    body_timeout: float = 60.0  # the longest pause between two pieces of a request body
    max_header_bytes: int = 64 * 1024  # request line + every header name and value
    max_headers: int = 100
    max_connections: int | None = None  # None: from the open-file limit (see `connection_cap`)
    log_interval: float = 60.0  # one log line per kind of refusal per interval


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raise the soft RLIMIT_NOFILE towards the hard one (1,024 is common and far too few for a gateway
    that holds a client and an upstream socket per request). Returns the soft limit in force."""
    try:
        import resource
    except ImportError:  # Windows
        return 8192
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("Could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    return soft if soft != resource.RLIM_INFINITY else wanted


def connection_cap(file_limit: int) -> int:
    """Client connections to keep open at most: half the files left after a reserve (each request may
    also hold an upstream socket), at least 32."""
    return max(32, (file_limit - 256) // 2)


class _OncePerInterval:
    """A log line per kind of event per interval, with how many happened since the last one."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        self._count[kind] = self._count.get(kind, 0) + 1
        if now - self._last.get(kind, -self.interval) >= self.interval:
            count, self._count[kind] = self._count[kind], 0
            self._last[kind] = now
            log.warning(message + " (%d time(s) in the last %.0f s)", *args, count, self.interval)


def refusal_body(path: str | None, status: int, message: str, code: str) -> Any:
    """The error as the app's own routes would shape it on `path`: `{"error": message}` on management
    paths, the dialect's shape on the others (OpenAI's when the path is unknown)."""
    # Imported here: the server module stays free of the app's modules (the app imports them long before
    # any refusal; `GatewayServer.start` calls this once so no refusal pays for the import).
    from core.gateway import dialects
    from core.gateway.management.guard import is_management_path

    if path is not None and is_management_path(path):
        return {"error": message}
    return dialects.for_path(path or "/").error_body(status, message, code)


def request_path(target: bytes) -> str | None:
    """The path of a request target, however much of it arrived (None when no path arrived): enough to
    choose the error shape for a request refused before routing."""
    try:
        raw = httptools.parse_url(target).path or b""
    except httptools.HttpParserInvalidURLError:  # cut short, or not a URL at all
        raw = target.split(b"?", 1)[0]
    path = raw.decode("latin-1")
    if "%" in path:
        path = urllib.parse.unquote(path)
    return path if path.startswith("/") else None


def _error_bytes(status: int, reason: str, message: str, code: str, path: str | None = None) -> bytes:
    """A complete HTTP/1.1 answer with a JSON error in the shape of `path`, closing the connection."""
    body = json.dumps(refusal_body(path, status, message, code)).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"connection: close\r\n\r\n").encode("ascii") + body


class ClientWatch:
    """The handler tasks of one connection that are to be cancelled when its client hangs up (a plain answer
    nobody would read). Kept apart from the protocol so that the scope holding it makes no reference cycle."""

    __slots__ = ("gone", "_tasks")

    def __init__(self) -> None:
        self.gone = False
        self._tasks: dict[asyncio.Task[Any], bool] = {}  # task -> cancelled because the client left

    def watch(self, task: asyncio.Task[Any]) -> bool:
        """Cancel `task` if the client leaves before `unwatch`; False when it already has."""
        if self.gone:
            return False
        self._tasks[task] = False
        return True

    def unwatch(self, task: asyncio.Task[Any]) -> bool:
        """Stop watching `task`; True when it was cancelled because the client left."""
        return self._tasks.pop(task, False)

    def client_left(self) -> None:
        self.gone = True
        for task in self._tasks:
            self._tasks[task] = True
            task.cancel()


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of `ServerLimits` (set per server by `limited_protocol`)."""

    limits = ServerLimits()
    cap = 1024
    once = _OncePerInterval(60.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One lazy timer per connection for the header and body deadlines: moving a deadline only writes
        # `_due`, and the timer, when it fires early, re-arms itself for the new time. Arming and
        # cancelling a loop timer three times per request cost more than the rest of these limits.
        self._timer: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._on_due: Any = None  # what runs at `_due`; None: no deadline
        self._client_watch = ClientWatch()
        self._header_bytes = 0
        self._header_count = 0
        self._answered = False  # we wrote our own error answer: ignore what else arrives
        self._reading_headers = False
        self._idle_since = time.monotonic()

    # -- connections ----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.cap and not self._make_room():
            self.once.warning("cap", "Gateway at its cap of %d open connections: refusing new ones", self.cap)
            transport.abort()
            return
        self._arm(self.limits.header_timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._client_watch.client_left()
        self._disarm()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _make_room(self) -> bool:
        """Close the connection idle longest (no request in progress) so that this one can be served."""
        idle = [c for c in self.connections if c is not self and isinstance(c, LimitedHttpProtocol) and c._idle()]
        if not idle:
            return False
        victim = min(idle, key=lambda c: c._idle_since)
        self.once.warning("cap", "Gateway at its cap of %d open connections: closing the longest idle ones",
                          self.cap)
        victim.transport.abort()
        return True

    def _idle(self) -> bool:
        return (self.cycle is None or self.cycle.response_complete) and not self.transport.is_closing()

    # -- reading ----------------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._answered:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answer(400, "Bad Request", "Protocol upgrades (WebSocket) are not served here.", "bad_request")
        except httptools.HttpParserError:
            if not self._answered:
                self.once.warning("malformed", "Refused malformed HTTP requests")
                self._answer(400, "Bad Request", "The request is not valid HTTP/1.1.", "bad_request")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[CLIENT_WATCH] = self._client_watch  # type: ignore[literal-required]
        self._reading_headers = True
        self._header_bytes = self._header_count = 0
        self._idle_since = time.monotonic()
        if self._on_due is None:
            self._arm(self.limits.header_timeout, self._headers_too_slow)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)  # first, so that a refusal knows as much of the path as arrived
        self._count_header_bytes(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._count_header_bytes(len(name) + len(value))
        if self._header_count > self.limits.max_headers:
            self._too_large(f"more than {self.limits.max_headers} headers")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm(self.limits.body_timeout, self._body_too_slow)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self.limits.body_timeout, self._body_too_slow)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._idle_since = time.monotonic()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:  # uvicorn's own refusals, in our shape
        self._answer(400, "Bad Request", msg, "bad_request")

    # -- limits -----------------------------------------------------------------------------------------
    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_header_bytes:
            self._too_large(f"more than {self.limits.max_header_bytes // 1024} KiB of request line and headers")

    def _too_large(self, what: str) -> None:
        self.once.warning("431", "Refused requests with %s", what)
        self._answer(431, "Request Header Fields Too Large", f"The request has {what}; send less.",
                     "headers_too_large")
        raise httptools.HttpParserError("headers too large")  # stops the parser; data_received ignores it

    def _headers_too_slow(self) -> None:
        if not self._reading_headers:  # connected and never began a request: just close
            self.once.warning("idle", "Closed connections that sent no request within %.0f s",
                              self.limits.header_timeout)
            self.transport.close()
            return
        self.once.warning("slow", "Closed connections whose headers took longer than %.0f s",
                          self.limits.header_timeout)
        self._answer(408, "Request Timeout", f"The request headers did not arrive within "
                                             f"{self.limits.header_timeout:.0f} s.", "request_timeout")

    def _body_too_slow(self) -> None:
        if self.flow.read_paused:  # we stopped reading, not the client: wait on
            self._arm(self.limits.body_timeout, self._body_too_slow)
            return
        self.once.warning("body", "Ended requests whose body stalled for %.0f s", self.limits.body_timeout)
        if self.cycle is not None:
            self.cycle.disconnected = True  # the app sees the client gone
            self.cycle.message_event.set()
            if not self.cycle.response_started:
                self._answer(408, "Request Timeout", f"The request body stalled for more than "
                                                     f"{self.limits.body_timeout:.0f} s.", "request_timeout")
                return
        self.transport.close()

    def _answer(self, status: int, reason: str, message: str, code: str) -> None:
        self._answered = True
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(_error_bytes(status, reason, message, code, self._path()))
            self.transport.close()

    def _path(self) -> str | None:
        """The path of the request being refused (the latest one begun), as much of it as arrived."""
        url = getattr(self, "url", b"")  # set by each `on_message_begin`
        return request_path(url) if url else None

    def _arm(self, seconds: float, callback: Any) -> None:
        self._due = self.loop.time() + seconds
        self._on_due = callback
        if self._timer is None or self._timer.when() > self._due:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(self._due, self._deadline_reached)

    def _disarm(self) -> None:
        self._on_due = None  # a pending timer finds nothing due and stops

    def _deadline_reached(self) -> None:
        self._timer = None
        callback = self._on_due
        if callback is None:
            return
        if self._due - self.loop.time() > 0.001:  # the deadline moved on since this timer was set
            self._timer = self.loop.call_at(self._due, self._deadline_reached)
            return
        self._on_due = None
        callback()


def limited_protocol(limits: ServerLimits, cap: int) -> type[LimitedHttpProtocol]:
    """A protocol class carrying this server's limits (uvicorn instantiates the class it is given)."""
    return type("GatewayHttpProtocol", (LimitedHttpProtocol,),
                {"limits": limits, "cap": cap, "once": _OncePerInterval(limits.log_interval)})


class _LoopOwnedServer(uvicorn.Server):
    """uvicorn's server minus its signal handlers: the loop's owner decides when we stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or `PortInUseError`."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on accepted sockets whose proto says TCP, and
    # without it every answer waits ~40 ms for Nagle and delayed ACKs (socket.create_server leaves proto 0).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUseError(host, port) from exc
        raise
    sock.setblocking(False)
    return sock


class GatewayServer:
    """One listening gateway. `start()` returns once it accepts connections; `stop()` drains and frees it."""

    def __init__(self, app: Any, host: str, port: int, grace_seconds: float = DEFAULT_GRACE_SECONDS,
                 limits: ServerLimits | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.grace_seconds = grace_seconds
        self.limits = limits or ServerLimits()
        self._server: _LoopOwnedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        cap = self.limits.max_connections or connection_cap(raise_open_file_limit())
        refusal_body("/api", 400, "", "")  # imports what refusals need now, not during a flood of them
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]  # the real one when 0 asked for any free port
        config = uvicorn.Config(
            self.app,
            http=limited_protocol(self.limits, cap),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            ws="none",
            timeout_graceful_shutdown=self.grace_seconds,
            timeout_keep_alive=30,
        )
        self._server = _LoopOwnedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="quotagate-gateway")
        while not self._server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # re-raise why it stopped
                raise RuntimeError("The gateway stopped while starting.")
            await asyncio.sleep(0.005)
        log.info("Gateway listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish for `grace_seconds`, then free the port."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.grace_seconds + 2)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 2)
        except Exception:
            log.exception("The gateway stopped with an error")
        self._server = None
        self._task = None
        log.info("Gateway on %s:%d stopped", self.host, self.port)
