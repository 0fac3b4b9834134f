"""Other programs' CPU use while the benchmark runs: on a 2-core machine a test suite running next to
it halves the numbers, so the report says when that happened instead of leaving it to guesswork."""

from __future__ import annotations

import os
import threading
from collections import Counter

import psutil


class NoiseMonitor:
    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.samples: list[float] = []  # % of one CPU used by processes outside the benchmark
        self.busiest: Counter[str] = Counter()
        self._tracked: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-noise", daemon=True)

    def __enter__(self) -> "NoiseMonitor":
        return self

    def start(self) -> None:
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _ours(self) -> set[int]:
        me = psutil.Process(os.getpid())
        return {me.pid} | {child.pid for child in me.children(recursive=True)}

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                ours = self._ours()
                total = 0.0
                for process in psutil.process_iter(["name", "cmdline"]):
                    tracked = self._tracked.setdefault(process.pid, process)
                    try:
                        percent = tracked.cpu_percent(None)  # since the previous sample (0.0 the first time)
                    except psutil.Error:
                        continue
                    if process.pid in ours or percent < 5:
                        continue
                    total += percent
                    cmdline = " ".join(process.info.get("cmdline") or [])[:60] or process.info.get("name") or "?"
                    self.busiest[cmdline] += percent
                self.samples.append(total)
            except psutil.Error:
                continue

    def summary(self) -> dict[str, object]:
        if not self.samples:
            return {"mean_pct": 0.0, "max_pct": 0.0, "busiest": []}
        return {"mean_pct": sum(self.samples) / len(self.samples), "max_pct": max(self.samples),
                "busiest": [name for name, _ in self.busiest.most_common(3)]}
