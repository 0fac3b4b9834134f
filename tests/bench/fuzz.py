"""The long fuzz run, against a real `quotagate serve` process: many more fuzzed requests than CI runs
(tests/fuzz), raw malformed HTTP, then faults under load — a slowloris crowd while a normal client keeps
getting answers (p99), 16 concurrent configuration writers, and kill -9 while chat requests (through a fake
upstream) and configuration writes are under way, then a restart on the same data folder that must find the
store intact — with the process's RSS watched throughout.

The gateway is started the way a user's shell would start it, with the soft open-file limit at 1,024
(`--file-limit`): its own raising of that limit at start is what has to carry the slowloris crowd.

    .venv/bin/python -m tests.bench.fuzz --requests 20000 --idle-sockets 1100
    .venv/bin/python -m tests.bench --only fuzz        # the same, as a section of the benchmark

Prints a table with a PASS/FAIL per target and exits 1 when any is missed (a 5xx of our own making, an error
not in its route's shape, the process gone, RSS past the bound, a normal client slower than the target, a
write that failed, or a store that lost or broke anything across the kill).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.bench import processes
from tests.bench.load import chat_body
from tests.bench.processes import Child, free_port, wait_for_port, wait_until_ready
from tests.fuzz.engine import Fuzzer, gateway_routes

REPO = Path(__file__).resolve().parents[2]
MODEL = "bench/fake-model"  # the custom endpoint tests/bench/setup_store.py creates, at the fake upstream
CHAT = "/v1/chat/completions"


def environment(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTAGATE_")
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({"QUOTAGATE_DATA_DIR": str(folder / "data"), "QUOTAGATE_KEYRING": "off", "HOME": str(folder),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    return env


@contextlib.contextmanager
def soft_file_limit(limit: int | None) -> Iterator[None]:
    """Our own soft RLIMIT_NOFILE at `limit` for as long as it takes to spawn a child (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if limit is None:
        yield
        return
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def serve(folder: Path, port: int, file_limit: int | None = None) -> Child:
    """`quotagate serve` on `folder`, started with the soft open-file limit at `file_limit`."""
    with soft_file_limit(file_limit):
        child = Child("quotagate serve", [sys.executable, "-m", "core.cli", "serve", "--port", str(port)],
                      environment(folder), None, cwd=REPO)
    wait_until_ready(child, port)
    return child


def file_limit_of(pid: int) -> int:
    return psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE)[0]


def start_upstream(folder: Path) -> tuple[Child, int]:
    """The benchmark's fake OpenAI upstream, and a data folder whose `bench/…` endpoint points at it."""
    port = free_port()
    child = Child("fake upstream", [sys.executable, "-m", "tests.bench.fake_upstream", "--port", str(port)],
                  environment(folder), None, cwd=REPO)
    wait_for_port(port)
    subprocess.run([sys.executable, "-m", "tests.bench.setup_store", "--data-dir", str(folder / "data"),
                    "--upstream", f"http://127.0.0.1:{port}"], env=environment(folder), cwd=REPO, check=True,
                   timeout=60)
    return child, port


