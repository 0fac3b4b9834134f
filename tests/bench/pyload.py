"""A small HTTP/1.1 load client: keep-alive connections, each sending the same POST back to back.

It measures what wrk cannot: the time to the first byte of the response body (for a stream, the first
server-sent event). It is also the fallback load generator when wrk is not installed, though then the
client itself, being Python, limits the throughput it can show.

    python -m tests.bench.pyload --url http://127.0.0.1:PORT/v1/chat/completions --body-file F \
        --concurrency 1 --duration 5 [--warmup 1]

Prints one line: `BENCH_RESULT {json}` with requests, rps and latency/ttfb percentiles in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httptools


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of unsorted values (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


class Run:
    def __init__(self, request: bytes, measure_from: float, measure_until: float) -> None:
        self.request = request
        self.measure_from = measure_from
        self.measure_until = measure_until
        self.latencies: list[float] = []
        self.ttfbs: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}

    def record(self, started: float, first_body: float | None, finished: float, status: int) -> None:
        if not self.measure_from <= started or finished > self.measure_until:
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != 200:
            self.errors += 1
            return
        self.latencies.append(finished - started)
        if first_body is not None:
            self.ttfbs.append(first_body - started)


class Connection(asyncio.Protocol):
    def __init__(self, run: Run, closed: asyncio.Future) -> None:
        self.run = run
        self.closed = closed
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.started = 0.0
        self.first_body: float | None = None
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        self.first_body = None
        self.started = time.perf_counter()
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.run.errors += 1
            assert self.transport is not None
            self.transport.close()

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if self.first_body is None:
            self.first_body = time.perf_counter()

    def on_message_complete(self) -> None:
        now = time.perf_counter()
        self.run.record(self.started, self.first_body, now, self.status)
        if now < self.run.measure_until:
            self.send()
        else:
            assert self.transport is not None
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if time.perf_counter() < self.run.measure_until:
            self.run.errors += 1
        if not self.closed.done():
            self.closed.set_result(None)


async def load(url: str, body: bytes, concurrency: int, duration: float, warmup: float) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Accept: */*\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    run = Run(request, start + warmup, start + warmup + duration)

    async def connection() -> None:
        # Reconnect whenever the server closes on us before the run is over.
        while time.perf_counter() < run.measure_until:
            closed: asyncio.Future = loop.create_future()
            try:
                await loop.create_connection(lambda: Connection(run, closed), host, port)
            except OSError:
                run.errors += 1
                await asyncio.sleep(0.01)
                continue
            await closed

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return {
        "requests": len(run.latencies), "errors": run.errors, "statuses": run.statuses,
        "duration_us": duration * 1e6, "rps": len(run.latencies) / duration,
        "p50_us": percentile(run.latencies, 50) * 1e6, "p90_us": percentile(run.latencies, 90) * 1e6,
        "p99_us": percentile(run.latencies, 99) * 1e6,
        "ttfb_p50_us": percentile(run.ttfbs, 50) * 1e6, "ttfb_p99_us": percentile(run.ttfbs, 99) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    args = parser.parse_args()
    result = asyncio.run(load(args.url, args.body_file.read_bytes(), args.concurrency, args.duration,
                              args.warmup))
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
