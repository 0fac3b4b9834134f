"""The Tools page, driven like a user would, against the real core services, a fake HOME with realistic tool
settings, and (for Try it) a fake provider on loopback behind the running gateway."""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from core import settings
from core.cli_tools import jsonc
from tests.cli_tools import samples
from tests.cli_tools.conftest import write

MODEL = "openai/gpt-4.1"


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


@pytest.fixture
def home(isolated_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No tool location of the developer's leaks in; only the fake HOME's `bin` is on PATH."""
    for name in ("OPENCODE_CONFIG", "OPENCODE_CONFIG_DIR", "GEMINI_CLI_HOME", "CODEX_HOME", "CLAUDE_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    (isolated_environment / "bin").mkdir()
    monkeypatch.setenv("PATH", str(isolated_environment / "bin"))
    return isolated_environment


@pytest.fixture
def desktop(home, make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.tools_page.settle())
    return app


@pytest.fixture
def page(desktop):
    return desktop.tools_page


def click(qtbot, button) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def connect(qloop, qtbot, page, tool: str, model: str = MODEL) -> None:
    card = page.cards[tool]
    card.model_picker.setEditText(model)
    click(qtbot, card.connect_button)
    run(qloop, page.settle())


def test_the_tools_page_follows_api_keys(desktop) -> None:
    titles = desktop.window.page_titles()
    assert titles.index("API keys") < titles.index("Tools")


def test_each_tool_says_whether_it_is_installed_and_where_it_points(home: Path, desktop, page, qloop) -> None:
    command = home / "bin" / "codex"
    command.write_text("#!/bin/sh\n")
    command.chmod(0o755)
    write(home / ".claude" / "settings.json", samples.CLAUDE_SETTINGS)
    run(qloop, page.refresh())
    codex, claude, gemini = page.cards["codex"], page.cards["claude"], page.cards["gemini"]
    assert codex.install_label.text() == f"Installed: {command}"
    assert codex.config_label.text() == f"Settings file: {home / '.codex' / 'config.toml'}"
    assert claude.install_label.text() == "Settings found, not runnable here. Its settings folder exists, but " \
                                          "`claude` is not on PATH."
    assert claude.connection_label.text() == "Not connected; it points at https://proxy.example.com."
    assert gemini.install_label.text().startswith("Not found.") and gemini.connection_label.text() == "Not connected."
    assert not claude.try_button.isEnabled() and not claude.disconnect_button.isEnabled()


def test_connect_then_disconnect_from_the_page_gives_the_file_back(home: Path, desktop, page, qloop,
                                                                    qtbot) -> None:
    path = home / ".claude" / "settings.json"
    before = write(path, samples.CLAUDE_SETTINGS)
    run(qloop, page.refresh())
    card = page.cards["claude"]
    url = desktop.services.gateway_state.url
    connect(qloop, qtbot, page, "claude")
    env = json.loads(path.read_text())["env"]
    assert env["ANTHROPIC_BASE_URL"] == url and env["ANTHROPIC_MODEL"] == MODEL
    assert card.status.kind == "ok" and card.status.text() == f"Connected Claude Code: {path} now points at {url}."
    assert card.connection_label.text() == f"Connected to {url} · model {MODEL}"
    assert card.connect_button.text() == "Reconnect" and card.try_button.isEnabled()
    click(qtbot, card.disconnect_button)
    run(qloop, page.settle())
    assert path.read_bytes() == before
    assert card.status.text() == f"Disconnected Claude Code: {path} is as it was before."  # replaced, not stacked
    assert card.connection_label.text() == "Not connected; it points at https://proxy.example.com."


def test_connecting_shows_progress_and_blocks_a_second_click(home: Path, desktop, page, qloop, qtbot) -> None:
    card = page.cards["codex"]
    card.model_picker.setEditText(MODEL)

    async def click_and_look() -> None:
        click(qtbot, card.connect_button)
        assert card.status.kind == "busy" and card.status.text() == "Connecting Codex CLI…"
        assert not card.connect_button.isEnabled() and not card.disconnect_button.isEnabled()
        await card.action

    run(qloop, click_and_look())
    config = tomllib.loads((home / ".codex" / "config.toml").read_text())
    assert config["model_provider"] == "quotagate" and config["model"] == MODEL
    assert card.status.kind == "ok" and card.connect_button.isEnabled()


def test_a_broken_file_is_named_with_its_line_and_left_alone(home: Path, desktop, page, qloop, qtbot) -> None:
    path = home / ".codex" / "config.toml"
    before = write(path, 'model = "o3"\n[broken\n')
    run(qloop, page.refresh())
    card = page.cards["codex"]
    assert card.problem.kind == "error" and str(path) in card.problem.text() and "line 2" in card.problem.text()
    connect(qloop, qtbot, page, "codex")
    assert card.status.kind == "error" and str(path) in card.status.text() and "line 2" in card.status.text()
    assert path.read_bytes() == before


def test_a_read_only_file_is_refused_in_words(home: Path, desktop, page, qloop, qtbot) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    before = write(path, samples.OPENCODE_CONFIG, mode=0o444)
    run(qloop, page.refresh())
    connect(qloop, qtbot, page, "opencode")
    card = page.cards["opencode"]
    assert card.status.text() == f"{path} is read-only; make it writable, then try again."
    assert path.read_bytes() == before


def test_the_model_picker_offers_the_gateways_models_and_combos(openai_via_fake, desktop, page, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    run(qloop, desktop.services.configuration.add_combo({"name": "coding", "strategy": "priority",
                                                        "models": [MODEL]}))
    run(qloop, page.refresh())
    picker = page.cards["opencode"].model_picker
    items = [picker.itemText(i) for i in range(picker.count())]
    assert items[0] == "coding (combo)" and MODEL in items
    assert picker.currentText() == "coding (combo)"


def test_try_it_answers_through_the_gateway_with_the_time_it_took(home: Path, openai_via_fake, upstream, desktop,
                                                                  page, qloop, qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    connect(qloop, qtbot, page, "opencode")
    card = page.cards["opencode"]
    click(qtbot, card.try_button)
    run(qloop, page.settle())
    assert card.status.kind == "ok", card.status.text()
    assert re.fullmatch(r"OpenCode \(openai/gpt-4\.1\) answered in \d+ ms: “Hello from the fake upstream\.”",
                        card.status.text())
    assert upstream.requests[-1].body["model"] == "gpt-4.1" and upstream.requests[-1].path == "/v1/chat/completions"


def test_a_failed_try_says_what_the_gateway_said(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-status-503"))
    connect(qloop, qtbot, page, "claude")
    card = page.cards["claude"]
    click(qtbot, card.try_button)
    run(qloop, page.settle())
    assert card.status.kind == "error"
    assert re.match(r"Claude Code \(openai/gpt-4\.1\) failed after \d+ ms \(HTTP 5\d\d\): ", card.status.text())
    assert "fake failure 503" in card.status.text()


def test_a_slow_try_shows_the_elapsed_time_and_can_be_cancelled(openai_via_fake, desktop, page, qloop,
                                                                qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-slow"))
    connect(qloop, qtbot, page, "codex")
    card = page.cards["codex"]

    async def try_then_cancel() -> None:
        task = page.try_tool("codex")
        await asyncio.sleep(0.35)
        assert re.fullmatch(r"Trying Codex CLI… 0\.[2-9] s", card.status.text()), card.status.text()
        assert not card.cancel_button.isHidden() and not card.try_button.isEnabled()
        card.cancel_button.click()
        await asyncio.gather(task, return_exceptions=True)

    run(qloop, try_then_cancel())
    assert re.fullmatch(r"Codex CLI: cancelled after 0\.\d s\.", card.status.text())
    assert card.try_button.isEnabled() and card.cancel_button.isHidden()


def test_a_gateway_requiring_keys_gets_one_from_the_page(home: Path, openai_via_fake, desktop, page, qloop,
                                                         qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    run(qloop, desktop.services.configuration.update_settings({settings.KEY_REQUIRE_API_KEY: True},
                                                              reason="test"))
    run(qloop, page.refresh())
    assert page.key_box.isVisibleTo(page)
    connect(qloop, qtbot, page, "gemini")
    card = page.cards["gemini"]
    assert card.status.kind == "error" and "requires a client key" in card.status.text()
    assert not (home / ".gemini").exists()
    click(qtbot, page.create_key_button)
    run(qloop, page.settle())
    key = page.key_field.text()
    assert key.startswith("qg-") and page.key_status.kind == "ok"
    connect(qloop, qtbot, page, "gemini")
    assert f"GEMINI_API_KEY={key}\n" in (home / ".gemini" / ".env").read_text()
    click(qtbot, card.try_button)
    run(qloop, page.settle())
    assert card.status.kind == "ok", card.status.text()


def test_snippets_name_the_live_gateway_mask_the_key_and_copy_it_whole(desktop, page, qloop, qtbot) -> None:
    run(qloop, desktop.services.configuration.update_settings({settings.KEY_REQUIRE_API_KEY: True},
                                                              reason="test"))
    run(qloop, page.refresh())
    page.key_field.setText("qg-abcdefghijklmnopqrstuvwxyz")
    page.snippet_model.setEditText("coding")
    view = page.snippet_views["cline"]
    url = desktop.services.gateway_state.url
    shown = view.text.toPlainText()
    assert f"Base URL: {url}/v1" in shown and "Model ID: coding" in shown
    assert "qg-abcdefghijklmnopqrstuvwxyz" not in shown and "qg-a…wxyz" in shown
    click(qtbot, view.copy_button)
    assert "API Key: qg-abcdefghijklmnopqrstuvwxyz" in QGuiApplication.clipboard().text()
    assert view.copied.text() == "Copied the Cline settings to the clipboard."
    assert json.loads(page.snippet_views["zed"].full_text)["language_models"]


def test_the_page_and_the_api_connecting_at_once_agree(home: Path, desktop, page, qloop, qtbot) -> None:
    path = home / ".config" / "opencode" / "opencode.json"
    before = write(path, samples.OPENCODE_CONFIG)
    url = desktop.services.gateway_state.url

    async def both() -> list[httpx.Response]:
        page.cards["opencode"].model_picker.setEditText("from-window")
        window = page.connect_tool("opencode")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            answers = await asyncio.gather(*(client.post("/api/cli-tools/opencode-settings",
                                                         json={"model": f"api-{n}"}) for n in range(3)))
        await window
        return answers

    answers = run(qloop, both())
    assert all(answer.status_code == 200 for answer in answers)
    assert page.cards["opencode"].status.kind == "ok"
    config = jsonc.parse(path.read_text(), comments=True).value
    assert set(config["provider"]) == {"ollama", "quotagate"} and path.read_text().count('"quotagate": {') == 1
    click(qtbot, page.cards["opencode"].disconnect_button)
    run(qloop, page.settle())
    assert path.read_bytes() == before
