"""Load runs: wrk (C, for throughput and latency) or the Python client (for time to first byte, and as
the fallback when wrk is missing). Both return a `LoadResult`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

HERE = Path(__file__).resolve().parent
WRK_SCRIPT = HERE / "wrk_post.lua"


@dataclass
class LoadResult:
    tool: str
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    ttfb_p50_ms: float | None = None
    ttfb_p99_ms: float | None = None
    raw: dict = field(default_factory=dict, repr=False)
    gateway_cpu_s: float | None = None  # the gateway process's CPU time (user + system) during the run

    @property
    def cpu_ms_per_request(self) -> float | None:
        """The gateway's CPU per answered request: what the request path costs, whatever else the machine does."""
        if self.gateway_cpu_s is None or not self.requests:
            return None
        return self.gateway_cpu_s * 1000 / self.requests


def chat_body(model: str, stream: bool) -> bytes:
    """A typical small IDE chat request."""
    body = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a concise coding assistant."},
            {"role": "user", "content": "Write a Python function that reverses a string, with a docstring."},
        ],
        "temperature": 0.2,
        "max_tokens": 256,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body, separators=(",", ":")).encode()


def anthropic_body(model: str, stream: bool) -> bytes:
    """The same request as `chat_body`, as Claude Code would send it to `/v1/messages`."""
    body = {
        "model": model,
        "system": "You are a concise coding assistant.",
        "messages": [{"role": "user", "content": "Write a Python function that reverses a string, with a docstring."}],
        "temperature": 0.2,
        "max_tokens": 256,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


BODIES = {"openai": chat_body, "anthropic": anthropic_body}


def find_wrk(try_install: bool = True) -> tuple[str | None, str]:
    """wrk's path (installing the Debian package when missing and allowed) and a note for the report."""
    found = shutil.which("wrk")
    if found:
        return found, ""
    if not try_install:
        return None, ("wrk not found (install skipped): throughput below comes from the Python client, which "
                      "is itself a bottleneck on 2 cores")
    if shutil.which("apt-get") is None:
        return None, "wrk not found and apt-get is unavailable: install wrk to get C-client throughput numbers"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return None, "wrk not found; run `sudo apt-get install wrk` to get C-client throughput numbers"
    print("bench: wrk is not installed; trying `apt-get install -y wrk` …", flush=True)
    for command in (prefix + ["apt-get", "install", "-y", "-q", "wrk"],
                    prefix + ["apt-get", "update", "-q"],
                    prefix + ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("wrk")
        if found:
            return found, ""
    return None, ("wrk could not be installed (`apt-get install wrk` failed); throughput below comes from "
                  "the Python client, which is itself a bottleneck on 2 cores")


def _pinned(cpus: Iterable[int] | None) -> dict:
    if cpus is None:
        return {}
    chosen = set(cpus)
    return {"preexec_fn": lambda: os.sched_setaffinity(0, chosen)}


def _result_line(output: str, what: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError(f"{what} printed no result:\n{output[-2000:]}")


def run_wrk(wrk: str, url: str, body_file: Path, concurrency: int, duration: float,
            cpus: Iterable[int] | None) -> LoadResult:
    command = [wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPT), url]
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60,
                          **_pinned(cpus))
    raw = _result_line(done.stdout + done.stderr, "wrk")
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw["errors"].values())
    return LoadResult("wrk", concurrency, raw["requests"], raw["requests"] / seconds, raw["p50_us"] / 1000,
                      raw["p99_us"] / 1000, errors, raw=raw)


def run_pyload(url: str, body_file: Path, concurrency: int, duration: float, cpus: Iterable[int] | None,
               warmup: float = 0.5) -> LoadResult:
    command = [sys.executable, "-m", "tests.bench.pyload", "--url", url, "--body-file", str(body_file),
               "--concurrency", str(concurrency), "--duration", str(duration), "--warmup", str(warmup)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + warmup + 60,
                          cwd=HERE.parent.parent, **_pinned(cpus))
    raw = _result_line(done.stdout + done.stderr, "the Python load client")
    return LoadResult("python", concurrency, raw["requests"], raw["rps"], raw["p50_us"] / 1000,
                      raw["p99_us"] / 1000, raw["errors"], raw["ttfb_p50_us"] / 1000, raw["ttfb_p99_us"] / 1000,
                      raw=raw)


class LoadGenerator:
    """wrk when available, else the Python client."""

    def __init__(self, wrk: str | None, cpus: Iterable[int] | None, body_dir: Path) -> None:
        self.wrk = wrk
        self.cpus = cpus
        self.body_dir = body_dir

    def body_file(self, model: str, stream: bool, dialect: str = "openai") -> Path:
        path = self.body_dir / f"{dialect}-{model.replace('/', '_')}{'-stream' if stream else ''}.json"
        if not path.exists():
            path.write_bytes(BODIES[dialect](model, stream))
        return path

    def throughput(self, url: str, model: str, stream: bool, concurrency: int, duration: float,
                   dialect: str = "openai") -> LoadResult:
        body = self.body_file(model, stream, dialect)
        if self.wrk:
            return run_wrk(self.wrk, url, body, concurrency, duration, self.cpus)
        return run_pyload(url, body, concurrency, duration, self.cpus)

    def first_byte(self, url: str, model: str, concurrency: int, duration: float,
                   dialect: str = "openai") -> LoadResult:
        return run_pyload(url, self.body_file(model, True, dialect), concurrency, duration, self.cpus)
