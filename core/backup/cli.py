"""`quotagate backup list|create|export FILE|import FILE|restore ID` — without the app running."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import unicodedata
from pathlib import Path

from core import running
from core.backup.errors import BackupError
from core.backup.manager import BackupInfo
from core.i18n import tr
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
    export.add_argument("--no-request-log", dest="request_log", action="store_false",
                        help="leave out the raw request log (the usage history's hourly and daily sums stay)")
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
        print(tr("quotagate backup: {error}", error=exc), file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, folder: Path) -> int:
    action = args.backup_command
    if action in ("import", "restore"):
        owner = running.current_owner(folder)
        if owner is not None:
            raise BackupError(tr("Quotagate is running (pid {pid}, gateway on port {port}). Restore from its tray "
                                 "menu (Restore…) or POST /api/db-backups/import, or quit it first.",
                                 pid=owner.pid, port=owner.port))
    services = CoreServices(folder)
    await services.start(serve=False)
    try:
        manager = services.backups
        assert manager is not None
        if action == "list":
            _print_table(manager.list_snapshots())
        elif action == "create":
            info = manager.create_snapshot("manual")
            print(tr("Snapshot {id} created ({size}, {contents}).", id=info.id, size=_size(info.size_bytes),
                     contents=_counts(info)))
        elif action == "export":
            passphrase = _passphrase(args.passphrase, confirm=True)
            archive = args.file.name.endswith((".tar.gz", ".tgz"))
            export = manager.export_archive if archive else manager.export_sqlite
            info = export(args.file, passphrase, args.request_log)
            done = (tr("Exported {file} ({size}, {contents}; keys sealed with your passphrase).", file=args.file,
                       size=_size(info.size_bytes), contents=_counts(info)) if passphrase
                    else tr("Exported {file} ({size}, {contents}; keys readable on this machine only).",
                            file=args.file, size=_size(info.size_bytes), contents=_counts(info)))
            print(done if args.request_log else done + " " + tr("The request log was left out; the usage history "
                                                                "(hourly and daily sums) is included."))
        elif action == "import":
            info = manager.inspect(args.file)
            _confirm(args.yes, tr("Replace the store with {file} ({description})?", file=args.file,
                                  description=_describe(info)))
            passphrase = _passphrase(args.passphrase) if info.secrets == "passphrase" else None
            _report(await manager.import_file(args.file, passphrase))
        elif action == "restore":
            _confirm(args.yes, tr("Replace the store with snapshot {id}?", id=args.id))
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
        raise BackupError(tr("--passphrase needs a terminal; set {variable} in scripts.", variable=PASSPHRASE_ENV))
    import getpass

    first = getpass.getpass(tr("Passphrase:") + " ")
    if confirm and getpass.getpass(tr("Passphrase again:") + " ") != first:
        raise BackupError(tr("The passphrases differ; nothing was written."))
    return first or None


def _confirm(assume_yes: bool, question: str) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise BackupError(tr("Restoring replaces the whole store; add --yes to confirm when not at a terminal."))
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        raise BackupError(tr("Cancelled; nothing changed."))


def _report(result: dict) -> None:
    c = result["counts"]
    contents = tr("{accounts} accounts, {endpoints} custom endpoints, {combos} combos, {keys} API keys, "
                  "{aliases} aliases, {usage} usage rows", accounts=c["accounts"], endpoints=c["endpoints"],
                  combos=c["combos"], keys=c["keys"], aliases=c["aliases"], usage=c["usage"])
    print(tr("Restored ({contents}). The previous store is kept as snapshot {id}.", contents=contents,
             id=result["safetySnapshot"]))
    if result["accountsNeedingKeys"]:
        print(tr("{count} saved keys could not be opened on this machine: enter them again in Settings › Providers.",
                 count=result["accountsNeedingKeys"]))


def _print_table(snapshots: list[BackupInfo]) -> None:
    if not snapshots:
        print(tr("No snapshots yet. `quotagate backup create` takes one."))
        return
    print(f"{'ID':<24} {_pad(tr('Created'), 17)} {_pad(tr('Size'), 8, right=True)}  {_pad(tr('Contents'), 40)} "
          f"{tr('Reason')}")
    for info in snapshots:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        # The stored reasons are English data; the known ones are in the catalogue.
        print(f"{info.id:<24} {created:<17} {_size(info.size_bytes):>8}  {_pad(_counts(info), 40)} "
              f"{tr(info.reason)}")


def _describe(info: BackupInfo) -> str:
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
    if info.kind == "archive":
        return tr("archive from {created}, {contents}", created=created, contents=_counts(info))
    if info.kind == "snapshot":
        return tr("snapshot from {created}, {contents}", created=created, contents=_counts(info))
    return tr("SQLite file from {created}, {contents}", created=created, contents=_counts(info))


def _counts(info: BackupInfo) -> str:
    c = info.counts
    return tr("{accounts} accounts, {endpoints} endpoints, {combos} combos, {keys} keys", accounts=c["accounts"],
              endpoints=c["endpoints"], combos=c["combos"], keys=c["keys"])


def _pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` terminal columns (Chinese characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    padding = " " * max(0, width - used)
    return padding + text if right else text + padding


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 1024:.0f} KiB"
