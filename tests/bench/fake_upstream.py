"""A fast fake OpenAI-compatible provider for the benchmark: a bare asyncio protocol with httptools.

It answers `POST …/chat/completions` with canned OpenAI-shaped JSON, or, when the body asks for
`"stream": true`, with server-sent events: 20 content chunks (each its own HTTP chunk and its own write,
the first one sent together with the headers), a usage chunk when `stream_options.include_usage` is set,
then `data: [DONE]`. Anything else is a 404. Keep-alive, no logging, no per-request allocation beyond
the answer: it must never be what the benchmark measures.

    python -m tests.bench.fake_upstream --port 18080 [--chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket

import httptools

_STREAM_FLAG = re.compile(rb'"stream"\s*:\s*true')
_INCLUDE_USAGE = re.compile(rb'"include_usage"\s*:\s*true')

COMPLETION = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "fake-model",
    "choices": [{"index": 0, "message": {"role": "assistant",
                                         "content": "Hello from the benchmark's fake upstream. " * 4},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 24, "completion_tokens": 40, "total_tokens": 64,
              "prompt_tokens_details": {"cached_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0}},
    "system_fingerprint": "fp_bench",
}, separators=(",", ":")).encode()


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def stream_events(chunks: int, include_usage: bool) -> list[bytes]:
    """The SSE body as HTTP chunks, one per event, ending with the terminating zero chunk."""
    events = []
    for index in range(chunks):
        last = index == chunks - 1
        chunk = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
                 "model": "fake-model", "system_fingerprint": "fp_bench",
                 "choices": [{"index": 0, "delta": {"content": f" token{index}"} if not last else {},
                              "logprobs": None, "finish_reason": "stop" if last else None}]}
        events.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    if include_usage:
        usage = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
                 "model": "fake-model", "choices": [],
                 "usage": {"prompt_tokens": 24, "completion_tokens": chunks, "total_tokens": 24 + chunks}}
        events.append(b"data: " + json.dumps(usage, separators=(",", ":")).encode() + b"\n\n")
    events.append(b"data: [DONE]\n\n")
    return [_http_chunk(e) for e in events] + [b"0\r\n\r\n"]


JSON_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_bench\r\n"
             b"content-length: %d\r\n\r\n" % len(COMPLETION))
SSE_HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\nx-request-id: req_bench\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


class UpstreamProtocol(asyncio.Protocol):
    streams: dict[bool, list[bytes]] = {}

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.busy: asyncio.Task | None = None  # a stream being written; later requests wait for it
        self.queued: list[tuple[bytes, bytes, bool]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy is not None:
            self.busy.cancel()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        request = (self.url, b"".join(self.body), self.parser.should_keep_alive())
        if self.busy is not None:
            self.queued.append(request)
        else:
            self.answer(*request)

    def answer(self, url: bytes, body: bytes, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        if not url.endswith(b"/chat/completions"):
            transport.write(NOT_FOUND)
        elif _STREAM_FLAG.search(body):
            events = self.streams[bool(_INCLUDE_USAGE.search(body))]
            self.busy = asyncio.get_running_loop().create_task(self.stream(events, keep_alive))
            return
        else:
            transport.write(JSON_HEAD + COMPLETION)
        if not keep_alive:
            transport.close()

    async def stream(self, events: list[bytes], keep_alive: bool) -> None:
        """Headers and the first event at once, then one event per loop turn: they arrive apart, as
        a real provider's do, without any artificial delay."""
        transport = self.transport
        assert transport is not None
        transport.write(SSE_HEAD + events[0])
        for event in events[1:]:
            await asyncio.sleep(0)
            if transport.is_closing():
                return
            transport.write(event)
        self.busy = None
        if not keep_alive:
            transport.close()
            return
        while self.queued and self.busy is None:
            self.answer(*self.queued.pop(0))


async def serve(host: str, port: int, chunks: int) -> None:
    UpstreamProtocol.streams = {False: stream_events(chunks, False), True: stream_events(chunks, True)}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(UpstreamProtocol, host, port, backlog=4096, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake upstream on http://{host}:{port}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=20, help="content events per streamed answer (20)")
    args = parser.parse_args()
    try:
        import uvloop  # optional: the fake is fast enough without it
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.chunks))
    else:
        uvloop.run(serve(args.host, args.port, args.chunks))


if __name__ == "__main__":
    main()
