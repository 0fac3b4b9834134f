"""Backups that cannot lose data: consistent snapshots, validated imports, atomic restores with rollback."""

from core.backup.errors import BackupError

__all__ = ["BackupError"]
