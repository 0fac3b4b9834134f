"""A process killed at any moment of an import leaves a store that opens intact: old or new, never torn."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import Store
from core.store.models import UsageRow

WORKER = Path(__file__).with_name("restore_worker.py")


def prepare(tmp_path: Path) -> tuple[Path, Path]:
    """An 'old' store and a large 'new' backup (large so the import takes long enough to interrupt)."""
    source = tmp_path / "source"
    store = Store.open(source)
    store.set_setting("which", "new")
    store.db.execute_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150000) "
        "INSERT INTO usage_row (ts, provider, model, status) SELECT i, 'openai', 'gpt-4.1', 200 FROM n")
    store.close()
    backup = tmp_path / "new.sqlite"
    with sqlite3.connect(source / "quotagate.sqlite") as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    return backup, source


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4])
def test_killing_the_process_during_import_leaves_an_intact_store(tmp_path: Path, delay: float) -> None:
    backup, _ = prepare(tmp_path)
    data = tmp_path / "data"
    old = Store.open(data)
    old.set_setting("which", "old")
    old.close()

    env = {**os.environ, "QUOTAGATE_DATA_DIR": str(data)}
    worker = subprocess.Popen([sys.executable, str(WORKER), str(data), str(backup)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "ready"
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()

    reopened = Store.open(data)
    try:
        assert reopened.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
        which = reopened.get_setting("which")
        assert which in ("old", "new")
        assert UsageRow.select().count() == (150_000 if which == "new" else 0)
    finally:
        reopened.close()
    assert not (data / "quotagate.sqlite.incoming").exists()
