"""The Combos page, driven like a user would, against the real core services and a fake provider on loopback:
the configuration service does every check, the Test goes through the running gateway."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QTableWidget

from core.gateway.combos import ComboRef, ModelTarget, load_combos


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


def texts(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
            for r in range(table.rowCount())]


@pytest.fixture
def desktop(make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.combos_page.settle())
    return app


@pytest.fixture
def page(desktop):
    return desktop.combos_page


def connect(qloop, desktop, openai_via_fake, *keys: str) -> None:
    """OpenAI accounts account-0, account-1, … (in priority order) on the fake upstream."""
    run(qloop, openai_via_fake(desktop.services, *keys))
    run(qloop, desktop.combos_page.refresh())


def pick(dialog, text: str) -> None:
    dialog.targets.picker.setEditText(text)
    dialog.targets.add_button.click()


def save(qloop, qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)


def create(qloop, qtbot, page, name: str, *targets: str, strategy: str = "priority") -> QDialog:
    dialog = page.open_dialog()
    dialog.name_field.setText(name)
    dialog.set_strategy(strategy)
    for target in targets:
        pick(dialog, target)
    save(qloop, qtbot, dialog)
    return dialog


async def chat(url: str, model: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{url}/v1/chat/completions",
                                 json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def test_the_combos_page_comes_right_after_providers(desktop) -> None:
    titles = desktop.window.page_titles()
    assert titles[titles.index("Providers") + 1] == "Combos"


def test_an_empty_list_says_what_combos_are_for(page) -> None:
    assert page.table.isHidden() and not page.empty.isHidden()
    assert not page.edit_button.isEnabled() and not page.test_button.isEnabled()


def test_the_dialog_offers_connected_providers_models_and_other_combos(openai_via_fake, desktop, page, qloop,
                                                                      qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "base", "openai/gpt-4.1")
    dialog = page.open_dialog()
    offered = [dialog.targets.picker.itemText(i) for i in range(dialog.targets.picker.count())]
    assert "openai/gpt-4.1" in offered and "combo base" in offered
    assert not any(label.startswith("anthropic/") for label in offered)  # not connected


def test_each_strategy_is_explained_in_one_line_and_weights_count_only_when_weighted(page) -> None:
    dialog = page.open_dialog()
    pick(dialog, "openai/gpt-4.1")
    weight = dialog.targets.table.cellWidget(0, 2)
    dialog.set_strategy("weighted")
    assert dialog.strategy_hint.text().startswith("Shares requests by weight") and weight.isEnabled()
    dialog.set_strategy("priority")
    assert dialog.strategy_hint.text().startswith("Tries the targets in the listed order")
    assert not weight.isEnabled()


def test_a_combo_created_in_the_dialog_is_listed_and_served_by_the_gateway(openai_via_fake, upstream, desktop,
                                                                           page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    dialog = create(qloop, qtbot, page, "coding", "openai/gpt-4.1", "openai/gpt-4.1-mini")
    assert dialog.result() == QDialog.DialogCode.Accepted
    [combo] = load_combos()
    assert (combo.name, combo.strategy) == ("coding", "priority")
    assert combo.targets == (ModelTarget("openai/gpt-4.1"), ModelTarget("openai/gpt-4.1-mini"))
    assert texts(page.table) == [["coding", "Priority", "openai/gpt-4.1, openai/gpt-4.1-mini"]]
    assert page.status.text().startswith("Created coding.")
    response = run(qloop, chat(desktop.services.gateway_state.url, "coding"))
    assert response.status_code == 200 and upstream.requests[-1].body["model"] == "gpt-4.1"


def test_editing_changes_the_strategy_the_order_the_account_and_the_weight(openai_via_fake, desktop, page, qloop,
                                                                           qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok", "sk-ok")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/o3")
    dialog = page.open_dialog(page.combos[0])
    assert dialog.targets.labels() == ["openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/o3"]
    dialog.set_strategy("weighted")
    rows = dialog.targets
    rows.table.selectRow(1)
    rows.up_button.click()  # gpt-4.1-mini first
    rows.table.selectRow(2)
    rows.remove_button.click()  # o3 gone
    account = rows.table.cellWidget(0, 1)
    assert [account.itemText(i) for i in range(account.count())] == ["Any account", "account-0", "account-1"]
    account.setCurrentIndex(2)
    rows.table.cellWidget(1, 2).setValue(3)
    save(qloop, qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    [combo] = load_combos()
    second = desktop.services.accounts.accounts()[1]
    assert combo.strategy == "weighted"
    assert combo.targets == (ModelTarget("openai/gpt-4.1-mini", second.id, 1.0), ModelTarget("openai/gpt-4.1", None, 3.0))
    assert texts(page.table)[0][1:] == ["Weighted", "openai/gpt-4.1-mini (account-1) ×1, openai/gpt-4.1 ×3"]


def test_a_combo_can_point_to_another_combo(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "base", "openai/gpt-4.1")
    create(qloop, qtbot, page, "outer", "combo base")
    outer = next(c for c in load_combos() if c.name == "outer")
    assert outer.targets == (ComboRef("base"),)


def test_the_services_refusal_of_a_cycle_is_shown_in_the_dialog_and_nothing_changes(openai_via_fake, desktop, page,
                                                                                    qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "base", "openai/gpt-4.1")
    create(qloop, qtbot, page, "outer", "combo base")
    base = next(c for c in page.combos if c.name == "base")
    dialog = page.open_dialog(base)
    pick(dialog, "combo outer")
    save(qloop, qtbot, dialog)
    assert dialog.isVisible()
    assert re.match(r"Not saved: Combo “\w+” refers back to itself", dialog.error.text()), dialog.error.text()
    assert dialog.targets.labels() == ["openai/gpt-4.1", "combo outer"]  # the input is kept to fix
    assert next(c for c in load_combos() if c.name == "base").targets == (ModelTarget("openai/gpt-4.1"),)
    dialog.reject()


def test_a_combo_without_targets_is_refused_by_the_service(page, qloop, qtbot) -> None:
    dialog = create(qloop, qtbot, page, "empty")
    assert dialog.isVisible() and dialog.error.text().startswith("Not saved: `models` must be a non-empty array")
    assert load_combos() == []


def test_delete_asks_first_then_removes_the_combo(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1")
    box = page.confirm_delete()
    assert "coding" in box.text()
    box.confirm_button.click()
    run(qloop, page.settle())
    assert load_combos() == [] and page.table.isHidden()
    assert page.status.text() == "Deleted coding."


def test_deleting_a_combo_another_one_uses_shows_the_services_refusal(openai_via_fake, desktop, page, qloop,
                                                                      qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "base", "openai/gpt-4.1")
    create(qloop, qtbot, page, "outer", "combo base")
    page.table.selectRow(0)  # base (the list is by name)
    page.confirm_delete().confirm_button.click()
    run(qloop, page.settle())
    assert page.status.kind == "error"
    assert page.status.text() == "Could not delete base: Combo “base” is used by outer; remove it there first."
    assert len(load_combos()) == 2


def test_test_shows_the_target_that_answered_its_latency_and_the_fallback(openai_via_fake, upstream, desktop, page,
                                                                          qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-status-500", "sk-ok")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1")

    async def click_test() -> None:
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0)
        assert page.test_button.text() == "Test" and not page.test_button.isEnabled()  # the line counts
        assert page.status.kind == "busy" and page.status.text().startswith("Testing coding…")
        assert not page.cancel_test_button.isHidden()
        await page.settle()

    run(qloop, click_test())
    assert page.status.kind == "ok", page.status.text()
    assert re.fullmatch(r"coding: answered by openai/gpt-4\.1 \(account account-1\) in \d+ ms\. "
                        r"One target failed before it\.", page.status.text())
    assert upstream.requests[-1].body["max_tokens"] == 1
    assert page.test_button.isEnabled() and page.cancel_test_button.isHidden()


def test_a_failed_test_lists_each_targets_reason(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-status-500", "sk-status-503")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1")
    run(qloop, page.test_selected())
    text = page.status.text()
    assert page.status.kind == "error"
    assert re.match(r"coding: failed after \d+ ms \(HTTP 50\d\)\.", text), text
    assert "account-0" in text and "HTTP 500" in text and "account-1" in text and "HTTP 503" in text


def test_a_slow_test_shows_the_elapsed_time_and_can_be_cancelled(openai_via_fake, desktop, page, qloop,
                                                                 qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-slow")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1")

    async def test_then_cancel() -> None:
        task = page.test_selected()
        await asyncio.sleep(0.35)
        assert re.fullmatch(r"Testing coding… 0\.[2-9] s", page.status.text()), page.status.text()
        page.cancel_test_button.click()
        await asyncio.gather(task, return_exceptions=True)

    run(qloop, test_then_cancel())
    assert re.fullmatch(r"coding: test cancelled after 0\.\d s\.", page.status.text())
    assert page.test_button.isEnabled() and page.test_button.text() == "Test"


def test_target_health_shows_what_the_gateway_sets_aside_and_reset_clears_it(qloop, desktop, page,
                                                                             upstream, openai_via_fake) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-status-429", "sk-status-401")

    async def ask() -> None:  # the gateway runs on this loop: ask asynchronously
        async with httpx.AsyncClient(base_url=desktop.services.gateway_state.url, timeout=10) as client:
            await client.post("/v1/chat/completions", json={"model": "openai/gpt-4.1",
                                                            "messages": [{"role": "user", "content": "hi"}]})
    run(qloop, ask())
    page.show_health()
    rows = texts(page.health_table)
    assert [row[1] for row in rows] == ["Cooling down", "Set aside"]
    assert "openai/gpt-4.1 (account-0)" in rows[0][0] and "401" in rows[1][2]
    page.reset_button.click()
    assert texts(page.health_table) == [] and page.health_empty.isVisibleTo(page)


def test_account_selection_and_quota_reserve_are_set_in_the_dialog_and_kept(openai_via_fake, desktop, page, qloop,
                                                                           qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "pool", "openai/gpt-4.1")
    dialog = page.open_dialog(page.combos[0])
    assert dialog.selection_field.currentText() == "Gateway default" and dialog.threshold_field.text() == "Off"
    dialog.selection_field.setCurrentIndex(dialog.selection_field.findData("round-robin"))
    dialog.threshold_field.setValue(20)
    save(qloop, qtbot, dialog)
    [combo] = load_combos()
    assert (combo.options.account_selection, combo.options.quota_threshold) == ("round-robin", 20.0)
    again = page.open_dialog(page.combos[0])
    assert again.selection_field.currentData() == "round-robin" and again.threshold_field.value() == 20


# --- aliases, the one-target case, edited on the same page -----------------------------------------------


def test_an_alias_created_on_the_page_is_listed_and_served(openai_via_fake, upstream, desktop, page, qloop,
                                                           qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    section = page.aliases_section
    assert section.empty.isVisible() or section.table.rowCount() == 0
    dialog = section.open_dialog()
    assert "openai/gpt-4.1" in [dialog.model_field.itemText(i) for i in range(dialog.model_field.count())]
    dialog.name_field.setText("fast")
    dialog.model_field.setEditText("openai/gpt-4.1-mini")
    save(qloop, qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert texts(section.table) == [["fast", "openai/gpt-4.1-mini"]]
    assert desktop.services.accounts.aliases() == {"fast": "openai/gpt-4.1-mini"}
    response = run(qloop, chat(desktop.services.gateway_state.url, "fast"))
    assert response.status_code == 200 and upstream.requests[-1].body["model"] == "gpt-4.1-mini"


def test_editing_an_alias_changes_its_model_and_keeps_its_name(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    run(qloop, desktop.services.configuration.set_alias("fast", "openai/gpt-4.1"))
    run(qloop, page.refresh())
    section = page.aliases_section
    section.table.selectRow(0)
    dialog = section.open_dialog(section.selected())
    assert dialog.name_field.isReadOnly() and dialog.model_field.currentText() == "openai/gpt-4.1"
    dialog.model_field.setEditText("openai/o3")
    save(qloop, qtbot, dialog)
    assert desktop.services.accounts.aliases() == {"fast": "openai/o3"}
    assert texts(section.table) == [["fast", "openai/o3"]]


def test_an_alias_the_service_refuses_keeps_the_dialog_open_with_the_reason(openai_via_fake, desktop, page, qloop,
                                                                            qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    create(qloop, qtbot, page, "coding", "openai/gpt-4.1")
    dialog = page.aliases_section.open_dialog()
    dialog.name_field.setText("coding")
    dialog.model_field.setEditText("openai/gpt-4.1")
    save(qloop, qtbot, dialog)
    assert dialog.result() != QDialog.DialogCode.Accepted and "already a combo" in dialog.error.text()
    assert desktop.services.accounts.aliases() == {}


def test_deleting_an_alias_asks_first(openai_via_fake, desktop, page, qloop, qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok")
    run(qloop, desktop.services.configuration.set_alias("fast", "openai/gpt-4.1"))
    run(qloop, page.refresh())
    section = page.aliases_section
    section.table.selectRow(0)
    box = section.confirm_delete()
    assert desktop.services.accounts.aliases() == {"fast": "openai/gpt-4.1"}  # nothing yet
    box.confirm_button.click()
    run(qloop, page.settle())
    assert desktop.services.accounts.aliases() == {} and section.table.rowCount() == 0
    assert section.status.text() == "Deleted fast."


def test_targets_are_reordered_by_dragging_a_row_with_its_account_and_weight(openai_via_fake, desktop, page, qloop,
                                                                            qtbot) -> None:
    connect(qloop, desktop, openai_via_fake, "sk-ok", "sk-ok")
    dialog = page.open_dialog()
    dialog.name_field.setText("coding")
    dialog.set_strategy("weighted")
    for target in ("openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/o3"):
        pick(dialog, target)
    table = dialog.targets.table
    table.cellWidget(0, 1).setCurrentIndex(2)  # gpt-4.1 pinned to account-1
    table.cellWidget(0, 2).setValue(4)
    assert table.dragEnabled() and table.dragDropMode() == table.DragDropMode.InternalMove
    table.selectRow(0)
    table.drop_selected_at(table.visualRect(table.model().index(2, 0)).center().y())  # onto the last row
    assert dialog.targets.labels() == ["openai/gpt-4.1-mini", "openai/o3", "openai/gpt-4.1"]
    assert table.cellWidget(2, 1).currentText() == "account-1" and table.cellWidget(2, 2).value() == 4
    table.selectRow(2)
    table.drop_selected_at(-1)  # above the rows: nothing there, goes to the end (it already is)
    table.selectRow(1)
    table.drop_selected_at(table.visualRect(table.model().index(0, 0)).center().y())
    assert dialog.targets.labels() == ["openai/o3", "openai/gpt-4.1-mini", "openai/gpt-4.1"]
