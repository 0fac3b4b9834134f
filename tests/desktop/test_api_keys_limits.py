"""Limits on client API keys, set in the API keys window like a user would, against the real configuration service
and gateway: stored, summarised in the keys table, refused when the service refuses them, enforced by the gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QTableWidget

from core.gateway import client_keys
from desktop.pages.api_keys import limits_summary

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
NO_LIMITS = {"models": [], "rpm": None, "dailyUsd": None, "monthlyUsd": None}
LIMITS_COLUMN = 5


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


async def post(url: str, body: dict, key: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        return await client.post(f"{url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"})


def limits_cell(table: QTableWidget, row: int = 0) -> str:
    return table.item(row, LIMITS_COLUMN).text()


@pytest.fixture
def desktop(make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.api_keys_page.settle())
    return app


def create_key(desktop, qloop, name: str = "Cursor") -> str:
    """A key made through the configuration service; the page shows it selected."""
    created = run(qloop, desktop.services.configuration.create_key(name))
    page = desktop.api_keys_page
    run(qloop, page.refresh())
    page.table.selectRow(0)
    return created.key


def save(qloop, qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    if dialog.save_task is not None:
        run(qloop, dialog.save_task)


def stored_limits() -> dict[str, Any]:
    return client_keys.list_keys()[0]["limits"]


def test_the_limits_button_needs_a_selected_active_key(desktop, qloop) -> None:
    page = desktop.api_keys_page
    assert not page.limits_button.isEnabled() and page.open_limits_dialog() is None
    create_key(desktop, qloop)
    assert page.limits_button.isEnabled()
    assert limits_cell(page.table) == "—"
    run(qloop, desktop.services.configuration.revoke_key(page.keys[0]["id"]))
    run(qloop, page.refresh())
    page.table.selectRow(0)
    assert not page.limits_button.isEnabled()


def test_limits_set_in_the_dialog_are_stored_and_summarised(openai_via_fake, upstream, desktop, qloop,
                                                            qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    page = desktop.api_keys_page
    run(qloop, page.refresh())
    create_key(desktop, qloop)
    dialog = page.open_limits_dialog()
    assert dialog.isVisible() and dialog.models() == []
    offered = [dialog.picker.itemData(i) for i in range(dialog.picker.count())]
    assert "openai/gpt-4.1" in offered  # the connected provider's models are offered
    dialog.picker.setCurrentIndex(offered.index("openai/gpt-4.1"))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    dialog.picker.setEditText("anthropic/*")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.picker.lineEdit(), "coding")
    qtbot.keyClick(dialog.picker.lineEdit(), Qt.Key.Key_Return)  # Enter adds the model, and does not save
    assert dialog.save_task is None and dialog.isVisible()
    dialog.picker.setEditText("openai/gpt-4.1")  # already listed: not added twice
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert dialog.models() == ["openai/gpt-4.1", "anthropic/*", "coding"]
    dialog.rpm_field.setValue(60)
    dialog.daily_field.setValue(5)
    dialog.monthly_field.setValue(100.5)
    save(qloop, qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert stored_limits() == {"models": ["openai/gpt-4.1", "anthropic/*", "coding"], "rpm": 60, "dailyUsd": 5.0,
                               "monthlyUsd": 100.5}
    assert limits_cell(page.table) == "openai/gpt-4.1, anthropic/*, coding · 60/min · $5/day · $100.50/month"
    assert "anthropic/*" in page.table.item(0, LIMITS_COLUMN).toolTip()
    assert page.feedback.text().startswith("Saved the limits of “Cursor”")

    # Opened again, the dialog shows what is stored; removing a model stores the rest.
    dialog = page.open_limits_dialog()
    assert dialog.models() == ["openai/gpt-4.1", "anthropic/*", "coding"] and dialog.rpm_field.value() == 60
    dialog.models_list.setCurrentRow(1)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    save(qloop, qtbot, dialog)
    assert stored_limits()["models"] == ["openai/gpt-4.1", "coding"]


def test_clearing_every_limit_stores_none(desktop, qloop, qtbot) -> None:
    created = run(qloop, desktop.services.configuration.create_key(
        "Cline", {"models": ["coding"], "rpm": 10, "dailyUsd": 1, "monthlyUsd": None}))
    page = desktop.api_keys_page
    run(qloop, page.refresh())
    page.table.selectRow(0)
    assert limits_cell(page.table) == "coding · 10/min · $1/day"
    dialog = page.open_limits_dialog()
    dialog.models_list.selectAll()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    dialog.rpm_field.setValue(0)
    dialog.daily_field.setValue(0)
    assert dialog.rpm_field.text() == "No limit" and dialog.daily_field.text() == "No limit"
    save(qloop, qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert stored_limits() == NO_LIMITS and client_keys.key_limits() == {}
    assert limits_cell(page.table) == "—" and page.keys[0]["id"] == created.id


def test_a_refused_pattern_is_shown_in_the_dialog_and_nothing_is_stored(desktop, qloop, qtbot) -> None:
    page = desktop.api_keys_page
    create_key(desktop, qloop)
    dialog = page.open_limits_dialog()
    dialog.add_model("x" * 401)  # longer than any model name the configuration accepts
    dialog.rpm_field.setValue(30)
    save(qloop, qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.kind == "error"
    assert dialog.error.text().startswith("Not saved: `limits.models` must be a list")
    assert dialog.rpm_field.value() == 30 and len(dialog.models()) == 1  # the input is kept
    assert stored_limits() == NO_LIMITS and limits_cell(page.table) == "—"
    dialog.reject()


def test_the_gateway_refuses_a_model_outside_the_keys_list(openai_via_fake, upstream, desktop, qloop,
                                                           qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    page = desktop.api_keys_page
    key = create_key(desktop, qloop)
    url = desktop.services.gateway_state.url
    assert run(qloop, post(url, CHAT, key)).status_code == 200
    dialog = page.open_limits_dialog()
    dialog.add_model("openai/gpt-4o*")
    save(qloop, qtbot, dialog)
    response = run(qloop, post(url, CHAT, key))
    assert response.status_code == 403
    assert "openai/gpt-4o*" in response.json()["error"]["message"]
    assert len(upstream.requests) == 1  # refused before any provider was called


def test_the_summary_shortens_long_model_lists() -> None:
    assert limits_summary(None) == "—"
    assert limits_summary({"models": ["a", "b", "c", "d", "e"], "rpm": 1200}) == "a, b, c +2 · 1,200/min"
