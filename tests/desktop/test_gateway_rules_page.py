"""The Gateway rules page, used like a user would (pytest-qt, offscreen) against the real configuration service
and gateway: the IP filter and the global rate limit saved from the window (checked by the same rules as the
API, recorded in the audit log as the window's), the read-only availability and audit views, and the desktop
app restarting or quitting when the management API asks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from core import audit, lifecycle, settings


def run(loop, awaitable) -> Any:
    return loop.run_until_complete(awaitable)


async def api(method: str, url: str, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as http:
        return await http.request(method, path, **kwargs)


@pytest.fixture
def desktop(make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.gateway_rules_page.refresh())
    return app


def save(loop, qtbot, page) -> bool:
    qtbot.mouseClick(page.commit.save_button, Qt.MouseButton.LeftButton)
    return run(loop, page.commit.save_task)


def test_the_page_is_in_the_settings_window(desktop) -> None:
    assert "Gateway rules" in desktop.window.page_titles()


def test_rules_saved_in_the_window_apply_and_are_audited_as_the_windows(desktop, qloop, qtbot) -> None:
    page = desktop.gateway_rules_page
    page.allow_edit.setPlainText("192.168.1.0/24\n\n  10.0.0.7  \n")
    page.block_edit.setPlainText("192.168.1.66")
    page.rate_spin.setValue(120)
    assert save(qloop, qtbot, page)
    assert page.feedback.kind == "ok", page.feedback.text()
    assert page.feedback.text() == "Saved. The gateway uses the new rules now."
    store = desktop.services.store
    assert store.get_setting(settings.KEY_IP_FILTER) == {"allow": ["192.168.1.0/24", "10.0.0.7"],
                                                         "block": ["192.168.1.66"]}
    assert store.get_setting(settings.KEY_RATE_LIMIT) == {"requestsPerMinute": 120}
    rules = desktop.services.runtime.config.rules
    assert rules.requests_per_minute == 120 and rules.ip_filter.refusal("192.168.1.66") is not None
    [entry] = audit.recent(5)
    assert entry["source"] == "window" and entry["action"] == "changing the gateway rules"
    # The audit tab shows it (refreshed after the save).
    assert page.audit_table.rowCount() == 1 and page.audit_table.item(0, 1).text() == "window"
    # The form shows what was stored, tidied, and has nothing left to save.
    assert page.allow_edit.toPlainText() == "192.168.1.0/24\n10.0.0.7" and not page.commit.dirty

    page.rate_spin.setValue(0)  # "No limit"
    save(qloop, qtbot, page)
    assert store.get_setting(settings.KEY_RATE_LIMIT) is None
    assert desktop.services.runtime.config.rules.requests_per_minute is None


def test_a_bad_entry_is_refused_in_words_under_the_lists_and_nothing_is_saved(desktop, qloop, qtbot) -> None:
    page = desktop.gateway_rules_page
    page.allow_edit.setPlainText("10.0.0.0/8\nnot-an-address")
    page.rate_spin.setValue(50)
    assert not save(qloop, qtbot, page)
    assert page.feedback.kind == "error" and page.feedback.text() == "Not saved: see the message under the field."
    assert "'not-an-address' is not an IP address or a CIDR range" in page.ip_error.text()
    assert page.commit.dirty and page.allow_edit.toPlainText() == "10.0.0.0/8\nnot-an-address"  # nothing lost
    assert desktop.services.store.get_setting(settings.KEY_IP_FILTER) is None
    assert desktop.services.store.get_setting(settings.KEY_RATE_LIMIT) is None  # one change: all or nothing
    assert audit.recent(5) == []


def test_an_api_change_shows_in_the_audit_tab_with_its_secret_masked(desktop, qloop) -> None:
    secret = "sk-live-0123456789abcdefSECRET"
    response = run(qloop, api("POST", desktop.services.gateway_state.url, "/api/providers",
                              json={"provider": "openai", "apiKey": secret}))
    assert response.status_code == 201
    page = desktop.gateway_rules_page
    run(qloop, page.refresh())
    table = page.audit_table
    assert table.rowCount() == 1 and table.item(0, 1).text() == "API"
    assert table.item(0, 2).text() == "adding a provider connection"
    assert "sk-l…CRET" in table.item(0, 3).text() and secret not in table.item(0, 3).text()


def test_availability_names_every_target_and_why(desktop, qloop, qtbot) -> None:
    services = desktop.services
    services.accounts.create_account("openai", "Work", "sk-ok")
    services.accounts.create_account("openai", "Old", "sk-old", active=False)
    run(qloop, services.reload_gateway_config())
    page = desktop.gateway_rules_page
    run(qloop, page.refresh())
    assert page.model_box.findText("openai/gpt-4.1") >= 0  # the models the gateway lists are offered
    page.model_box.setEditText("openai/gpt-4.1")
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    run(qloop, page.check_task)
    table = page.targets_table
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(5)] for r in range(table.rowCount())}
    assert rows["Work"][1:3] == ["openai/gpt-4.1", "ready"]
    assert rows["Old"][2:4] == ["unavailable", "switched off"]
    assert page.availability_status.text() == "openai/gpt-4.1: 1 of 2 targets can serve it now."


def test_the_management_api_restarts_and_quits_the_desktop_app(desktop, qloop) -> None:
    url = desktop.services.gateway_state.url
    assert lifecycle.can("restart") and lifecycle.can("shutdown")
    assert run(qloop, api("POST", url, "/api/shutdown")).status_code == 202
    run(qloop, desktop._quit.wait())
    assert desktop.restart_requested is False
    desktop._quit.clear()
    assert run(qloop, api("POST", url, "/api/restart")).status_code == 202
    run(qloop, desktop._quit.wait())
    assert desktop.restart_requested is True
    run(qloop, desktop.shutdown())
    assert not lifecycle.can("restart")  # a stopped app takes no more requests to restart


def test_why_a_target_waits_reads_in_chinese_while_the_api_answers_in_english(desktop, qloop, qtbot,
                                                                              chinese_ui) -> None:
    services = desktop.services
    for name in ("Work", "Busy"):
        services.accounts.create_account("openai", name, "sk-ok")
    services.accounts.create_account("openai", "Old", "sk-old", active=False)
    run(qloop, services.reload_gateway_config())
    upstreams = {u.account_name: u for u in services.runtime.config.table.resolve("openai/gpt-4.1").upstreams}
    services.runtime.resilience.failed(upstreams["Work"], 401)  # the provider rejected the key
    services.runtime.resilience.failed(upstreams["Busy"], 500)
    page = desktop.gateway_rules_page
    page.model_box.setEditText("openai/gpt-4.1")
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    run(qloop, page.check_task)
    table = page.targets_table
    why = {table.item(r, 0).text(): table.item(r, 3).text() for r in range(table.rowCount())}
    assert why == {"Work": "该账户拒绝了密钥 (HTTP 401)；在其配置更改前跳过", "Busy": "冷却中：出错 (HTTP 500)",
                   "Old": "已停用"}
    response = run(qloop, api("POST", services.gateway_state.url, "/api/models/availability",
                              json={"model": "openai/gpt-4.1"}))
    reasons = {t["account"]: t["reason"] for t in response.json()["targets"]}
    assert reasons == {
        "Work": "the account rejected the key (HTTP 401); skipped until its configuration changes",
        "Busy": "cooling down: failing (HTTP 500)", "Old": "switched off"}
