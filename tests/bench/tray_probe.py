"""Tray responsiveness under load: the desktop app in this process, on its event loop, with a timer.

Builds what `quotagate` builds (QApplication, the desktop's event loop, `DesktopApp` over `CoreServices`, tray
included) and arms a precise single-shot 50 ms QTimer over and over, each time noting how late it fired
(fired − armed − 50 ms) and refreshing the tray's status text, as the tray's live countdowns will. The
benchmark puts load on the gateway meanwhile and compares the lateness in idle and loaded windows.

    QT_QPA_PLATFORM=offscreen python -m tests.bench.tray_probe --data-dir DIR --port PORT

Prints `BENCH_READY` once the gateway listens; on SIGTERM it shuts down and prints
`BENCH_RESULT {"ticks": [[fired_monotonic, lateness_ms], …], "gc": [[ended_monotonic, generation, ms], …]}`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtWidgets import QApplication

from core.services import CoreServices
from desktop.app import DesktopApp, configure_application
from desktop.loop import new_event_loop


class GcPauses:
    """Garbage-collector pauses, so a late tick can be told apart from a busy loop."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float]] = []  # (ended_monotonic, generation, ms)
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.monotonic()
        else:
            now = time.monotonic()
            self.pauses.append((now, info["generation"], (now - self._started) * 1000))


class LatenessProbe:
    def __init__(self, desktop: DesktopApp, interval_ms: int) -> None:
        self.desktop = desktop
        self.interval_ms = interval_ms
        self.ticks: list[tuple[float, float]] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.tick)
        self.armed = 0.0

    def start(self) -> None:
        self.armed = time.monotonic()
        self.timer.start(self.interval_ms)

    def tick(self) -> None:
        now = time.monotonic()
        self.ticks.append((now, (now - self.armed) * 1000 - self.interval_ms))
        if self.desktop.tray is not None:  # the work a tray countdown refresh does
            self.desktop.tray.show_gateway_state(self.desktop.services.gateway_state)
        self.start()


async def probe(desktop: DesktopApp, interval_ms: int) -> list[tuple[float, float]]:
    state = await desktop.start()
    if not state.running:
        print(f"tray_probe: the gateway did not start: {state.error}", file=sys.stderr, flush=True)
        await desktop.shutdown()
        return []
    timer = LatenessProbe(desktop, interval_ms)
    timer.start()
    print("BENCH_READY", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(stop.set))
    signal.signal(signal.SIGINT, lambda *_: loop.call_soon_threadsafe(stop.set))
    await stop.wait()  # the 50 ms timer wakes the interpreter, so the signal is seen promptly
    timer.timer.stop()
    await desktop.shutdown()
    return timer.ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval-ms", type=int, default=50)
    args = parser.parse_args()
    app = configure_application(QApplication.instance() or QApplication(sys.argv[:1]))
    loop = new_event_loop(app)  # QUOTAGATE_QT_LOOP=qasync measures qasync's own scheduling
    asyncio.set_event_loop(loop)
    desktop = DesktopApp(CoreServices(args.data_dir, port=args.port), tray_available=True)
    pauses = GcPauses()
    gc.callbacks.append(pauses)
    with loop:
        ticks = loop.run_until_complete(probe(desktop, args.interval_ms))
    gc.callbacks.remove(pauses)
    desktop.dispose()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    print("BENCH_RESULT " + json.dumps({"ticks": ticks, "gc": pauses.pauses}), flush=True)
    sys.exit(0 if ticks else 1)


if __name__ == "__main__":
    main()
