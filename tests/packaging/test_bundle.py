"""The PyInstaller bundle runs on its own: version, headless gateway, clean stop, and the desktop path.

The bundle is built once per test run (about half a minute) with packaging/build.sh into a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from core import __version__
from tests.conftest import free_port, port_is_free
from tests.integration.processes import RunningQuotagate

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "packaging" / "build.sh"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled `quotagate` executable, built with this interpreter's PyInstaller."""
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install -e '.[packaging]')")
    output = tmp_path_factory.mktemp("pyinstaller")
    build = subprocess.run(
        ["bash", str(BUILD_SCRIPT), str(output)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True, text=True, timeout=800,
    )
    if build.returncode != 0:
        pytest.fail(f"packaging/build.sh failed ({build.returncode}):\n{build.stderr[-4000:]}")
    executable = Path(build.stdout.strip().splitlines()[-1])
    assert executable == output / "dist" / "quotagate" / "quotagate"
    assert os.access(executable, os.X_OK)
    return executable


Start = Callable[..., RunningQuotagate]


@pytest.fixture
def start(bundle: Path, data_dir: Path) -> Iterator[Start]:
    """Start the bundle with a fresh data folder and wait until it answers; whatever was started is killed
    when the test ends."""
    started: list[RunningQuotagate] = []

    def launch(args: list[str], port: int, **env: str) -> RunningQuotagate:
        app = RunningQuotagate(args, {**os.environ, "QUOTAGATE_DATA_DIR": str(data_dir), **env}, port,
                               command=[str(bundle)])
        started.append(app)
        app.wait_until_healthy()
        return app

    try:
        yield launch
    finally:
        for app in started:
            app.kill()


@pytest.fixture
def served(start: Start) -> RunningQuotagate:
    port = free_port()
    return start(["serve", "--port", str(port)], port)


def test_version_prints_the_package_version(bundle: Path) -> None:
    result = subprocess.run([str(bundle), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"quotagate {__version__}"


def test_help_describes_the_serve_command(bundle: Path) -> None:
    result = subprocess.run([str(bundle), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: quotagate" in result.stdout and "serve" in result.stdout


def test_icons_travel_inside_the_resources_package(bundle: Path) -> None:
    # resources.ICONS_DIR is computed from resources/__init__.py's location, which PyInstaller puts here.
    icons = bundle.parent / "_internal" / "resources" / "icons"
    assert (icons / "quotagate.svg").is_file()
    assert len(list(icons.glob("quotagate-*.png"))) >= 4


def test_serve_answers_healthz(served: RunningQuotagate) -> None:
    response = httpx.get(f"{served.url}/healthz")
    assert response.status_code == 200 and response.text == "ok"


def test_serve_health_json_reports_the_version(served: RunningQuotagate) -> None:
    health = httpx.get(f"{served.url}/api/monitoring/health").json()
    assert health["version"] == __version__
    assert health["database"]["status"] == "ok"


def test_sigterm_stops_serve_cleanly_and_frees_the_port(served: RunningQuotagate) -> None:
    code, out, err = served.terminate()
    assert code == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err
    assert port_is_free(served.port)


def test_desktop_starts_offscreen_with_the_gateway_and_stops_on_sigterm(start: Start) -> None:
    # Proves the Qt libraries and the platform plugins made it into the bundle.
    port = free_port()
    app = start([], port, QT_QPA_PLATFORM="offscreen", QUOTAGATE_PORT=str(port))
    code, out, err = app.terminate()
    assert code == 0, err
    assert "runs headless" not in out  # it did not fall back to `serve` for want of a GUI
    assert "Traceback" not in err
    assert port_is_free(port)
