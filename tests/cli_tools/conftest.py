"""Tool fixtures: a fake HOME (from tests/conftest.py) with realistic configs, and the gateway's services."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import cli_tools
from tests.gateway.conftest import client, services  # noqa: F401  (the real gateway, for the API tests)

GATEWAY = cli_tools.Gateway("http://127.0.0.1:20128", models=("openai/gpt-4.1", "fast"))


@pytest.fixture(autouse=True)
def tool_environment(isolated_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No tool location of the developer's leaks in; no tool is on PATH unless a test puts it there."""
    for name in ("OPENCODE_CONFIG", "OPENCODE_CONFIG_DIR", "GEMINI_CLI_HOME", "CODEX_HOME", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    bin_dir = isolated_environment / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return isolated_environment


@pytest.fixture
def home(tool_environment: Path) -> Path:
    return tool_environment


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "quotagate-data"
    folder.mkdir()
    return folder


def write(path: Path, text: str, mode: int | None = None) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path.read_bytes()
