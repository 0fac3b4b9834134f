"""The Requests page (system prompt, default thinking) and the Dashboard's Evaluations tab, driven like a
user would, against the real core services and a fake provider on loopback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core import settings


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


@pytest.fixture
def desktop(make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.requests_page.settle())
    return app


def test_the_requests_page_is_listed_before_backups(desktop) -> None:
    titles = desktop.window.page_titles()
    assert titles.index("Request defaults") == titles.index("Backups") - 1


def test_a_system_prompt_saved_in_the_window_reaches_the_provider(openai_via_fake, upstream, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    page = desktop.requests_page
    page.prompt_enabled.setChecked(True)
    page.prompt_text.setPlainText("Be kind.")
    page.thinking_mode.setCurrentIndex(page.thinking_mode.findData("effort"))
    page.thinking_effort.setCurrentIndex(page.thinking_effort.findData("low"))
    assert page.commit.dirty and page.commit.save_button.isEnabled()
    run(qloop, page.save())
    assert page.feedback.kind == "ok" and not page.commit.dirty
    store = desktop.services.store
    assert store.get_setting(settings.KEY_SYSTEM_PROMPT) == {"enabled": True, "prompt": "Be kind.",
                                                             "position": "prefix"}
    assert store.get_setting(settings.KEY_THINKING_BUDGET)["effort"] == "low"

    async def chat() -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.post(f"{desktop.services.gateway_state.url}/v1/chat/completions", json={
                "model": "openai/gpt-5", "messages": [{"role": "user", "content": "hi"}]})

    assert run(qloop, chat()).status_code == 200
    sent = upstream.requests[-1].body
    assert sent["messages"][0] == {"role": "system", "content": "Be kind."} and sent["reasoning_effort"] == "low"


def test_an_empty_enabled_prompt_is_refused_by_core_and_the_input_stays(desktop, qloop) -> None:
    page = desktop.requests_page
    page.prompt_enabled.setChecked(True)
    run(qloop, page.save())
    assert page.feedback.kind == "error" and "empty" in page.prompt_error.text()  # under the prompt itself
    assert page.feedback.text() == "Not saved: see the message under the field."
    assert page.commit.dirty and page.prompt_enabled.isChecked()
    page.prompt_text.setPlainText("Be brief.")  # editing the prompt clears its message
    assert page.prompt_error.text() == "" and page.feedback.text() == "Unsaved changes."
    assert desktop.services.store.get_setting(settings.KEY_SYSTEM_PROMPT) is None


def test_the_dashboard_runs_an_evaluation_and_lists_it(openai_via_fake, upstream, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    panel = desktop.dashboard_page.evals_panel
    run(qloop, panel.refresh())
    assert panel.suite_field.currentText() == "smoke"
    panel.targets_field.setText("openai/gpt-4.1")
    run(qloop, panel.run())
    assert panel.status.kind == "ok" and "openai/gpt-4.1 0/3" in panel.status.text()
    assert panel.table.rowCount() == 1
    row = [panel.table.item(0, c).text() for c in range(panel.table.columnCount())]
    assert row[1:4] == ["smoke", "openai/gpt-4.1", "0/3 (0 %)"]
    assert row[5:7] == ["36", "18"]


def test_an_evaluation_without_targets_says_so(desktop, qloop) -> None:
    panel = desktop.dashboard_page.evals_panel
    run(qloop, panel.refresh())
    run(qloop, panel.run())
    assert panel.status.kind == "error" and "`targets`" in panel.status.text()
