"""Backups: snapshots (automatic and manual) with restore, export to a file, import from a file after a
confirmation that shows what the backup holds, and how many snapshots to keep. The work is the core's
BackupManager; this page collects choices and reports progress and results."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from PySide6.QtWidgets import (
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
from core.services import CoreServices
from desktop.widgets.feedback import (
    ConfirmBox,
    SecretField,
    StatusLabel,
    cell,
    empty_state,
    fill_table,
    hint,
    read_only_table,
    selected_data,
    title_label,
)
from desktop.widgets.tasks import PageTasks, off_loop

FILE_FILTER = "Quotagate backups (*.tar.gz *.tgz *.sqlite);;Archive with manifest (*.tar.gz);;Database (*.sqlite)"


def describe_contents(info: BackupInfo) -> str:
    c = info.counts
    return (f"{c['accounts']} accounts, {c['endpoints']} custom endpoints, {c['combos']} combos, "
            f"{c['keys']} API keys, {c['aliases']} aliases, {c['usage']} usage rows")


def format_size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{max(1, round(size / 1024))} KiB"


class ImportConfirmDialog(QDialog):
    """What the chosen backup holds, and the passphrase when its keys were sealed with one."""

    def __init__(self, parent: QWidget, path: Path, info: BackupInfo) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore this backup?")
        self.path, self.info = path, info
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
        form = QFormLayout()
        form.addRow("File:", QLabel(path.name))
        form.addRow("Made:", QLabel(f"{created}" + (f" by Quotagate {info.app_version}" if info.app_version else "")))
        self.holds = QLabel(describe_contents(info))
        self.holds.setWordWrap(True)
        form.addRow("Holds:", self.holds)
        self.passphrase = SecretField("Passphrase chosen at export")
        if info.secrets == "passphrase":
            form.addRow("Passphrase:", self.passphrase)
            form.addRow("", hint("Without it the restore still works, but accounts will ask for their keys again."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button = buttons.addButton("Replace my current data", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Restoring replaces all current providers, keys, settings and history. A "
                                "snapshot of the current data is taken first, so this can be undone."))
        layout.addLayout(form)
        layout.addWidget(buttons)


class BackupsPage(QWidget):
    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        self.tasks = PageTasks("Backups page")
        self.dialog: QDialog | None = None
        self.confirm_box: ConfirmBox | None = None

        self.table = read_only_table(["Created", "Reason", "Size", "Contents"], stretch=3)
        self.empty = empty_state("No snapshots yet. The first daily one comes a minute after start; "
                                 "“Back up now” takes one at once.")
        self.back_up_button = QPushButton("Back up now")
        self.back_up_button.clicked.connect(lambda: self.tasks.start(self.back_up_now()))
        self.restore_button = QPushButton("Restore selected…")
        self.restore_button.clicked.connect(self.confirm_restore_selected)
        self.export_button = QPushButton("Export to file…")
        self.export_button.clicked.connect(self.choose_export_file)
        self.import_button = QPushButton("Import from file…")
        self.import_button.clicked.connect(self.choose_import_file)
        self.export_passphrase = SecretField("Optional: lets another machine open the keys")
        self.status = StatusLabel()

        actions = QHBoxLayout()
        for button in (self.back_up_button, self.restore_button):
            actions.addWidget(button)
        actions.addStretch(1)
        files = QFormLayout()
        files.addRow("Passphrase for exports:", self.export_passphrase)
        file_buttons = QHBoxLayout()
        file_buttons.addWidget(self.export_button)
        file_buttons.addWidget(self.import_button)
        file_buttons.addStretch(1)
        files.addRow(file_buttons)
        files_box = QGroupBox("Backup files")
        files_box.setLayout(files)

        self.keep_count = QSpinBox()
        self.keep_count.setRange(1, 500)
        self.keep_days = QSpinBox()
        self.keep_days.setRange(1, 3650)
        self.keep_days.setSuffix(" days")
        self.save_retention_button = QPushButton("Save")
        self.save_retention_button.clicked.connect(lambda: self.tasks.start(self.save_retention()))
        retention = QHBoxLayout()
        retention.addWidget(QLabel("Keep the newest"))
        retention.addWidget(self.keep_count)
        retention.addWidget(QLabel("snapshots, none older than"))
        retention.addWidget(self.keep_days)
        retention.addWidget(self.save_retention_button)
        retention.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(title_label("Backups"))
        layout.addWidget(hint("Quotagate takes a snapshot every day and before configuration changes. "
                              "Snapshots stay on this machine; export a file to move to another one."))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addLayout(actions)
        layout.addLayout(retention)
        layout.addWidget(files_box)
        layout.addWidget(self.status)
        self._load_retention()
        self.tasks.start(self.refresh())

    # -- actions (each a coroutine tests can await) ----------------------------------------------------
    async def refresh(self) -> None:
        snapshots = await off_loop(self.services.backups.list_snapshots)
        rows = []
        for info in snapshots:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
            rows.append([cell(created, info.id), cell(info.reason), cell(format_size(info.size_bytes), align_right=True),
                         cell(describe_contents(info))])
        fill_table(self.table, rows)
        self.table.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self.restore_button.setEnabled(bool(snapshots))

    async def back_up_now(self) -> BackupInfo | None:
        return await self._run("Backing up…", self._create_snapshot)

    async def export_to(self, path: Path, passphrase: str | None) -> BackupInfo | None:
        archive = path.name.endswith((".tar.gz", ".tgz"))
        export = self.services.backups.export_archive if archive else self.services.backups.export_sqlite

        async def work() -> tuple[BackupInfo, str]:
            info = await off_loop(export, path, passphrase)
            sealed = "keys sealed with your passphrase" if passphrase else "keys readable on this machine only"
            return info, f"Exported {path.name} ({format_size(info.size_bytes)}; {sealed})."

        return await self._run(f"Exporting {path.name}…", work)

    async def inspect(self, path: Path) -> ImportConfirmDialog | None:
        """Validate the file; on success open the confirmation showing what it holds."""
        self.status.busy(f"Checking {path.name}…")
        try:
            info = await off_loop(self.services.backups.inspect, path)
        except BackupError as exc:
            self.status.error(str(exc))
            return None
        self.status.clear()
        self.dialog = ImportConfirmDialog(self, path, info)
        self.dialog.accepted.connect(lambda: self.tasks.start(self.import_from(path, self.dialog.passphrase.text() or None)))
        self.dialog.open()
        return self.dialog

    async def import_from(self, path: Path, passphrase: str | None) -> dict | None:
        async def work() -> tuple[dict, str]:
            result = await self.services.backups.import_file(path, passphrase)
            return result, self._restored_message(result)

        return await self._run(f"Restoring {path.name}…", work)

    async def restore_snapshot(self, snapshot_id: str) -> dict | None:
        async def work() -> tuple[dict, str]:
            result = await self.services.backups.restore_snapshot(snapshot_id)
            return result, self._restored_message(result)

        return await self._run("Restoring the snapshot…", work)

    async def save_retention(self) -> None:
        manager = self.services.backups
        manager.keep_count, manager.keep_days = self.keep_count.value(), self.keep_days.value()
        await off_loop(self.services.store.set_setting, settings.KEY_BACKUP_KEEP_COUNT, manager.keep_count)
        await off_loop(self.services.store.set_setting, settings.KEY_BACKUP_KEEP_DAYS, manager.keep_days)
        removed = await off_loop(manager.prune)
        self.status.ok("Saved." + (f" {len(removed)} older snapshots removed." if removed else ""))
        await self.refresh()

    # -- dialogs --------------------------------------------------------------------------------------
    def confirm_restore_selected(self) -> ConfirmBox | None:
        snapshot_id = selected_data(self.table)
        if snapshot_id is None:
            self.status.info("Select a snapshot first.")
            return None
        self.confirm_box = ConfirmBox(self, "Restore snapshot?", f"Replace all current data with snapshot {snapshot_id}?",
                                      "Restore", lambda: self.tasks.start(self.restore_snapshot(snapshot_id)),
                                      "The current data is snapshotted first, so this can be undone.")
        self.confirm_box.open()
        return self.confirm_box

    def choose_export_file(self) -> QFileDialog:
        dialog = QFileDialog(self, "Export backup", str(Path.home() / "quotagate-backup.tar.gz"), FILE_FILTER)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda name: self.tasks.start(
            self.export_to(Path(name), self.export_passphrase.text() or None)))
        dialog.open()
        return dialog

    def choose_import_file(self) -> QFileDialog:
        dialog = QFileDialog(self, "Import backup", str(Path.home()), FILE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.tasks.start(self.inspect(Path(name))))
        dialog.open()
        return dialog

    # -- helpers --------------------------------------------------------------------------------------
    async def _create_snapshot(self) -> tuple[BackupInfo, str]:
        info = await off_loop(self.services.backups.create_snapshot, "manual")
        return info, f"Backed up ({format_size(info.size_bytes)}, {describe_contents(info)})."

    async def _run(self, busy_text: str, work):  # type: ignore[no-untyped-def]
        buttons = (self.back_up_button, self.restore_button, self.export_button, self.import_button)
        for button in buttons:
            button.setEnabled(False)
        self.status.busy(busy_text)
        try:
            result, message = await work()
        except BackupError as exc:
            self.status.error(str(exc))
            return None
        except OSError as exc:
            self.status.error(f"Could not write or read the file: {exc.strerror or exc}.")
            return None
        finally:
            for button in buttons:
                button.setEnabled(True)
        self.status.ok(message)
        await self.refresh()
        return result

    def _restored_message(self, result: dict) -> str:
        message = f"Restored. The previous data is kept as snapshot {result['safetySnapshot']}."
        if result["accountsNeedingKeys"]:
            message += (f" {result['accountsNeedingKeys']} saved keys could not be opened here: enter them "
                        f"again on the Providers page.")
        return message

    def _load_retention(self) -> None:
        self.keep_count.setValue(self.services.backups.keep_count)
        self.keep_days.setValue(int(self.services.backups.keep_days))
