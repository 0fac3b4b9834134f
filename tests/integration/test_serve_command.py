"""`quotagate serve` as a subprocess: answers, errors as JSON, stops cleanly, explains a taken port."""

from __future__ import annotations

import hashlib
import signal
import socket
from pathlib import Path

import httpx
import pytest

from core import __version__
from tests.conftest import free_port, port_is_free
from tests.integration.processes import RunningQuotagate, quotagate_env, run_quotagate


@pytest.fixture
def served(data_dir: Path):
    port = free_port()
    app = RunningQuotagate(["serve", "--port", str(port)], quotagate_env(data_dir), port)
    try:
        app.wait_until_healthy()
        yield app
    finally:
        app.kill()


def test_healthz_answers_ok(served: RunningQuotagate) -> None:
    response = httpx.get(f"{served.url}/healthz")
    assert response.status_code == 200 and response.text == "ok"


def test_health_json_reports_version_uptime_memory_and_database(served: RunningQuotagate) -> None:
    health = httpx.get(f"{served.url}/api/monitoring/health").json()
    assert health["status"] == "ok"
    assert health["version"] == __version__
    assert health["uptime_seconds"] >= 0
    assert health["memory"]["rss_bytes"] > 1_000_000
    assert health["database"]["status"] == "ok"
    assert health["database"]["journal_mode"] == "wal"
    assert health["gateway"]["port"] == served.port


def test_models_list_has_the_openai_shape(served: RunningQuotagate) -> None:
    body = httpx.get(f"{served.url}/v1/models").json()
    assert body["object"] == "list" and isinstance(body["data"], list)


def test_unknown_path_is_a_json_404_in_openai_shape(served: RunningQuotagate) -> None:
    response = httpx.post(f"{served.url}/v1/not-a-route", json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["type"] == "not_found_error" and "/v1/not-a-route" in error["message"]


def test_wrong_method_is_a_json_405_naming_the_allowed_ones(served: RunningQuotagate) -> None:
    response = httpx.delete(f"{served.url}/v1/models")
    assert response.status_code == 405
    assert "GET" in response.json()["error"]["message"]
    assert "GET" in response.headers["allow"]


def test_sigterm_stops_cleanly_and_frees_the_port(served: RunningQuotagate) -> None:
    code, out, err = served.terminate(signal.SIGTERM)
    assert code == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err
    assert port_is_free(served.port)


def test_sigint_stops_cleanly_too(served: RunningQuotagate) -> None:
    code, out, _ = served.terminate(signal.SIGINT)
    assert code == 0 and "Stopped." in out


def test_quotagate_port_environment_variable_is_honoured(data_dir: Path) -> None:
    port = free_port()
    app = RunningQuotagate(["serve"], quotagate_env(data_dir, QUOTAGATE_PORT=str(port)), port)
    try:
        app.wait_until_healthy()
    finally:
        app.kill()


def test_a_taken_port_is_explained_with_how_to_change_it(data_dir: Path) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        result = run_quotagate(["serve", "--port", str(port)], quotagate_env(data_dir))
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr and "already in use" in result.stderr
    assert "--port" in result.stderr and "QUOTAGATE_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_port_environment_variable_is_a_usage_error(data_dir: Path) -> None:
    result = run_quotagate(["serve"], quotagate_env(data_dir, QUOTAGATE_PORT="eighty"))
    assert result.returncode == 2
    assert "QUOTAGATE_PORT" in result.stderr and "Traceback" not in result.stderr


def test_a_corrupt_store_is_reported_and_left_as_it_was(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    store = data_dir / "quotagate.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    result = run_quotagate(["serve", "--port", str(free_port())], quotagate_env(data_dir))
    assert result.returncode == 1
    assert "cannot open the store" in result.stderr and "Traceback" not in result.stderr
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest


def test_version_flag(data_dir: Path) -> None:
    result = run_quotagate(["--version"], quotagate_env(data_dir))
    assert result.returncode == 0 and result.stdout.strip() == f"quotagate {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_every_command_has_help(data_dir: Path, args: list[str]) -> None:
    result = run_quotagate(args, quotagate_env(data_dir))
    assert result.returncode == 0 and "usage: quotagate" in result.stdout


def test_without_a_display_the_app_runs_the_gateway_headless(data_dir: Path) -> None:
    port = free_port()
    env = quotagate_env(data_dir, QUOTAGATE_PORT=str(port))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    app = RunningQuotagate([], env, port)
    try:
        app.wait_until_healthy()
        code, out, _ = app.terminate()
    finally:
        app.kill()
    assert code == 0
    assert "runs headless" in out
