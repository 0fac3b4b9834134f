"""Running `quotagate` as a real subprocess, the way a user or a service manager does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import wait_for

QUOTAGATE = [sys.executable, "-m", "core.cli"]


class RunningQuotagate:
    """`quotagate ARGS` as a subprocess (`command` may name another build of it, e.g. the bundle)."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, command: list[str] | None = None) -> None:
        self.port = port
        self.process = subprocess.Popen(
            (command or QUOTAGATE) + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_until_healthy(self, timeout: float = 20.0) -> None:
        def healthy() -> bool:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise AssertionError(f"quotagate exited {self.process.returncode}:\n{out}\n{err}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).text == "ok"
            except httpx.TransportError:
                return False

        wait_for(healthy, timeout)

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str, str]:
        self.process.send_signal(sig)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def quotagate_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["QUOTAGATE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run_quotagate(args: list[str], env: dict[str, str], timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run(QUOTAGATE + args, env=env, capture_output=True, text=True, timeout=timeout)