async def normal_client_latency(url: str, seconds: float) -> list[float]:
    """A well-behaved client's request latencies (ms), one request after another: the model list and a
    chat request through the fake upstream (which needs a file of its own for the upstream socket)."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            chat = len(latencies) % 2 == 1
            started = time.perf_counter()
            if chat:
                response = await client.post(CHAT, content=chat_body(MODEL, False),
                                             headers={"content-type": "application/json"})
            else:
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


class KillUnderLoad:
    """Chat clients (plain and streamed) and configuration writers against one gateway; SIGKILL it while
    they run; remember what was acknowledged before the kill, which a restart must find in the store."""

    def __init__(self, url: str, chat_clients: int, writers: int) -> None:
        self.url = url
        self.chat_clients = chat_clients
        self.writers = writers
        self.killed_at: float | None = None
        self.chats_answered: list[float] = []  # when each 200 arrived (monotonic)
        self.chat_failures: list[str] = []  # before the kill
        self.write_failures: list[str] = []  # before the kill
        self.aliases: list[str] = []
        self.accounts: list[str] = []
        self.max_body_mb: float | None = None  # the last acknowledged value (writer 0 alone writes it)

    def _failed(self, into: list[str], what: str) -> None:
        if self.killed_at is None and len(into) < 20:
            into.append(what)

    async def _chat(self, index: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            sent = 0
            while self.killed_at is None:
                stream = (sent + index) % 3 == 0
                sent += 1
                try:
                    async with client.stream("POST", CHAT, content=chat_body(MODEL, stream),
                                             headers={"content-type": "application/json"}) as response:
                        body = await response.aread()
                    if response.status_code == 200 and (not stream or b"[DONE]" in body):
                        self.chats_answered.append(time.monotonic())
                    else:
                        self._failed(self.chat_failures, f"{response.status_code} {body[:120]!r}")
                except httpx.HTTPError as exc:
                    self._failed(self.chat_failures, f"{type(exc).__name__}: {exc}")

    async def _write(self, writer: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            step = 0
            while self.killed_at is None:
                step += 1
                name = f"kill-{writer}-{step}"
                value = round(100 + step / 100, 2)  # rises with each write
                kind = "setting" if writer == 0 and step % 2 == 0 else "account" if step % 2 == 0 else "alias"
                try:
                    if kind == "setting":
                        response = await client.put("/api/settings", json={"maxBodyMb": value})
                    elif kind == "account":
                        response = await client.post("/api/providers", json={
                            "provider": "openai", "name": name, "apiKey": f"sk-{name}-0123456789abcdef"})
                    else:
                        response = await client.post("/api/models/alias", json={"alias": name, "model": MODEL})
                except httpx.HTTPError as exc:
                    self._failed(self.write_failures, f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code >= 300:
                    self._failed(self.write_failures, f"{response.status_code} {response.text[:120]}")
                elif self.killed_at is None:  # acknowledged before the kill: must survive it
                    if kind == "setting":
                        self.max_body_mb = value
                    else:
                        (self.accounts if kind == "account" else self.aliases).append(name)

    async def run(self, child: Child, seconds: float) -> None:
        tasks = [asyncio.create_task(self._chat(i)) for i in range(self.chat_clients)]
        tasks += [asyncio.create_task(self._write(w)) for w in range(self.writers)]
        await asyncio.sleep(seconds)
        child.process.kill()  # SIGKILL: no shutdown, no flush, mid-request and mid-transaction
        self.killed_at = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, child.process.wait)
        await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()


def usage_rows(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        return db.execute("SELECT COUNT(*) FROM usage_row").fetchone()[0]


async def after_restart(url: str, database: Path, load: KillUnderLoad, rows_before: int) -> dict[str, Any]:
    """What the restarted gateway and its store say about what was acknowledged before the kill."""
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as db:
        integrity = "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        aliases = set((await client.get("/api/models/alias")).json()["aliases"])
        accounts = {a["name"] for a in (await client.get("/api/providers")).json()["connections"]}
        max_body_mb = (await client.get("/api/settings")).json().get("maxBodyMb")
        logs = await client.get("/api/usage/logs", params={"limit": 500})
        chat = await client.post(CHAT, content=chat_body(MODEL, False), headers={"content-type": "application/json"})
    assert load.killed_at is not None
    settled = sum(1 for t in load.chats_answered if t <= load.killed_at - 1.0)  # well past a batch's gathering
    rows = usage_rows(database) - rows_before
    return {
        "integrity_check": integrity,
        "chats_answered": len(load.chats_answered), "chat_failures": load.chat_failures,
        "writes_acknowledged": len(load.aliases) + len(load.accounts) + (load.max_body_mb is not None),
        "write_failures": load.write_failures,
        "aliases_lost": sorted(set(load.aliases) - aliases), "accounts_lost": sorted(set(load.accounts) - accounts),
        "setting_acknowledged": load.max_body_mb, "setting_after": max_body_mb,
        "setting_kept": load.max_body_mb is None or (max_body_mb is not None and max_body_mb >= load.max_body_mb),
        "usage_rows": rows, "usage_rows_expected_at_least": settled,
        "usage_logs_status": logs.status_code,
        "usage_logs_rows": len(logs.json().get("items", logs.json().get("logs", []))) if logs.status_code == 200 else 0,
        "chat_after_restart": chat.status_code,
    }


async def fuzz_phase(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The fuzzed requests and raw malformed HTTP, on a gateway of their own (they change and delete
    whatever configuration they hit)."""
    port = free_port()
    child = serve(folder, port, args.file_limit)
    process = psutil.Process(child.pid)
    try:
        rss_start = process.memory_info().rss
        started = time.monotonic()
        fuzzer = Fuzzer(f"http://127.0.0.1:{port}", gateway_routes(), seed=args.seed)
        await fuzzer.run(args.requests, concurrency=args.concurrency)
        await fuzzer.raw(rounds=args.raw_rounds)
        fuzz_seconds = time.monotonic() - started
        alive = child.alive() and processes.http_get_ok(port)
        rss_end = process.memory_info().rss
    finally:
        child.stop()
    return {
        "requests": fuzzer.result.requests, "raw_requests": fuzzer.result.raw_requests,
        "fuzz_seconds": round(fuzz_seconds, 1), "statuses": dict(sorted(fuzzer.result.statuses.items())),
        "failures": [str(f) for f in fuzzer.result.failures], "alive": alive,
        "rss_mib": {"start": rss_start >> 20, "end": rss_end >> 20},
    }


