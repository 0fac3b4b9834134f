"""The `quotagate` command: the desktop app by default, `serve` for the headless gateway."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from peewee import DatabaseError

from core import __version__, paths, settings
from core.backup.cli import add_backup_commands, run_backup
from core.i18n import tr
from core.quota.cli import add_status_command, run_status
from core.logs import setup_logging
from core.services import CoreServices
from core.store.migrations import SchemaTooNewError

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log debug detail, also to the terminal")

    parser = argparse.ArgumentParser(
        prog="quotagate", parents=[common],
        description="Quota glance for your AI subscriptions and a local AI gateway. Without a command it "
                    "starts the tray app (or the headless gateway where there is no display).",
        epilog=f"Environment: {paths.DATA_DIR_ENV} (data folder), {settings.PORT_ENV} (gateway port).",
    )
    parser.add_argument("--version", action="version", version=f"quotagate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[common], help="run the gateway headless (no tray, no windows)",
                                description="Run the gateway and core services without a display.")
    serve.add_argument("--host", default=settings.DEFAULT_HOST,
                       help=f"address to listen on (default {settings.DEFAULT_HOST})")
    serve.add_argument("--port", type=_port_argument, default=None,
                       help=f"port to listen on (default ${settings.PORT_ENV}, the saved setting, "
                            f"or {settings.DEFAULT_PORT})")
    add_status_command(commands, common)
    add_backup_commands(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    folder = paths.ensure_private_dir(paths.data_dir())
    logging_setup = setup_logging(folder, verbose=verbose)
    log.info("Quotagate %s starting (data folder %s)", __version__, folder)
    try:
        if args.command == "serve":
            return run_headless(folder, args.host, args.port)
        if args.command == "status":
            return run_status(args, folder)
        if args.command == "backup":
            return run_backup(args, folder)
        from desktop.app import run_desktop  # only the desktop path loads Qt

        return run_desktop(folder, verbose=verbose)
    except settings.SettingError as exc:
        print(tr("quotagate: {error}", error=exc), file=sys.stderr)
        return EXIT_USAGE
    finally:
        logging_setup.close()


def run_headless(folder: Path, host: str = settings.DEFAULT_HOST, port: int | None = None) -> int:
    """Serve until SIGINT/SIGTERM, then shut down cleanly."""
    return asyncio.run(_serve_until_signalled(CoreServices(folder, host=host, port=port)))


async def _serve_until_signalled(services: CoreServices) -> int:
    try:
        state = await services.start()
    except (SchemaTooNewError, DatabaseError, OSError) as exc:
        print(tr("quotagate: cannot open the store in {folder}: {error}", folder=services.data_folder, error=exc),
              file=sys.stderr)
        return EXIT_FAILED
    if not state.running:
        print(tr("quotagate: {error}", error=state.error), file=sys.stderr)
        await services.stop()
        return EXIT_FAILED
    print(tr("Quotagate {version}: gateway on {url} (data in {folder}). Press Ctrl+C to stop.",
             version=__version__, url=state.url, folder=services.data_folder), flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: fall back to plain handlers
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await stop.wait()
    print(tr("Stopping: finishing requests in flight…"), flush=True)
    await services.stop()
    print(tr("Stopped."), flush=True)
    return EXIT_OK


def _port_argument(value: str) -> int:
    try:
        return settings.parse_port(value, "--port")
    except settings.SettingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
