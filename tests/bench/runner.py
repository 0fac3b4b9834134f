"""The gateway benchmark, end to end: fake upstream, headless gateway, desktop gateway, tray probe.

Everything listens on 127.0.0.1. With two or more CPUs the gateway (headless or desktop) is pinned to the
first one and the fake upstream plus the load generators to the second, so the gateway gets a CPU to
itself and the upstream never competes with it (`--no-pin` turns this off).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

from tests.bench import processes
from tests.bench.load import LoadGenerator, LoadResult, chat_body, find_wrk
from tests.bench.noise import NoiseMonitor
from tests.bench.processes import Child, free_port, wait_for_port, wait_until_ready
from tests.bench.report import Report

REPO = Path(__file__).resolve().parents[2]
GATEWAY_MODEL = "bench/fake-model"  # the custom endpoint `bench` that setup_store creates
COMBO_MODEL = "bench-combo"  # setup_store's priority combo: bench/fake-model first
DIRECT_MODEL = "fake-model"
CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"  # the translated scenario: an Anthropic client in front of an OpenAI upstream
SECTIONS = {"headless": "headless_load", "startup": "startup", "desktop": "desktop_load", "tray": "tray"}
OPT_IN_SECTIONS = {"fuzz": "fuzz"}  # run only when named in --only (long, and a pass/fail rather than a measurement)


def quotagate_command() -> list[str]:
    """The installed console script when there is one (what users run), else the module."""
    script = Path(sys.executable).with_name("quotagate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "core.cli"]


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


class Bench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        cpus = processes.usable_cpus()
        self.pinned = not args.no_pin and len(cpus) >= 2
        self.gateway_cpus = {cpus[0]} if self.pinned else None
        self.load_cpus = set(cpus[1:]) if self.pinned else None
        if self.pinned:  # our own polling and parsing stay off the gateway's CPU too
            os.sched_setaffinity(0, self.load_cpus)
        wrk, self.wrk_note = find_wrk(try_install=not args.no_install)
        self.load = LoadGenerator(wrk, self.load_cpus, root)
        self.results: dict[str, Any] = {"machine": self.machine(wrk)}
        self.home = root / "home"
        self.home.mkdir()
        self.upstream_port = free_port()
        self.gateway: Child | None = None  # the gateway under load, to explain a failed run

    # -- environment ---------------------------------------------------------------------------------
    def machine(self, wrk: str | None) -> dict[str, Any]:
        wrk_version = "Python load client (no wrk)"
        if wrk:
            out = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.splitlines()
            wrk_version = out[0].split(" [")[0] if out else "present"
        return {
            "cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version(),
            "pyside6": package_version("PySide6-Essentials"), "qasync": package_version("qasync"),
            "uvicorn": package_version("uvicorn"), "starlette": package_version("starlette"),
            "httpx": package_version("httpx"), "aiohttp": package_version("aiohttp"),
            "wrk": wrk_version, "duration_s": self.args.duration, "pinned": self.pinned, "qt_loop": self.args.qt_loop,
            "gateway_cpus": sorted(self.gateway_cpus or []), "load_cpus": sorted(self.load_cpus or []),
        }

    def env(self, data_dir: Path | None = None, **extra: str) -> dict[str, str]:
        """A child's environment: private HOME/XDG folders, file-based master key, no proxies."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("QUOTAGATE_") and k.lower() not in
               ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update({
            "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"), "XDG_STATE_HOME": str(self.home / ".local/state"),
            "XDG_CACHE_HOME": str(self.home / ".cache"), "QUOTAGATE_KEYRING": "off",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        })
        if data_dir is not None:
            env["QUOTAGATE_DATA_DIR"] = str(data_dir)
        env.update(extra)
        return env

    def data_dir(self, name: str) -> Path:
        folder = self.root / name
        subprocess.run([sys.executable, "-m", "tests.bench.setup_store", "--data-dir", str(folder),
                        "--upstream", f"http://127.0.0.1:{self.upstream_port}"],
                       env=self.env(folder), cwd=REPO, check=True, timeout=60)
        return folder

    # -- pieces --------------------------------------------------------------------------------------
    def start_upstream(self) -> Child:
        child = Child("fake upstream", [sys.executable, "-m", "tests.bench.fake_upstream", "--port",
                                        str(self.upstream_port), "--chunks", str(self.args.chunks)],
                      self.env(), self.load_cpus, cwd=REPO)
        wait_for_port(self.upstream_port)
        return child

    def start_serve(self, data_dir: Path, port: int) -> tuple[Child, float]:
        child = Child("quotagate serve", quotagate_command() + ["serve", "--port", str(port)],
                      self.env(data_dir), self.gateway_cpus, cwd=REPO)
        self.gateway = child
        return child, wait_until_ready(child, port)

    def start_desktop(self, data_dir: Path, port: int) -> tuple[Child, float]:
        env = self.env(data_dir, QT_QPA_PLATFORM="offscreen", QUOTAGATE_PORT=str(port),
                       QUOTAGATE_QT_LOOP=self.args.qt_loop)
        child = Child("quotagate (desktop)", quotagate_command(), env, self.gateway_cpus, cwd=REPO)
        self.gateway = child
        ready = wait_until_ready(child, port)
        if any("headless" in line for line in child.lines):
            raise RuntimeError(f"the desktop app fell back to headless:\n{child.tail()}")
        return child, ready

    def url(self, port: int, dialect: str = "openai") -> str:
        return f"http://127.0.0.1:{port}{MESSAGES_PATH if dialect == 'anthropic' else CHAT_PATH}"

    def _explained(self, error: Exception) -> RuntimeError:
        """A load-run failure, with the gateway's own last words when it was the one that died."""
        child = self.gateway
        if child is not None and not child.alive():
            return RuntimeError(f"{child.name} died (exit code {child.process.returncode}) during a load run; "
                                f"its last output:\n{child.tail(40)}")
        return RuntimeError(str(error))

    def throughput(self, label: str, port: int, model: str, stream: bool, concurrency: int,
                   duration: float | None = None, dialect: str = "openai",
                   cpu_of: psutil.Process | None = None) -> LoadResult:
        """A wrk run; with `cpu_of`, also that process's CPU time (user + system) over the run."""
        before = _cpu_seconds(cpu_of) if cpu_of is not None else None
        try:
            result = self.load.throughput(self.url(port, dialect), model, stream, concurrency,
                                          duration or self.args.duration, dialect)
        except RuntimeError as exc:
            raise self._explained(exc) from None
        if cpu_of is not None and before is not None:
            result.gateway_cpu_s = _cpu_seconds(cpu_of) - before
        kind = "stream" if stream else "chat"
        cpu = result.cpu_ms_per_request
        print(f"  {label:<8} {kind:<6} c={concurrency:<3} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
              f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}"
              + (f"  gateway CPU {cpu:.3f} ms/req" if cpu is not None else ""), flush=True)
        if result.errors:
            print(f"  warning: {result.errors} failed requests ({result.raw.get('errors') or result.raw.get('statuses')})",
                  flush=True)
        return result

    def first_byte(self, label: str, port: int, model: str, concurrency: int, dialect: str = "openai") -> LoadResult:
        try:
            result = self.load.first_byte(self.url(port, dialect), model, concurrency, self.args.ttfb_duration,
                                          dialect)
        except RuntimeError as exc:
            raise self._explained(exc) from None
        print(f"  {label:<8} ttfb   c={concurrency:<3} {result.rps:>9,.0f} req/s  first byte p50 "
              f"{result.ttfb_p50_ms:6.2f} ms  p99 {result.ttfb_p99_ms:6.2f} ms  errors {result.errors}", flush=True)
        return result

    def warm(self, port: int, model: str, dialect: str = "openai") -> None:
        try:
            self.load.throughput(self.url(port, dialect), model, False, 16, 1, dialect)
            self.load.throughput(self.url(port, dialect), model, True, 16, 1, dialect)
        except RuntimeError as exc:
            raise self._explained(exc) from None

    # -- sections ------------------------------------------------------------------------------------
    def fuzz(self) -> None:
        """tests/bench/fuzz.py: the long fuzz run plus slowloris and concurrent writers, on its own gateway."""
        from tests.bench import fuzz

        print("Fuzz, slowloris and concurrent writers against `quotagate serve`", flush=True)
        args = fuzz.parse_args([])
        result = asyncio.run(fuzz.run(args))
        broken = fuzz.verdict(result, args)
        print(fuzz.report(result, broken), flush=True)
        self.results["fuzz"] = {**result, "broken": broken}
        if broken:
            raise RuntimeError("the fuzz run broke a rule: " + "; ".join(broken[:3]))

    def headless_load(self) -> None:
        print("Headless gateway (`quotagate serve`, asyncio) vs the fake upstream called directly", flush=True)
        port = free_port()
        child, _ = self.start_serve(self.data_dir("serve"), port)
        section: dict[str, Any] = {}
        gateway = psutil.Process(child.pid)  # its CPU time per request is the figure to optimise against
        try:
            for label, target_port, model in (("direct", self.upstream_port, DIRECT_MODEL),
                                              ("gateway", port, GATEWAY_MODEL)):
                self.warm(target_port, model)
                runs: dict[str, Any] = {}
                cpu_of = gateway if label == "gateway" else None
                for concurrency in (1, 16, 64):
                    runs[f"chat_c{concurrency}"] = self.throughput(label, target_port, model, False, concurrency,
                                                                   cpu_of=cpu_of)
                runs["stream_c16"] = self.throughput(label, target_port, model, True, 16, cpu_of=cpu_of)
                runs["ttfb_c1"] = self.first_byte(label, target_port, model, 1)
                runs["ttfb_c16"] = self.first_byte(label, target_port, model, 16)
                section[label] = runs
            section["chunks"] = self.args.chunks
            # A priority combo whose first target answers, next to the direct route to that target.
            self.warm(port, COMBO_MODEL)
            section["combo_chat_c1"] = self.throughput("combo", port, COMBO_MODEL, False, 1, cpu_of=gateway)
            # Translated: an Anthropic client (/v1/messages) in front of the same OpenAI-format upstream.
            self.warm(port, GATEWAY_MODEL, "anthropic")
            section["translated"] = {
                "chat_c1": self.throughput("anthropic", port, GATEWAY_MODEL, False, 1, dialect="anthropic"),
                "chat_c16": self.throughput("anthropic", port, GATEWAY_MODEL, False, 16, dialect="anthropic",
                                            cpu_of=gateway),
                "stream_c16": self.throughput("anthropic", port, GATEWAY_MODEL, True, 16, dialect="anthropic",
                                              cpu_of=gateway),
                "ttfb_c1": self.first_byte("anthropic", port, GATEWAY_MODEL, 1, dialect="anthropic"),
            }
            section["rss_after_load_mib"] = psutil.Process(child.pid).memory_info().rss / 2**20
        finally:
            child.stop()
        self.results["headless"] = section

    def startup(self) -> None:
        print(f"Headless startup: {self.args.ready_runs} runs of spawn → /healthz, then a few requests and "
              f"idle RSS", flush=True)
        folder = self.data_dir("startup")
        readies, rsses = [], []
        for run in range(self.args.ready_runs):
            port = free_port()
            child, ready = self.start_serve(folder, port)
            try:
                few_requests(port)
                time.sleep(1.0)
                rss = psutil.Process(child.pid).memory_info().rss / 2**20
            finally:
                child.stop()
            readies.append(ready)
            rsses.append(rss)
            print(f"  run {run + 1}: ready in {ready * 1000:.0f} ms, idle RSS {rss:.1f} MiB", flush=True)
        self.results["startup"] = {"ready_s": readies, "rss_mib": rsses,
                                   "ready_median_s": statistics.median(readies),
                                   "rss_median_mib": statistics.median(rsses)}

    def desktop_load(self) -> None:
        print(f"Desktop app (`quotagate`, {self.args.qt_loop} loop, QT_QPA_PLATFORM=offscreen)", flush=True)
        port = free_port()
        child, ready = self.start_desktop(self.data_dir("desktop"), port)
        section: dict[str, Any] = {"ready_s": ready}
        try:
            self.warm(port, GATEWAY_MODEL)
            section["chat_c1"] = self.throughput("desktop", port, GATEWAY_MODEL, False, 1)
            section["chat_c16"] = self.throughput("desktop", port, GATEWAY_MODEL, False, 16)
            section["stream_c16"] = self.throughput("desktop", port, GATEWAY_MODEL, True, 16)
            section["ttfb_c1"] = self.first_byte("desktop", port, GATEWAY_MODEL, 1)
            section["rss_after_load_mib"] = psutil.Process(child.pid).memory_info().rss / 2**20
        finally:
            child.stop()
        self.results["desktop"] = section

    def tray(self) -> None:
        print("Tray responsiveness: desktop app in one process, a 50 ms QTimer, idle then under c=16 load",
              flush=True)
        port = free_port()
        folder = self.data_dir("tray")
        env = self.env(folder, QT_QPA_PLATFORM="offscreen", QUOTAGATE_QT_LOOP=self.args.qt_loop)
        child = Child("tray probe", [sys.executable, "-m", "tests.bench.tray_probe", "--data-dir", str(folder),
                                     "--port", str(port)], env, self.gateway_cpus, cwd=REPO)
        self.gateway = child
        try:
            child.wait_for_line("BENCH_READY", 60)
            time.sleep(0.5)
            idle = (time.monotonic(), time.monotonic() + 3.0)
            time.sleep(3.0)
            self.throughput("warm-up", port, GATEWAY_MODEL, False, 16, 1)
            started = time.monotonic()
            under_load = self.throughput("tray app", port, GATEWAY_MODEL, False, 16)
            loaded = (started + 0.2, time.monotonic() - 0.2)
            child.process.send_signal(signal.SIGTERM)
            line = child.wait_for_line("BENCH_RESULT ", 30)
        finally:
            child.stop()
        probe = json.loads(line[len("BENCH_RESULT "):])
        ticks, gc_pauses = probe["ticks"], probe.get("gc", [])

        def window(bounds: tuple[float, float]) -> dict[str, float]:
            late = sorted(lateness for fired, lateness in ticks if bounds[0] <= fired <= bounds[1])
            pauses = [ms for ended, _, ms in gc_pauses if bounds[0] <= ended <= bounds[1]]
            return {"ticks": len(late), "p50_ms": pct(late, 50), "p99_ms": pct(late, 99),
                    "max_ms": late[-1] if late else 0.0, "gc_count": len(pauses),
                    "gc_max_ms": max(pauses, default=0.0), "gc_total_ms": sum(pauses)}

        self.results["tray"] = {"idle": window(idle), "load": window(loaded), "chat_c16": under_load}
        load = self.results["tray"]["load"]
        print(f"  timer lateness idle p99 {self.results['tray']['idle']['p99_ms']:.1f} ms, under load p99 "
              f"{load['p99_ms']:.1f} ms (max {load['max_ms']:.1f}); under load {load['gc_count']} GC passes, "
              f"longest {load['gc_max_ms']:.1f} ms", flush=True)


