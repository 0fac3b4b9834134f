"""A second launch of the desktop app hands over to the first and exits."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import free_port, wait_for
from tests.integration.processes import RunningQuotagate, quotagate_env, run_quotagate


def test_a_second_launch_asks_the_first_to_show_itself_and_exits(data_dir: Path) -> None:
    port = free_port()
    env = quotagate_env(data_dir, QUOTAGATE_PORT=str(port), QT_QPA_PLATFORM="offscreen")
    first = RunningQuotagate([], env, port)
    try:
        first.wait_until_healthy()
        second = run_quotagate([], env)
        assert second.returncode == 0
        assert "already running" in second.stdout
        log_file = data_dir / "logs" / "quotagate.log"
        wait_for(lambda: "asked this instance to show its window" in log_file.read_text())
        code, _, err = first.terminate(signal.SIGTERM)
        assert code == 0, err
    finally:
        first.kill()


def test_a_different_data_folder_is_a_different_instance(tmp_path: Path) -> None:
    port_a, port_b = free_port(), free_port()
    a = RunningQuotagate([], quotagate_env(tmp_path / "a", QUOTAGATE_PORT=str(port_a),
                                           QT_QPA_PLATFORM="offscreen"), port_a)
    b = RunningQuotagate([], quotagate_env(tmp_path / "b", QUOTAGATE_PORT=str(port_b),
                                           QT_QPA_PLATFORM="offscreen"), port_b)
    try:
        a.wait_until_healthy()
        b.wait_until_healthy()
    finally:
        a.kill()
        b.kill()
