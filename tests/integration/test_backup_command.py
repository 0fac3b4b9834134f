"""`quotagate backup …` as a user runs it, in a subprocess."""

from __future__ import annotations

import tarfile
from pathlib import Path

from tests.conftest import free_port
from tests.integration.processes import RunningQuotagate, quotagate_env, run_quotagate


def test_create_then_list_shows_the_snapshot(data_dir: Path) -> None:
    env = quotagate_env(data_dir)
    assert "No snapshots yet" in run_quotagate(["backup", "list"], env).stdout
    created = run_quotagate(["backup", "create"], env)
    assert created.returncode == 0 and created.stdout.startswith("Snapshot ")
    snapshot_id = created.stdout.split()[1]
    listed = run_quotagate(["backup", "list"], env).stdout
    assert snapshot_id in listed and "manual" in listed


def test_export_writes_an_owner_only_archive_and_import_restores_it(data_dir: Path, tmp_path: Path) -> None:
    env = quotagate_env(data_dir)
    target = tmp_path / "all.tar.gz"
    exported = run_quotagate(["backup", "export", str(target)], env)
    assert exported.returncode == 0, exported.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    with tarfile.open(target) as tar:
        assert "manifest.json" in tar.getnames()
    restored = run_quotagate(["backup", "import", str(target), "--yes"], env)
    assert restored.returncode == 0, restored.stderr
    assert "Restored (" in restored.stdout and "previous store is kept as snapshot" in restored.stdout


def test_import_without_a_terminal_needs_yes(data_dir: Path, tmp_path: Path) -> None:
    env = quotagate_env(data_dir)
    target = tmp_path / "b.sqlite"
    run_quotagate(["backup", "export", str(target)], env)
    refused = run_quotagate(["backup", "import", str(target)], env)
    assert refused.returncode == 1 and "--yes" in refused.stderr


def test_a_passphrase_from_the_environment_seals_and_opens_the_keys(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "move.sqlite"
    env = quotagate_env(data_dir, QUOTAGATE_BACKUP_PASSPHRASE="correct horse")
    assert "sealed with your passphrase" in run_quotagate(["backup", "export", str(target)], env).stdout
    other = quotagate_env(tmp_path / "new-machine", QUOTAGATE_BACKUP_PASSPHRASE="wrong")
    refused = run_quotagate(["backup", "import", str(target), "--yes"], other)
    assert refused.returncode == 1 and "passphrase does not match" in refused.stderr


def test_a_garbage_file_is_refused_with_a_clear_message(data_dir: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    result = run_quotagate(["backup", "import", str(junk), "--yes"], quotagate_env(data_dir))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not a readable .tar.gz backup" in result.stderr


def test_import_is_refused_while_quotagate_runs(data_dir: Path, tmp_path: Path) -> None:
    env = quotagate_env(data_dir)
    target = tmp_path / "b.sqlite"
    run_quotagate(["backup", "export", str(target)], env)
    port = free_port()
    app = RunningQuotagate(["serve", "--port", str(port)], env, port)
    try:
        app.wait_until_healthy()
        refused = run_quotagate(["backup", "import", str(target), "--yes"], env)
        exported_meanwhile = run_quotagate(["backup", "export", str(tmp_path / "live.sqlite")], env)
    finally:
        app.kill()
    assert refused.returncode == 1
    assert "Quotagate is running" in refused.stderr and f"port {port}" in refused.stderr
    assert exported_meanwhile.returncode == 0  # exports are safe while it serves
