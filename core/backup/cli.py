"""`quotagate backup list|create|export FILE|import FILE|restore ID` — without the app running."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from core import running
from core.backup.errors import BackupError
from core.backup.manager import BackupInfo
from core.services import CoreServices

PASSPHRASE_ENV = "QUOTAGATE_BACKUP_PASSPHRASE"


def add_backup_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    backup = commands.add_parser("backup", parents=[common], help="export, import and restore backups",
                                 description="Backups of the whole store. Exports are consistent even while "
                                             "Quotagate runs; import and restore need it to be stopped.")
    actions = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    actions.add_parser("list", parents=[common], help="list automatic and manual snapshots")
    actions.add_parser("create", parents=[common], help="take a snapshot now")
    export = actions.add_parser("export", parents=[common], help="write a .sqlite or .tar.gz backup file",
                                epilog=f"A passphrase (--passphrase, or ${PASSPHRASE_ENV}) lets another "
                                       f"machine open the accounts' keys.")
    export.add_argument("file", type=Path, help="destination; .tar.gz/.tgz makes an archive, else .sqlite")
    export.add_argument("--passphrase", action="store_true", help="ask for a passphrase to seal the keys with")
    restore_file = actions.add_parser("import", parents=[common], help="restore from a .sqlite or .tar.gz file")
    restore_file.add_argument("file", type=Path)
    restore_file.add_argument("--passphrase", action="store_true", help="ask for the backup's passphrase")
    restore_file.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore = actions.add_parser("restore", parents=[common], help="restore a snapshot by its id")
    restore.add_argument("id")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run_backup(args: argparse.Namespace, folder: Path) -> int:
    try:
        return asyncio.run(_run(args, folder))
    except BackupError as exc:
        print(f"quotagate backup: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, folder: Path) -> int:
    action = args.backup_command
    if action in ("import", "restore"):
        owner = running.current_owner(folder)
        if owner is not None:
            raise BackupError(f"Quotagate is running (pid {owner.pid}, gateway on port {owner.port}). Restore "
                              f"from its tray menu (Restore…) or POST /api/db-backups/import, or quit it first.")
    services = CoreServices(folder)
    await services.start(serve=False)
    try:
        manager = services.backups
        assert manager is not None
        if action == "list":
            _print_table(manager.list_snapshots())
        elif action == "create":
            info = manager.create_snapshot("manual")
            print(f"Snapshot {info.id} created ({_size(info.size_bytes)}, {_counts(info)}).")
        elif action == "export":
            passphrase = _passphrase(args.passphrase, confirm=True)
            archive = args.file.name.endswith((".tar.gz", ".tgz"))
            export = manager.export_archive if archive else manager.export_sqlite
            info = export(args.file, passphrase)
            sealed = "keys sealed with your passphrase" if passphrase else "keys readable on this machine only"
            print(f"Exported {args.file} ({_size(info.size_bytes)}, {_counts(info)}; {sealed}).")
        elif action == "import":
            info = manager.inspect(args.file)
            _confirm(args.yes, f"Replace the store with {args.file} ({_describe(info)})?")
            passphrase = _passphrase(args.passphrase) if info.secrets == "passphrase" else None
            _report(await manager.import_file(args.file, passphrase))
        elif action == "restore":
            _confirm(args.yes, f"Replace the store with snapshot {args.id}?")
            _report(await manager.restore_snapshot(args.id))
    finally:
        await services.stop()
    return 0


def _passphrase(ask: bool, confirm: bool = False) -> str | None:
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    if not ask:
        return None
    if not sys.stdin.isatty():
        raise BackupError(f"--passphrase needs a terminal; set {PASSPHRASE_ENV} in scripts.")
    import getpass

    first = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Passphrase again: ") != first:
        raise BackupError("The passphrases differ; nothing was written.")
    return first or None


def _confirm(assume_yes: bool, question: str) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise BackupError("Restoring replaces the whole store; add --yes to confirm when not at a terminal.")
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise BackupError("Cancelled; nothing changed.")


def _report(result: dict) -> None:
    counts = ", ".join(f"{v} {k}" for k, v in result["counts"].items())
    print(f"Restored ({counts}). The previous store is kept as snapshot {result['safetySnapshot']}.")
    if result["accountsNeedingKeys"]:
        print(f"{result['accountsNeedingKeys']} saved keys could not be opened on this machine: enter them again "
              f"in Settings › Providers.")


def _print_table(snapshots: list[BackupInfo]) -> None:
    if not snapshots:
        print("No snapshots yet. `quotagate backup create` takes one.")
        return
    print(f"{'ID':<24} {'CREATED':<17} {'SIZE':>8}  {'CONTENTS':<40} REASON")
    for info in snapshots:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        print(f"{info.id:<24} {created:<17} {_size(info.size_bytes):>8}  {_counts(info):<40} {info.reason}")


def _describe(info: BackupInfo) -> str:
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
    return f"{info.kind} from {created}, {_counts(info)}"


def _counts(info: BackupInfo) -> str:
    c = info.counts
    return f"{c['accounts']} accounts, {c['endpoints']} endpoints, {c['combos']} combos, {c['keys']} keys"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
