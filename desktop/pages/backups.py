"""Backups: snapshots (automatic and manual) with restore, export to a file, import from a file after a
confirmation that shows what the backup holds, and how many snapshots to keep. The work is the core's
BackupManager; this page collects choices and reports progress and results."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import settings
from core.backup import BackupError
from core.backup.manager import BackupInfo
from core.i18n import tr, translatable
from core.services import CoreServices
from desktop.widgets import format as fmt
from desktop.widgets.commit import CommitBar, configuration_of
from desktop.widgets.feedback import (
    ConfirmBox,
    SecretField,
    StatusLabel,
    cell,
    empty_state,
    hint,
    read_only_table,
    selected_data,
    show_rows,
)
from desktop.widgets.layouts import button_row
from desktop.widgets.long_action import LongAction
from desktop.widgets.tasks import PageTasks, off_loop

T = TypeVar("T")


def file_filter() -> str:
    return ";;".join((tr("Quotagate backups") + " (*.tar.gz *.tgz *.sqlite)",
                      tr("Archive with manifest") + " (*.tar.gz)", tr("Database") + " (*.sqlite)"))


def describe_contents(info: BackupInfo) -> str:
    """"2 accounts, 1 custom endpoint, …": each count in the singular for one."""
    c = info.counts
    parts = (fmt.plural(c["accounts"], tr("{count} account"), tr("{count} accounts")),
             fmt.plural(c["endpoints"], tr("{count} custom endpoint"), tr("{count} custom endpoints")),
             fmt.plural(c["combos"], tr("{count} combo"), tr("{count} combos")),
             fmt.plural(c["keys"], tr("{count} API key"), tr("{count} API keys")),
             fmt.plural(c["aliases"], tr("{count} alias"), tr("{count} aliases")),
             fmt.plural(c["usage"], tr("{count} usage row"), tr("{count} usage rows")))
    return tr(", ").join(parts)


def describe_reason(reason: str) -> str:
    """Why a snapshot was taken, in words. The stored reasons are English data ("before " and the change the
    configuration service names, marked `translatable` there), translated for display."""
    known = {
        "manual": tr("manual"),
        "manual (tray)": tr("manual (tray)"),
        "manual (API)": tr("manual (API)"),
        "daily": tr("daily"),
        "before restore": tr("before restore"),
        # snapshots taken by earlier versions, which named their changes so
        "before changing proxies": tr("before changing proxies"),
        "before adding an account": tr("before adding an account"),
        "before editing an account": tr("before editing an account"),
        "before removing an account": tr("before removing an account"),
        "before saving a custom endpoint": tr("before saving a custom endpoint"),
        "before removing a custom endpoint": tr("before removing a custom endpoint"),
        "before changing the API key requirement": tr("before changing the API key requirement"),
        "before revoking an API key": tr("before revoking an API key"),
    }
    if reason in known:
        return known[reason]
    if reason.startswith("before "):
        return tr("before {change}", change=tr(reason.removeprefix("before ")))
    return reason


def format_size(size: float) -> str:
    """Bytes as a person reads them: 812 KiB, 45.6 MiB, 1.2 GiB."""
    if size >= 2**30:
        return f"{size / 2**30:.1f} GiB"
    if size >= 2**20:
        return f"{size / 2**20:.1f} MiB"
    return f"{max(1, round(size / 1024)) if size else 0} KiB"


class ImportConfirmDialog(QDialog):
    """What the chosen backup holds, and the passphrase when its keys were sealed with one."""

    def __init__(self, parent: QWidget, path: Path, info: BackupInfo) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Restore this backup?"))
        self.path, self.info = path, info
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        form = QFormLayout()
        form.addRow(tr("File:"), QLabel(path.name))
        made = (tr("{created} by Quotagate {version}", created=created, version=info.app_version) if info.app_version
                else created)
        form.addRow(tr("Made:"), QLabel(made))
        self.holds = QLabel(describe_contents(info))
        self.holds.setWordWrap(True)
        form.addRow(tr("Holds:"), self.holds)
        self.passphrase = SecretField(tr("Passphrase chosen at export"))
        if info.secrets == "passphrase":
            form.addRow(tr("Passphrase:"), self.passphrase)
            form.addRow("", hint(tr("Without it the restore still works, but accounts will ask for their keys "
                                    "again.")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = buttons.addButton(tr("Replace my current data"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("Restoring replaces all current providers, keys, settings and history. A "
                                   "snapshot of the current data is taken first, so this can be undone.")))
        layout.addLayout(form)
        layout.addWidget(buttons)


class ExportDialog(QDialog):
    """Before an export: whether the raw request log goes along, with what it takes. The usage history
    (hourly and daily sums) always does."""

    def __init__(self, parent: QWidget, path: Path, request_log_rows: int, request_log_bytes: int) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Export backup"))
        self.path = path
        self.include_request_log = QCheckBox(tr("Include the request log ({count} requests, {size})",
                                                count=f"{request_log_rows:,}", size=format_size(request_log_bytes)))
        self.include_request_log.setChecked(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton(tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("Export to {name}", name=path.name)))
        layout.addWidget(self.include_request_log)
        layout.addWidget(hint(tr("Providers, keys, settings and the usage history (hourly and daily sums) are always "
                                 "included. The request log lists every request one by one; without it the backup "
                                 "is smaller.")))
        layout.addWidget(buttons)


class BackupsPage(QWidget):
    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Backups page")
        self.destroyed.connect(self.tasks.cancel_all)
        self.dialog: QDialog | None = None
        self.export_dialog: ExportDialog | None = None
        self.confirm_box: ConfirmBox | None = None
        self.has_snapshots = False

        self.table = read_only_table([tr("Created"), tr("Reason"), tr("Size"), tr("Contents")], stretch=3)
        self.empty = empty_state(tr("No snapshots yet. The first daily one comes a minute after start; "
                                    "“Back up now” takes one at once."))
        self.back_up_button = QPushButton(tr("Back up now"))
        self.back_up_button.clicked.connect(lambda: self.tasks.start(self.back_up_now()))
        self.restore_button = QPushButton(tr("Restore selected…"))
        self.restore_button.clicked.connect(self.confirm_restore_selected)
        self.export_button = QPushButton(tr("Export to file…"))
        self.export_button.clicked.connect(self.choose_export_file)
        self.import_button = QPushButton(tr("Import from file…"))
        self.import_button.clicked.connect(self.choose_import_file)
        self.export_passphrase = SecretField(tr("Optional: lets another machine open the keys"))
        self.status = StatusLabel()
        # One action at a time (they all read or replace the store). Only checking a file and exporting one
        # can be cancelled: Cancel then stands in the export button's place, beside Import.
        self.action = LongAction(self.tasks, self.status, self)
        self.action.running_changed.connect(self._update_buttons)

        actions = button_row(self.back_up_button, self.restore_button)
        files = QFormLayout()
        files.addRow(tr("Passphrase for exports:"), self.export_passphrase)
        files.addRow(button_row(self.action.button_slot(self.export_button), self.import_button))
        files_box = QGroupBox(tr("Backup files"))
        files_box.setLayout(files)

        self.keep_count = QSpinBox()
        self.keep_count.setRange(1, 500)
        self.keep_days = QSpinBox()
        self.keep_days.setRange(1, 3650)
        self.keep_days.setSuffix(tr(" days"))
        retention = QHBoxLayout()
        retention.addWidget(QLabel(tr("Keep the newest")))
        retention.addWidget(self.keep_count)
        retention.addWidget(QLabel(tr("snapshots, none older than")))
        retention.addWidget(self.keep_days)
        retention.addStretch(1)
        self.commit = CommitBar(self.tasks, self._retention_state, self._show_retention, self._save_retention)
        self.commit.watch(self.keep_count.valueChanged, self.keep_days.valueChanged)

        layout = QVBoxLayout(self)
        layout.addWidget(hint(tr("Quotagate takes a snapshot every day and before configuration changes. "
                                 "Snapshots stay on this machine; export a file to move to another one.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        layout.addWidget(files_box)
        layout.addLayout(retention)
        layout.addWidget(self.commit)
        self._load_retention()
        self.commit.reset()
        self.tasks.start(self.refresh())

    # -- actions (each a coroutine tests can await) ----------------------------------------------------
    async def refresh(self) -> None:
        snapshots = await off_loop(self.services.backups.list_snapshots)
        rows = []
        for info in snapshots:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
            reason, contents = describe_reason(info.reason), describe_contents(info)
            rows.append([cell(created, info.id), cell(reason, tooltip=reason),
                         cell(format_size(info.size_bytes), align_right=True),
                         cell(contents, tooltip=contents)])  # the column is often narrower than the text
        show_rows(self.table, self.empty, rows)
        self.has_snapshots = bool(snapshots)
        self._update_buttons()
        if not self.commit.dirty and not self.commit.saving():  # after a restore the limits may differ
            self._load_retention()
            self.commit.reset()

    async def back_up_now(self) -> BackupInfo | None:
        return await self._run(tr("Backing up…"), self._create_snapshot)

    async def export_to(self, path: Path, passphrase: str | None,
                        include_request_log: bool = True) -> BackupInfo | None:
        archive = path.name.endswith((".tar.gz", ".tgz"))
        export = self.services.backups.export_archive if archive else self.services.backups.export_sqlite

        async def work() -> tuple[BackupInfo, str]:
            info = await export_cancellably(export, path, passphrase, include_request_log)
            sealed = tr("keys sealed with your passphrase") if passphrase else tr("keys readable on this machine only")
            message = tr("Exported {name} ({size}; {sealed}).", name=path.name, size=format_size(info.size_bytes),
                         sealed=sealed)
            return info, message if include_request_log else message + " " + tr("Without the request log.")

        return await self._run(tr("Exporting {name}…", name=path.name), work, cancellable=True,
                               cancelled=lambda seconds: tr("Export cancelled after {seconds} s; {name} was not "
                                                            "written.", seconds=seconds, name=path.name))

    async def confirm_export(self, path: Path) -> ExportDialog | None:
        """Measure the request log, then ask whether it goes along."""
        try:
            report = await off_loop(self.services.store.space)
        except Exception as exc:  # a sick store: said here; the export would say more
            self.status.error(tr("Could not read the store: {error}", error=exc))
            return None
        log = report["requestLog"]
        self.export_dialog = ExportDialog(self, path, log["rows"], log["bytes"])
        self.export_dialog.accepted.connect(lambda: self.tasks.start(self.export_to(
            path, self.export_passphrase.text() or None, self.export_dialog.include_request_log.isChecked())))
        self.export_dialog.open()
        return self.export_dialog

    async def inspect(self, path: Path) -> ImportConfirmDialog | None:
        """Validate the file; on success open the confirmation showing what it holds. Checking only reads
        (into a folder of its own), so it can be cancelled."""
        opened: list[ImportConfirmDialog] = []

        def confirm(info: BackupInfo, _seconds: float) -> None:
            self.status.clear()
            dialog = ImportConfirmDialog(self, path, info)
            dialog.accepted.connect(lambda: self.tasks.start(self.import_from(path, dialog.passphrase.text() or None)))
            dialog.open()
            self.dialog = dialog
            opened.append(dialog)

        await self._act(tr("Checking {name}…", name=path.name), lambda: off_loop(self.services.backups.inspect, path),
                        confirm, cancellable=True)
        return opened[0] if opened else None

    async def import_from(self, path: Path, passphrase: str | None) -> dict | None:
        async def work() -> tuple[dict, str]:
            result = await self.services.backups.import_file(path, passphrase)
            return result, self._restored_message(result)

        return await self._run(tr("Restoring {name}…", name=path.name), work)

    async def restore_snapshot(self, snapshot_id: str) -> dict | None:
        async def work() -> tuple[dict, str]:
            result = await self.services.backups.restore_snapshot(snapshot_id)
            return result, self._restored_message(result)

        return await self._run(tr("Restoring the snapshot…"), work)

    def save_retention(self) -> asyncio.Task[bool]:
        return self.commit.start_save()

    # -- dialogs --------------------------------------------------------------------------------------
    def confirm_restore_selected(self) -> ConfirmBox | None:
        snapshot_id = selected_data(self.table)
        if snapshot_id is None:
            self.status.info(tr("Select a snapshot first."))
            return None
        self.confirm_box = ConfirmBox(self, tr("Restore snapshot?"),
                                      tr("Replace all current data with snapshot {id}?", id=snapshot_id),
                                      tr("Restore"), lambda: self.tasks.start(self.restore_snapshot(snapshot_id)),
                                      tr("The current data is snapshotted first, so this can be undone."))
        self.confirm_box.open()
        return self.confirm_box

    def choose_export_file(self) -> QFileDialog:
        dialog = QFileDialog(self, tr("Export backup"), str(Path.home() / "quotagate-backup.tar.gz"), file_filter())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda name: self.tasks.start(self.confirm_export(Path(name))))
        dialog.open()
        return dialog

    def choose_import_file(self) -> QFileDialog:
        dialog = QFileDialog(self, tr("Import backup"), str(Path.home()), file_filter())
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.tasks.start(self.inspect(Path(name))))
        dialog.open()
        return dialog

    # -- helpers --------------------------------------------------------------------------------------
    async def _create_snapshot(self) -> tuple[BackupInfo, str]:
        info = await off_loop(self.services.backups.create_snapshot, "manual")
        return info, tr("Backed up ({size}, {contents}).", size=format_size(info.size_bytes),
                        contents=describe_contents(info))

    async def _run(self, busy_text: str, work: Callable[[], Awaitable[tuple[T, str]]], cancellable: bool = False,
                   cancelled: Callable[[str], str] | None = None) -> T | None:
        """An action whose work returns (result, message): the message goes on the status line and the list
        of snapshots is read again. Returns the result, None when it failed or was cancelled."""
        outcome: list[T] = []

        def done(result: tuple[T, str], _seconds: float) -> None:
            outcome.append(result[0])
            self.status.ok(result[1])

        await self._act(busy_text, work, done, cancellable, cancelled)
        if outcome:
            await self.refresh()
        return outcome[0] if outcome else None

    async def _act(self, busy_text: str, work: Callable[[], Awaitable[Any]], done: Callable[[Any, float], None],
                   cancellable: bool = False, cancelled: Callable[[str], str] | None = None) -> None:
        """One action at a time, its seconds counting on the status line. Back-ups and restores work in a
        thread that cannot be stopped safely, so only checking a file and exporting one (whose partial file
        is deleted) offer Cancel."""
        task = self.action.start(
            busy_text, work, done,
            cancelled or (lambda seconds: tr("Cancelled after {seconds} s.", seconds=seconds)),
            failed=self._failure, cancellable=cancellable, expected=(BackupError, OSError))
        await asyncio.gather(task, return_exceptions=True)  # its outcome is on the status line

    @staticmethod
    def _failure(exc: Exception) -> str:
        if isinstance(exc, OSError):
            return tr("Could not write or read the file: {error}.", error=exc.strerror or exc)
        return str(exc)

    def _update_buttons(self, *_: Any) -> None:
        idle = not self.action.running()
        for button in (self.back_up_button, self.export_button, self.import_button):
            button.setEnabled(idle)
        self.restore_button.setEnabled(idle and self.has_snapshots)

    def _restored_message(self, result: dict) -> str:
        message = tr("Restored. The previous data is kept as snapshot {id}.", id=result["safetySnapshot"])
        if result["accountsNeedingKeys"]:
            message += tr(" {count} saved keys could not be opened here: enter them again on the Providers page.",
                          count=result["accountsNeedingKeys"])
        return message

    # -- retention: kept until the commit bar's Save -----------------------------------------------------
    def _load_retention(self) -> None:
        self._show_retention((self.services.backups.keep_count, int(self.services.backups.keep_days)))

    def _retention_state(self) -> tuple[int, int]:
        return self.keep_count.value(), self.keep_days.value()

    def _show_retention(self, state: tuple[int, int]) -> None:
        self.keep_count.setValue(state[0])
        self.keep_days.setValue(state[1])

    async def _save_retention(self) -> str:
        configuration = configuration_of(self.services)
        keep_count, keep_days = self._retention_state()
        await configuration.update_settings(
            {settings.KEY_BACKUP_KEEP_COUNT: keep_count, settings.KEY_BACKUP_KEEP_DAYS: keep_days},
            {settings.KEY_BACKUP_KEEP_COUNT: tr("Snapshots to keep"),
             settings.KEY_BACKUP_KEEP_DAYS: tr("Days to keep")},
            reason=translatable("changing how many snapshots are kept"))
        removed = await off_loop(self.services.backups.prune)  # the service applied the new limits
        await self.refresh()
        if not removed:
            return tr("Saved.")
        return tr("Saved.") + " " + fmt.plural(len(removed), tr("{count} older snapshot removed."),
                                                tr("{count} older snapshots removed."))


async def export_cancellably(export: Callable[[Path, str | None, bool], BackupInfo], path: Path,
                             passphrase: str | None, include_request_log: bool) -> BackupInfo:
    """Run `export` in a thread, writing beside `path` under a temporary name that becomes `path` at the end.
    A thread cannot be stopped: when the export is cancelled, its file is deleted once the thread is done, so
    nothing half-written is left and a file that was to be replaced stays as it was."""
    staging = path.with_name(f".exporting-{path.name}")  # the same ending: the export picks its format by it
    future = asyncio.get_running_loop().run_in_executor(None, export, staging, passphrase, include_request_log)
    try:
        info = await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(lambda _done: staging.unlink(missing_ok=True))
        raise
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    staging.replace(path)
    return info
