"""The one-shot listener on 127.0.0.1 that receives the browser's redirect at the end of a PKCE sign-in.

It answers exactly one callback on its path (other paths, e.g. the browser's favicon request, get a 404 and it
keeps waiting), shows the user a short page saying how it went, and stops listening — as it also does when the
sign-in is cancelled or times out — so the port is free again.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

from core.i18n import tr

log = logging.getLogger(__name__)

MAX_REQUEST_HEAD = 16 * 1024
READ_TIMEOUT_S = 10.0

# Called with the callback's query parameters; answers (succeeded, message shown in the browser).
Handler = Callable[[dict[str, str]], Awaitable[tuple[bool, str]]]


class CallbackListener:
    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._answered = False
        self._handling = False
        self.port = 0

    async def start(self, port: int = 0) -> int:
        """Listen on 127.0.0.1:`port` (0: any free port); the port actually used. Raises OSError when taken."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def close(self) -> None:
        """Stop listening at once (the port is free); a callback being answered still gets its page."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            if not self._handling:  # wait_closed waits for open connections, the handler's own included
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        if len(head) > MAX_REQUEST_HEAD:
            await _respond(writer, 431, tr("Request too large."))
            return
        method, _, rest = head.decode("latin-1").partition(" ")
        target = rest.partition(" ")[0]
        parts = urlsplit(target)
        if method != "GET" or parts.path != self.path or self._answered:
            await _respond(writer, 404, tr("Not found."))
            return
        self._answered = True
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self._handling = True
        try:
            succeeded, message = await self._handler(params)
        except Exception:  # the page must still answer; the flow records the failure itself
            log.exception("Handling a sign-in callback failed")
            succeeded, message = False, tr("Quotagate could not finish the sign-in (internal error; see the log).")
        finally:
            self._handling = False
        await _respond(writer, 200 if succeeded else 400, message)
        asyncio.get_running_loop().create_task(self.close())  # one callback only: the port is released


async def _respond(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    title = tr("Quotagate sign-in")
    body = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;margin:3em'><h2>{html.escape(title)}</h2>"
            f"<p>{html.escape(message)}</p></body></html>").encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 431: "Request Header Fields Too Large"}[status]
    writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
                 f"Content-Length: {len(body)}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n".encode("ascii")
                 + body)
    try:
        await writer.drain()
    except ConnectionError:
        pass
    writer.close()