def _cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU time of `process` and its threads (the usage writer's included), seconds."""
    times = process.cpu_times()
    return times.user + times.system


def pct(ordered: list[float], percent: float) -> float:
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, int(round(percent / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def few_requests(port: int, count: int = 50) -> None:
    """Some chat requests, plain and streamed, the way a user's first minutes would send them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for index in range(count):
            stream = index % 5 == 0
            connection.request("POST", CHAT_PATH, body=chat_body(GATEWAY_MODEL, stream),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"gateway answered {response.status} during the idle-RSS warm-up")
    finally:
        connection.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench",
                                     description="Benchmark the gateway against a fake upstream on 127.0.0.1.")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run (5)")
    parser.add_argument("--ttfb-duration", type=float, default=3.0, help="seconds per first-byte run (3)")
    parser.add_argument("--ready-runs", type=int, default=5, help="startup runs for readiness and RSS (5)")
    parser.add_argument("--chunks", type=int, default=20, help="events per streamed answer (20)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument("--no-install", action="store_true", help="do not try to apt-get install wrk")
    parser.add_argument("--skip-desktop", action="store_true", help="headless measurements only")
    parser.add_argument("--qt-loop", choices=("asyncio", "qasync"), default="asyncio",
                        help="the desktop's loop: desktop/loop.py's asyncio scheduling (what ships) or qasync's "
                             "own, for A/B runs (sets QUOTAGATE_QT_LOOP in the desktop and tray processes)")
    parser.add_argument("--only", default="", metavar="SECTIONS",
                        help="comma-separated subset of: headless, startup, desktop, tray; or fuzz (opt-in)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl+C and SIGTERM end the run through the finally below, which stops every child. Ctrl+C reaches
    # the gateway too, so a load run may fail first: the flag says that failure was the interruption.
    interrupted = threading.Event()

    def interrupt(signum: int, frame: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="quotagate-bench-") as folder, NoiseMonitor() as noise:
        bench = Bench(args, Path(folder))  # pins this process first: the monitor's thread starts after
        noise.start()
        if bench.wrk_note:
            print(f"bench: {bench.wrk_note}", flush=True)
        try:
            sections = {name.strip() for name in args.only.split(",") if name.strip()} or set(SECTIONS)
            if args.skip_desktop:
                sections -= {"desktop", "tray"}
            known = {**SECTIONS, **OPT_IN_SECTIONS}
            unknown = sections - set(known)
            if unknown:
                print(f"bench: unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(known)}",
                      file=sys.stderr)
                return 2
            bench.start_upstream()
            for name in known:
                if name in sections:
                    getattr(bench, known[name])()
        except (KeyboardInterrupt, RuntimeError) as exc:
            if isinstance(exc, KeyboardInterrupt) or interrupted.is_set():
                print("\nbench: interrupted; stopping every process it started", file=sys.stderr, flush=True)
                return 130
            print(f"\nbench: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            processes.stop_all()
    bench.results["noise"] = noise.summary()
    report = Report(bench.results, bench.wrk_note)
    print()
    print(report.render(), flush=True)
    if args.markdown:
        print()
        print(report.markdown())
    print(f"\n(total bench time {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(report.raw(), indent=2, default=lambda o: o.__dict__))
    return 1 if args.strict and not report.all_passed() else 0
