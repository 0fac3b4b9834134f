"""The long fuzz run, against a real `quotagate serve` process: many more fuzzed requests than CI runs
(tests/fuzz), raw malformed HTTP, then faults under load — a slowloris crowd while a normal client keeps
getting answers (p99), and 16 concurrent configuration writers — with the process's RSS watched throughout.

    .venv/bin/python -m tests.bench.fuzz --requests 20000 --idle-sockets 1100
    .venv/bin/python -m tests.bench --only fuzz        # the same, as a section of the benchmark

Exits 1 when any rule is broken (a 5xx of our own making, an error not in its route's shape, the process
gone, RSS past the bound, a normal client slower than the target or a write that failed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.bench import processes
from tests.bench.processes import Child, free_port, wait_until_ready
from tests.fuzz.engine import Fuzzer, gateway_routes

REPO = Path(__file__).resolve().parents[2]


def serve(folder: Path, port: int) -> Child:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTAGATE_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({"QUOTAGATE_DATA_DIR": str(folder / "data"), "QUOTAGATE_KEYRING": "off", "HOME": str(folder),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    child = Child("quotagate serve", [sys.executable, "-m", "core.cli", "serve", "--port", str(port)], env, None,
                  cwd=REPO)
    wait_until_ready(child, port)
    return child


async def normal_client_latency(url: str, seconds: float) -> list[float]:
    """A well-behaved client's request latencies (ms), one request after another."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = await client.get("/v1/models")
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"the normal client got {response.status_code} during the slowloris run")
    return latencies


def open_idle_sockets(port: int, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never finishes
            sockets.append(sock)
        except OSError:
            break  # our own file limit: enough sockets to make the point
    return sockets


async def concurrent_writers(url: str, count: int = 16) -> int:
    """How many of `count` simultaneous configuration writes failed."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        responses = await asyncio.gather(*(client.post("/api/models/alias", json={
            "alias": f"bench-{i}-{time.monotonic_ns()}", "model": "openai/gpt-4.1"}) for i in range(count)))
    return sum(1 for r in responses if r.status_code >= 300)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="quotagate-fuzz-") as folder:
        port = free_port()
        child = serve(Path(folder), port)
        url = f"http://127.0.0.1:{port}"
        process = psutil.Process(child.pid)
        try:
            rss_start = process.memory_info().rss
            started = time.monotonic()
            fuzzer = Fuzzer(url, gateway_routes(), seed=args.seed)
            await fuzzer.run(args.requests, concurrency=args.concurrency)
            await fuzzer.raw(rounds=args.raw_rounds)
            fuzz_seconds = time.monotonic() - started
            rss_fuzzed = process.memory_info().rss

            idle = open_idle_sockets(port, args.idle_sockets)
            try:
                latencies = await normal_client_latency(url, args.slowloris_seconds)
            finally:
                for sock in idle:
                    sock.close()
            failed_writes = await concurrent_writers(url)
            alive = child.alive() and processes.http_get_ok(port)
            rss_end = process.memory_info().rss
        finally:
            child.stop()
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else float("nan")
    return {
        "requests": fuzzer.result.requests, "raw_requests": fuzzer.result.raw_requests,
        "fuzz_seconds": round(fuzz_seconds, 1), "statuses": dict(sorted(fuzzer.result.statuses.items())),
        "failures": [str(f) for f in fuzzer.result.failures], "alive": alive,
        "rss_mib": {"start": rss_start >> 20, "after_fuzz": rss_fuzzed >> 20, "end": rss_end >> 20},
        "slowloris": {"idle_sockets": len(idle), "normal_requests": len(latencies),
                      "p50_ms": round(statistics.median(latencies), 2), "p99_ms": round(p99, 2)},
        "concurrent_writers": {"count": 16, "failed": failed_writes},
    }


def verdict(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    broken = [f"fuzz: {f}" for f in result["failures"][:20]]
    if not result["alive"]:
        broken.append("the gateway process is gone or no longer answers")
    if result["rss_mib"]["end"] - result["rss_mib"]["start"] > args.rss_growth_mib:
        broken.append(f"RSS grew by more than {args.rss_growth_mib} MiB: {result['rss_mib']}")
    if not result["slowloris"]["p99_ms"] < args.p99_ms:
        broken.append(f"a normal client's p99 was {result['slowloris']['p99_ms']} ms among "
                      f"{result['slowloris']['idle_sockets']} idle sockets (target < {args.p99_ms} ms)")
    if result["concurrent_writers"]["failed"]:
        broken.append(f"{result['concurrent_writers']['failed']} of 16 concurrent writes failed")
    return broken


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="fuzzed HTTP requests (20000)")
    parser.add_argument("--concurrency", type=int, default=8, help="fuzzing clients at once (8)")
    parser.add_argument("--raw-rounds", type=int, default=20, help="passes over the raw malformed requests (20)")
    parser.add_argument("--idle-sockets", type=int, default=1100, help="slowloris sockets (1100)")
    parser.add_argument("--slowloris-seconds", type=float, default=5.0, help="normal client run among them (5)")
    parser.add_argument("--p99-ms", type=float, default=50.0, help="target p99 of the normal client (50)")
    parser.add_argument("--rss-growth-mib", type=int, default=200, help="allowed RSS growth (200)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def report(result: dict[str, Any], broken: list[str]) -> str:
    lines = [f"fuzz: {result['requests']} requests + {result['raw_requests']} raw in {result['fuzz_seconds']} s; "
             f"statuses {result['statuses']}",
             f"RSS MiB {result['rss_mib']}; alive {result['alive']}",
             f"slowloris: {result['slowloris']}", f"16 concurrent writers: {result['concurrent_writers']['failed']} failed",
             "PASS" if not broken else "FAIL\n  " + "\n  ".join(broken)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = asyncio.run(run(args))
    finally:
        processes.stop_all()
    broken = verdict(result, args)
    print(report(result, broken), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