async def faults_phase(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Slowloris, concurrent writers, then kill -9 under load and a restart, on a clean store whose
    `bench/…` endpoint answers through the fake upstream."""
    upstream, _ = start_upstream(folder)
    port = free_port()
    child = serve(folder, port, args.file_limit)
    url = f"http://127.0.0.1:{port}"
    process = psutil.Process(child.pid)
    database = folder / "data" / "quotagate.sqlite"
    try:
        file_limit_running = file_limit_of(child.pid)
        rss_start = process.memory_info().rss
        idle = open_idle_sockets(port, args.idle_sockets)
        try:
            await asyncio.sleep(0.5)  # let the gateway accept them all
            files_open = process.num_fds()
            latencies = await normal_client_latency(url, args.slowloris_seconds)
        finally:
            for sock in idle:
                sock.close()
        failed_writes = await concurrent_writers(url)
        alive = child.alive() and processes.http_get_ok(port)
        rss_end = process.memory_info().rss

        rows_before = usage_rows(database)
        load = KillUnderLoad(url, args.kill_chat_clients, args.kill_writers)
        await load.run(child, args.kill_after_seconds)
        killed_by = child.process.returncode
        child.stop()
        port = free_port()
        started = time.monotonic()
        with soft_file_limit(args.file_limit):
            child = Child("quotagate serve (restarted)", [sys.executable, "-m", "core.cli", "serve", "--port",
                                                          str(port)], environment(folder), None, cwd=REPO)
        kill: dict[str, Any] = {"after_s": args.kill_after_seconds, "chat_clients": args.kill_chat_clients,
                                "writers": args.kill_writers, "exit_code": killed_by, "restart_s": None}
        try:
            wait_until_ready(child, port)
            kill["restart_s"] = time.monotonic() - started
        except RuntimeError as exc:
            print(f"fuzz: the gateway did not start again after kill -9: {exc}", flush=True)
        if kill["restart_s"] is not None:
            kill.update(await after_restart(f"http://127.0.0.1:{port}", database, load, rows_before))
    finally:
        child.stop()
        upstream.stop()
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 2 else float("nan")
    return {
        "alive": alive, "rss_mib": {"start": rss_start >> 20, "end": rss_end >> 20},
        "file_limit": {"at_start": args.file_limit, "in_gateway": file_limit_running},
        "slowloris": {"idle_sockets": len(idle), "gateway_files_open": files_open, "normal_requests": len(latencies),
                      "p50_ms": round(statistics.median(latencies), 2), "p99_ms": round(p99, 2)},
        "concurrent_writers": {"count": 16, "failed": failed_writes},
        "kill": kill,
    }


def raise_own_file_limit() -> None:
    """This process opens the slowloris crowd: it needs more than the 1,024 files a shell may give it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    raise_own_file_limit()
    with tempfile.TemporaryDirectory(prefix="quotagate-fuzz-") as folder:
        root = Path(folder)
        (root / "fuzz").mkdir()
        (root / "faults").mkdir()
        fuzzed = await fuzz_phase(root / "fuzz", args)
        faults = await faults_phase(root / "faults", args)
    return {**fuzzed, "faults": faults, "targets": {"p99_ms": args.p99_ms, "rss_growth_mib": args.rss_growth_mib}}


def targets(result: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(measure, measured, target, passed) per line of the report; `passed` None for a figure alone."""
    goals, faults = result["targets"], result["faults"]
    sl, kill, limit = faults["slowloris"], faults["kill"], faults["file_limit"]
    rss, rss_faults = result["rss_mib"], faults["rss_mib"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (f"fuzz: {result['requests']:,} requests + {result['raw_requests']:,} raw", f"{result['fuzz_seconds']} s",
         "", None),
        ("fuzz: rules broken (5xx of ours, error not in the route's shape)", str(len(result["failures"])), "0",
         not result["failures"]),
        ("fuzz: gateway alive and answering afterwards", "yes" if result["alive"] else "no", "yes", result["alive"]),
        ("fuzz: RSS growth, MiB (start -> end)", f"{rss['end'] - rss['start']} ({rss['start']} -> {rss['end']})",
         f"<= {goals['rss_growth_mib']}", rss["end"] - rss["start"] <= goals["rss_growth_mib"]),
        ("soft file limit: started with -> in the gateway", f"{limit['at_start']} -> {limit['in_gateway']}", "", None),
        ((f"slowloris: {sl['idle_sockets']:,} idle sockets ({sl['gateway_files_open']:,} files open in the "
          f"gateway); normal client p50 / p99 ms ({sl['normal_requests']:,} requests)"),
         f"{sl['p50_ms']} / {sl['p99_ms']}", f"p99 < {goals['p99_ms']:g} ms", sl["p99_ms"] < goals["p99_ms"]),
        ("16 concurrent configuration writers: failed", str(faults["concurrent_writers"]["failed"]), "0",
         faults["concurrent_writers"]["failed"] == 0),
        ("gateway alive after slowloris and writers; RSS growth, MiB",
         f"{'yes' if faults['alive'] else 'no'}; {rss_faults['end'] - rss_faults['start']}",
         f"yes; <= {goals['rss_growth_mib']}",
         faults["alive"] and rss_faults["end"] - rss_faults["start"] <= goals["rss_growth_mib"]),
        ((f"kill -9 after {kill['after_s']:g} s of load ({kill['chat_clients']} chat clients, {kill['writers']} "
          f"writers): restart, s"),
         "did not start" if kill["restart_s"] is None else f"{kill['restart_s']:.2f}", "starts",
         kill["restart_s"] is not None),
    ]
    if kill["restart_s"] is None:
        return rows
    rows += [
        ("  answered before the kill: chats / configuration writes",
         f"{kill['chats_answered']:,} / {kill['writes_acknowledged']:,}", "", None),
        ("  failures before the kill: chats + writes", str(len(kill["chat_failures"]) + len(kill["write_failures"])),
         "0", not kill["chat_failures"] and not kill["write_failures"]),
        ("  PRAGMA integrity_check after restart", kill["integrity_check"], "ok", kill["integrity_check"] == "ok"),
        ("  acknowledged aliases + accounts missing after restart",
         str(len(kill["aliases_lost"]) + len(kill["accounts_lost"])), "0",
         not kill["aliases_lost"] and not kill["accounts_lost"]),
        ("  last acknowledged setting (maxBodyMb) -> after restart",
         f"{kill['setting_acknowledged']} -> {kill['setting_after']}", "kept", kill["setting_kept"]),
        ("  usage rows of the load run (>= chats answered 1 s before the kill)",
         f"{kill['usage_rows']:,} (>= {kill['usage_rows_expected_at_least']:,})", "all kept",
         kill["usage_rows"] >= kill["usage_rows_expected_at_least"]),
        ("  /api/usage/logs and a chat request after restart",
         f"{kill['usage_logs_status']} ({kill['usage_logs_rows']} rows) / {kill['chat_after_restart']}", "200 / 200",
         kill["usage_logs_status"] == 200 and kill["usage_logs_rows"] > 0 and kill["chat_after_restart"] == 200),
    ]
    return rows


def verdict(result: dict[str, Any], args: argparse.Namespace | None = None) -> list[str]:
    """What broke: each missed target, then the fuzz failures and the failures under load themselves."""
    broken = [f"{measure}: {value} (target {target})" for measure, value, target, passed in targets(result)
              if passed is False]
    broken += [f"fuzz: {f}" for f in result["failures"][:20]]
    kill = result["faults"]["kill"]
    broken += [f"chat before the kill: {f}" for f in kill.get("chat_failures", [])[:5]]
    broken += [f"write before the kill: {f}" for f in kill.get("write_failures", [])[:5]]
    lost = kill.get("aliases_lost", []) + kill.get("accounts_lost", [])
    if lost:
        broken.append(f"lost across kill -9: {', '.join(lost[:10])}")
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
    parser.add_argument("--file-limit", type=int, default=1024,
                        help="soft open-file limit the gateway is started with, as a login shell gives (1024)")
    parser.add_argument("--kill-after-seconds", type=float, default=5.0, help="load before kill -9 (5)")
    parser.add_argument("--kill-chat-clients", type=int, default=8, help="chat clients during it (8)")
    parser.add_argument("--kill-writers", type=int, default=2, help="configuration writers during it (2)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def report(result: dict[str, Any], broken: list[str]) -> str:
    """The targets as a table (measure, measured, target, PASS/FAIL), then what broke."""
    table = [("measure", "measured", "target", "result")] + [
        (measure, value, target, "" if passed is None else ("PASS" if passed else "FAIL"))
        for measure, value, target, passed in targets(result)]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = [f"statuses of the fuzzed requests: {result['statuses']}"]
    for index, row in enumerate(table):
        lines.append("  ".join(f"{cell:{'>' if i == 1 else '<'}{widths[i]}}" for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("PASS" if not broken else "FAIL\n  " + "\n  ".join(broken))
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
