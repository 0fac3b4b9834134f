"""Child processes of the benchmark: spawned pinned to a CPU, drained by a thread, always stopped.

Every process started here is remembered and `stop_all()` ends it (SIGTERM, then SIGKILL), which the
runner calls in a `finally`, so Ctrl+C or an error never leaves a gateway or fake upstream behind.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

_RUNNING: list["Child"] = []


def usable_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pin(cpus: Iterable[int] | None) -> Callable[[], None] | None:
    if cpus is None:
        return None
    chosen = set(cpus)
    return lambda: os.sched_setaffinity(0, chosen)


class Child:
    """A running process whose output (stdout and stderr merged) is read line by line in a thread."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], cpus: Iterable[int] | None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.lines: collections.deque[str] = collections.deque(maxlen=400)
        self._seen = threading.Condition()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, preexec_fn=_pin(cpus),
        )
        _RUNNING.append(self)
        self._reader = threading.Thread(target=self._read, name=f"bench-{name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        """The first output line starting with `prefix`; RuntimeError if the process dies or it is late."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"{self.name} printed no '{prefix}' within {timeout:.0f}s:\n{self.tail()}")
                self._seen.wait(min(remaining, 0.2))

    def tail(self, count: int = 25) -> str:
        return "\n".join(list(self.lines)[-count:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._reader.join(5)
        if self in _RUNNING:
            _RUNNING.remove(self)
        return self.process.returncode


def stop_all() -> None:
    for child in reversed(list(_RUNNING)):
        try:
            child.stop(timeout=10)
        except Exception:  # keep stopping the others
            child.process.kill()


def http_get_ok(port: int, path: str = "/healthz", timeout: float = 0.5) -> bool:
    """One raw `GET path` on 127.0.0.1:port; True on an HTTP 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_until_ready(child: Child, port: int, timeout: float = 30.0, interval: float = 0.002) -> float:
    """Seconds from the child's spawn until GET /healthz answers 200 (polled every `interval`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_get_ok(port):
            return time.perf_counter() - child.started
        if not child.alive():
            child.stop()
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{child.tail()}")
        time.sleep(interval)
    raise RuntimeError(f"{child.name} did not answer /healthz on port {port} within {timeout:.0f}s:\n{child.tail()}")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")
