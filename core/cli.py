"""The `quotagate` command: the desktop app by default, `serve` for the headless gateway.

The desktop is imported only where it starts (it loads Qt); it imports `core.headless`, never this module,
so the two do not import each other."""

from __future__ import annotations

import argparse
import logging
import sys

from core import __version__, paths, settings
from core.backup.cli import add_backup_commands, run_backup
from core.headless import EXIT_FAILED, EXIT_OK, run_headless
from core.i18n import tr
from core.quota.cli import add_status_command, run_status
from core.logs import setup_logging

log = logging.getLogger(__name__)

EXIT_USAGE = 2
__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main", "run_headless"]


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


def _port_argument(value: str) -> int:
    try:
        return settings.parse_port(value, "--port")
    except settings.SettingError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
