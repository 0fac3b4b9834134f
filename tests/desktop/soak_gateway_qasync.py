"""Soak the gateway inside a qasync loop: thousands of requests, many connections, one process.

Under qasync, PySide6 6.12.0 drops a reference to `True` on every socket-notifier event; on Python 3.11
the process then aborts with `Fatal Python error: bool_dealloc` (see DESIGN.md). Unit tests never run long
enough to see it, so this script starts the real `CoreServices` gateway on a qasync loop and pushes N
requests through it from an httpx client on that same loop, opening new connections often because every
connection adds notifier events. It exits 0 only if every request got its expected status.

Run it in a subprocess (the abort kills the interpreter, and would take pytest with it):

    QT_QPA_PLATFORM=offscreen python tests/desktop/soak_gateway_qasync.py --requests 5000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import ssl
import sys
import tempfile
import time
from importlib.metadata import version
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Iterator

import httpx
import PySide6
from PySide6.QtWidgets import QApplication

from core.services import CoreServices
from desktop.loop import new_event_loop

# (path, expected status): cheap routes, one that touches the store off-loop, and the JSON 404.
ROUTES: tuple[tuple[str, int], ...] = (
    ("/healthz", 200),
    ("/v1/models", 200),
    ("/api/monitoring/health", 200),
    ("/soak/no-such-route", 404),
)
MAX_ERRORS_SHOWN = 10

# The gateway speaks plain HTTP, so no TLS happens; handing every client this one context only spares
# httpx from loading the CA bundle each time we open a fresh client.
_UNUSED_TLS = ssl.create_default_context()


class Connection(Enum):
    """How a request reaches the server; the first two each cost a new TCP connection."""

    FRESH_CLIENT = "a new AsyncClient, closed after one request"
    CLOSE = "the shared client with `Connection: close`"
    KEEP_ALIVE = "the shared client's pooled connection"


def connection_for(index: int, cycle: int) -> Connection:
    """In every `cycle` requests one opens a new client, one closes its connection, the rest reuse one.

    A cycle coprime with len(ROUTES) (the default 5) gives every route every kind of connection.
    """
    slot = index % cycle
    if slot == 0:
        return Connection.FRESH_CLIENT
    if slot == 1:
        return Connection.CLOSE
    return Connection.KEEP_ALIVE


@dataclass
class Tally:
    total: int
    progress_every: int
    started: float = field(default_factory=time.perf_counter)
    ok: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def record(self, error: str | None) -> None:
        if error is None:
            self.ok += 1
        else:
            self.failed += 1
            if len(self.errors) < MAX_ERRORS_SHOWN:
                self.errors.append(error)
        if self.progress_every and self.done % self.progress_every == 0:
            # Flushed at once: if the process aborts, the last line tells how far it got.
            print(f"soak: progress {self.done}/{self.total} done, {self.failed} failed, "
                  f"{time.perf_counter() - self.started:.1f}s, {singleton_refs()}", flush=True)


def singleton_refs() -> str:
    """The refcounts a notifier bug drains (immortal, hence meaningless, from Python 3.12 on)."""
    return f"refcount(True)={sys.getrefcount(True)} refcount(None)={sys.getrefcount(None)}"


def new_client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        verify=_UNUSED_TLS,
        trust_env=False,  # a proxy from the environment must not stand between us and 127.0.0.1
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )


async def one_request(index: int, shared: httpx.AsyncClient, cycle: int) -> str | None:
    """None when the answer has the expected status, else what went wrong."""
    path, expected = ROUTES[index % len(ROUTES)]
    how = connection_for(index, cycle)
    try:
        if how is Connection.FRESH_CLIENT:
            async with new_client(str(shared.base_url), 1) as client:
                response = await client.get(path)
        else:
            headers = {"Connection": "close"} if how is Connection.CLOSE else None
            response = await shared.get(path, headers=headers)
    except httpx.HTTPError as exc:
        return f"#{index} GET {path} via {how.value}: {type(exc).__name__}: {exc}"
    if response.status_code != expected:
        return f"#{index} GET {path} via {how.value}: {response.status_code}, expected {expected}"
    return None


async def worker(indexes: Iterator[int], shared: httpx.AsyncClient, cycle: int, tally: Tally) -> None:
    # Workers share one iterator; the loop is single-threaded, so each index is taken exactly once.
    for index in indexes:
        tally.record(await one_request(index, shared, cycle))


async def soak(requests: int, concurrency: int, cycle: int, progress_every: int) -> int:
    with tempfile.TemporaryDirectory(prefix="quotagate-soak-") as folder:
        services = CoreServices(data_folder=Path(folder), port=0)
        state = await services.start()
        if not state.running:
            print(f"soak: the gateway did not start: {state.error}", file=sys.stderr, flush=True)
            await services.stop()
            return 2
        refs_before = singleton_refs()
        tally = Tally(total=requests, progress_every=progress_every)
        try:
            async with new_client(state.url, concurrency) as shared:
                indexes = iter(range(requests))
                await asyncio.gather(*(worker(indexes, shared, cycle, tally) for _ in range(concurrency)))
        finally:
            elapsed = time.perf_counter() - tally.started
            await services.stop()
        refs_after = singleton_refs()

    for error in tally.errors:
        print(f"soak: failed {error}", file=sys.stderr)
    rate = tally.ok / elapsed if elapsed > 0 else 0.0
    print(f"soak: {tally.ok}/{requests} ok in {elapsed:.1f}s ({rate:.0f} req/s)")
    print(f"soak: before {refs_before}, after {refs_after}; PySide6 {PySide6.__version__}, "
          f"qasync {version('qasync')} ({type(asyncio.get_running_loop()).__name__}), Python {platform.python_version()}", flush=True)
    return 0 if tally.ok == requests and tally.failed == 0 else 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Soak the gateway inside a qasync loop in one process.")
    parser.add_argument("--requests", type=int, default=5000, help="how many requests in all (5000)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent workers (16)")
    parser.add_argument("--cycle", type=int, default=5,
                        help="in every CYCLE requests, one uses a new client and one sends "
                             "`Connection: close` (5; 2 means every request opens a connection)")
    parser.add_argument("--progress-every", type=int, default=250,
                        help="print a progress line every N requests, 0 for none (250)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or args.cycle < 2 or args.progress_every < 0:
        parser.error("--requests and --concurrency must be >= 1, --cycle >= 2, --progress-every >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])  # must outlive the loop
    loop = new_event_loop(app)  # the desktop app's loop (qasync underneath)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(soak(args.requests, args.concurrency, args.cycle, args.progress_every))


if __name__ == "__main__":
    sys.exit(main())
