"""Running the ASGI app with uvicorn's `Server.serve()` as a task on whatever loop is current.

We bind the listening socket ourselves so that "port taken" is an exception we can explain (uvicorn would
call `sys.exit`), and we leave signal handling to the program that owns the loop (Qt or the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from typing import Any, Iterator

import uvicorn

from core.i18n import tr

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 5.0


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

    def __init__(self, app: Any, host: str, port: int, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.grace_seconds = grace_seconds
        self._server: _LoopOwnedServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]  # the real one when 0 asked for any free port
        config = uvicorn.Config(
            self.app,
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
