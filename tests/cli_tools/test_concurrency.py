"""Two Quotagate processes (the desktop app and `quotagate serve`, say) changing one tool's settings at once end
in one consistent file, and the original bytes are kept once: undo still gives back the user's file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import cli_tools
from core.cli_tools import jsonc, locking
from core.cli_tools.base import Choice
from tests.cli_tools import samples
from tests.cli_tools.conftest import GATEWAY, write

ROOT = Path(__file__).resolve().parents[2]

CONNECT_MANY = textwrap.dedent("""
    import sys
    from pathlib import Path
    from core import cli_tools
    gateway = cli_tools.Gateway("http://127.0.0.1:20128", models=("openai/gpt-4.1", "fast"))
    for round in range(6):
        cli_tools.connect("opencode", gateway, cli_tools.Choice(model=f"{sys.argv[2]}-{round}"), Path(sys.argv[1]))
    print("done")
""")

HOLD_LOCK = textwrap.dedent("""
    import sys
    from pathlib import Path
    from core.cli_tools import locking
    with locking.tool_lock(Path(sys.argv[1]), "claude"):
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our stdin
""")


def python(script: str, *args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **options)


def test_processes_connecting_at_once_leave_one_entry_and_the_original_once(home: Path, data: Path) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    before = write(path, samples.OPENCODE_CONFIG)
    workers = [python(CONNECT_MANY, str(data), f"process{n}") for n in range(4)]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err for _, err in results]
    config = jsonc.parse(path.read_text(encoding="utf-8"), comments=True).value
    assert set(config["provider"]) == {"ollama", "quotagate"}
    assert config["model"].startswith("quotagate/process") and config["model"].endswith("-5")
    assert path.read_text(encoding="utf-8").count('"quotagate": {') == 1
    cli_tools.disconnect("opencode", GATEWAY, data)
    assert path.read_bytes() == before


def test_a_change_waits_for_another_process_and_says_so_when_it_waits_too_long(
        home: Path, data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, samples.CLAUDE_SETTINGS)
    holder = python(HOLD_LOCK, str(data / "cli-tools"), stdin=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(locking, "WAIT_SECONDS", 0.3)
        with pytest.raises(cli_tools.ToolFileError, match="Another Quotagate process"):
            cli_tools.connect("claude", GATEWAY, Choice(model="fast"), data)
        assert path.read_bytes() == before and not (data / "cli-tools" / "claude.json").exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert cli_tools.connect("claude", GATEWAY, Choice(model="fast"), data)["connected"]
