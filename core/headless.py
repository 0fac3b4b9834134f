"""`quotagate serve`: the core services on plain asyncio until SIGINT/SIGTERM. The desktop falls back to it
where there is no display, so it lives apart from the command line that parses arguments."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from peewee import DatabaseError

from core import __version__, lifecycle, settings
from core.gateway import collector
from core.i18n import tr
from core.services import CoreServices
from core.store.migrations import SchemaTooNewError

EXIT_OK = 0
EXIT_FAILED = 1


def run_headless(folder: Path, host: str = settings.DEFAULT_HOST, port: int | None = None) -> int:
    """Serve until SIGINT/SIGTERM, then shut down cleanly."""
    return asyncio.run(_serve_until_signalled(CoreServices(folder, host=host, port=port)))


async def _serve_until_signalled(services: CoreServices) -> int:
    # Handlers first: a SIGTERM that arrives while the services start (a supervisor's quick stop, a test
    # that stops as soon as /healthz answers) must still end in a clean shutdown, not a killed process.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: fall back to plain handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    restart = False

    def ask_restart() -> None:  # POST /api/restart: stop as on SIGTERM, then start again in this process
        nonlocal restart
        restart = True
        stop.set()

    lifecycle.install(ask_restart, stop.set)
    try:
        while True:
            try:
                state = await services.start()
            except (SchemaTooNewError, DatabaseError, OSError) as exc:
                print(tr("quotagate: cannot open the store in {folder}: {error}", folder=services.data_folder,
                         error=exc), file=sys.stderr)
                return EXIT_FAILED
            if not state.running:
                print(tr("quotagate: {error}", error=state.error), file=sys.stderr)
                await services.stop()
                return EXIT_FAILED
            collector.settle_after_start()
            print(tr("Quotagate {version}: gateway on {url} (data in {folder}). Press Ctrl+C to stop.",
                     version=__version__, url=state.url, folder=services.data_folder), flush=True)

            await stop.wait()
            print(tr("Stopping: finishing requests in flight…"), flush=True)
            await services.stop()
            if not restart:
                print(tr("Stopped."), flush=True)
                return EXIT_OK
            restart = False
            stop.clear()
            print(tr("Restarting…"), flush=True)
    finally:
        lifecycle.uninstall()
