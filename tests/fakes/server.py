"""Running an ASGI app on 127.0.0.1 in a background thread with its own loop, as a real peer."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import uvicorn

from core.gateway.server import bind_socket


class ThreadedServer:
    def __init__(self, app: Any) -> None:
        self._sock = bind_socket("127.0.0.1", 0)
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, ws="none",
                                timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def __enter__(self) -> "ThreadedServer":
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("fake server failed to start")
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(5)
