"""The gateway's windows: Providers, Proxies, API keys and Dashboard, driven like a user would, against the
real core services and a real fake provider on loopback."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QTableWidget

from core import settings
from core.store.models import ProviderAccount
from desktop.widgets.chart import ChartSeries, TimeSeriesChart, nice_ceiling
from core.net.proxies import proxy_url as validate_proxy_url
from core.settings import SettingError as ProxyUrlError
from tests.fakes.proxies import HttpProxy

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
LONG_KEY = "sk-proj-abcdefghijklmnop1234"


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


async def post(url: str, body: dict, headers: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{url}/v1/chat/completions", json=body, headers=headers or {})


def texts(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
            for r in range(table.rowCount())]


@pytest.fixture
def desktop(make_desktop, qloop):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    for page in (app.providers_page, app.proxies_page, app.api_keys_page, app.dashboard_page):
        run(qloop, page.settle())
    return app


def add_account_through_dialog(qloop, qtbot, page, provider: str, name: str, key: str) -> QDialog:
    page.select("provider", provider)
    dialog = page.open_account_dialog()
    dialog.name_field.setText(name)
    dialog.key_field.setText(key)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)
    return dialog


# -- Providers --------------------------------------------------------------------------------------

def test_the_window_lists_the_gateway_pages_after_general(desktop) -> None:
    assert desktop.window.page_titles()[3:11] == ["Providers", "Combos", "Proxies", "API keys", "Gateway rules", "Tools",
                                                  "Dashboard", "Request defaults"]


def test_an_account_added_in_the_dialog_is_stored_encrypted_and_served_at_once(
        openai_via_fake, upstream, desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    dialog = add_account_through_dialog(qloop, qtbot, page, "openai", "Work", "sk-ok")
    assert dialog.result() == QDialog.DialogCode.Accepted
    row = ProviderAccount.get()
    assert (row.provider, row.name) == ("openai", "Work")
    assert b"sk-ok" not in bytes(row.secret)
    response = run(qloop, post(desktop.services.gateway_state.url, CHAT))
    assert response.status_code == 200
    assert upstream.requests[-1].headers["authorization"] == "Bearer sk-ok"
    assert page.status.text().startswith("Added Work.")


def test_a_connected_provider_is_marked_in_the_catalogue(openai_via_fake, upstream, desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Work", "sk-ok")
    items = {page.provider_list.item(i).text(): page.provider_list.item(i) for i in range(page.provider_list.count())}
    assert items["OpenAI"].font().bold() and "Connected" in items["OpenAI"].toolTip()
    assert not items["Anthropic"].font().bold() and "Not connected" in items["Anthropic"].toolTip()


def test_keys_are_masked_in_the_accounts_table(desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Work", LONG_KEY)
    assert texts(page.accounts_table) == [["Work", "sk-p…1234", "0", "Active", "—"]]
    shown = " ".join(w.text() for w in page.findChildren(type(page.status)))
    assert LONG_KEY not in shown


def test_editing_an_account_without_retyping_the_key_keeps_it(openai_via_fake, upstream, desktop, qloop,
                                                               qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Work", "sk-ok")
    dialog = page.open_account_dialog(page.accounts[0])
    assert dialog.key_field.text() == "" and "Leave empty to keep" in dialog.key_field.edit.placeholderText()
    dialog.name_field.setText("Office")
    dialog.priority_field.setValue(5)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)
    assert texts(page.accounts_table) == [["Office", "•••••", "5", "Active", "—"]]
    assert run(qloop, post(desktop.services.gateway_state.url, CHAT)).status_code == 200


def test_a_missing_key_is_refused_by_the_configuration_in_the_dialog_and_nothing_is_stored(desktop, qloop,
                                                                                          qtbot) -> None:
    page = desktop.providers_page
    page.select("provider", "openai")
    dialog = page.open_account_dialog()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)
    assert dialog.isVisible()
    assert dialog.error.text().startswith("Not saved: `apiKey` is required for OpenAI")
    assert ProviderAccount.select().count() == 0


def test_a_store_refusal_is_shown_inline_and_the_dialog_keeps_the_input(desktop, qloop, qtbot) -> None:
    dialog = desktop.providers_page.open_endpoint_dialog()
    dialog.prefix_field.setText("my node!")
    dialog.url_field.setText("http://127.0.0.1:9/v1")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)
    assert dialog.isVisible()
    assert dialog.error.text().startswith("Not saved: `prefix` may use a-z")
    assert dialog.prefix_field.text() == "my node!"


def test_test_reports_the_latency_and_models_with_a_busy_state(openai_via_fake, upstream, desktop, qloop,
                                                                qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Work", "sk-ok")

    async def click_test() -> None:
        qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
        await asyncio.sleep(0)
        assert page.test_button.isHidden() and page.test_action.cancel_button.isVisibleTo(page)  # in its place
        assert page.status.kind == "busy" and re.fullmatch(r"Testing Work… 0\.\d s", page.status.text())
        await page.test_task

    run(qloop, click_test())
    assert page.status.kind == "ok"
    assert re.fullmatch(r"Work: Connected in \d+ ms, 1 model\.", page.status.text())
    assert page.test_button.isEnabled() and page.test_button.isVisibleTo(page)
    assert page.test_action.cancel_button.isHidden()
    assert ["fake-model", "live"] == texts(page.models_table)[-1][:2]


def test_test_explains_a_rejected_key_in_words(openai_via_fake, upstream, desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Old key", "sk-status-401")
    run(qloop, page.test_selected())
    assert page.status.kind == "error"
    assert page.status.text().startswith("Old key: The provider rejected the API key (HTTP 401)")


def test_removing_an_account_asks_first(openai_via_fake, upstream, desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    add_account_through_dialog(qloop, qtbot, page, "openai", "Work", "sk-ok")
    page.confirm_remove_account().reject()
    run(qloop, page.settle())
    assert ProviderAccount.select().count() == 1
    page.confirm_remove_account().confirm_button.click()
    run(qloop, page.settle())
    assert ProviderAccount.select().count() == 0
    assert page.accounts_empty.isVisibleTo(page) and not page.accounts_table.isVisibleTo(page)
    assert run(qloop, post(desktop.services.gateway_state.url, CHAT)).status_code == 400


def test_a_custom_endpoint_from_the_dialog_serves_with_its_headers(upstream, desktop, qloop, qtbot) -> None:
    page = desktop.providers_page
    dialog = page.open_endpoint_dialog()
    dialog.prefix_field.setText("mynode")
    dialog.name_field.setText("My node")
    dialog.url_field.setText(f"{upstream.url}/v1")
    name, value = dialog.header_rows.add_row()
    name.setText("X-Team")
    value.setText("blue-team-token-123")
    dialog.key_field.setText("sk-ok")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.save_task)
    assert dialog.result() == QDialog.DialogCode.Accepted
    response = run(qloop, post(desktop.services.gateway_state.url, {**CHAT, "model": "mynode/llama3"}))
    assert response.status_code == 200
    assert upstream.requests[-1].headers["x-team"] == "blue-team-token-123"
    assert page.endpoint_headers_label.text() == "X-Team: blue…-123"
    assert page.endpoint_key_label.text() == "•••••"
    run(qloop, page.test_selected())
    assert page.endpoint_status.kind == "ok" and texts(page.endpoint_models_table) == [["fake-model"]]


# -- Proxies ----------------------------------------------------------------------------------------

def test_a_saved_global_proxy_carries_gateway_traffic(openai_via_fake, upstream, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    page = desktop.proxies_page
    with HttpProxy(credentials=("bob", "pw")) as proxy:
        page.global_field.set_url(proxy.url)
        assert page.global_field.address.text() == f"http://127.0.0.1:{proxy.port}"  # sign-in kept apart
        assert page.global_field.password.text() == "pw"
        page.global_field.changed.emit()
        run(qloop, page.save())
        assert page.feedback.text() == "Saved. New requests use these proxies."
        assert desktop.services.store.get_setting(settings.KEY_PROXY) == {"global": proxy.url, "providers": {}}
        assert run(qloop, post(desktop.services.gateway_state.url, CHAT)).status_code == 200
        assert proxy.seen == [f"POST {upstream.url}/v1/chat/completions"]


def test_a_proxy_with_an_unsupported_scheme_is_refused_and_nothing_is_saved(desktop, qloop) -> None:
    page = desktop.proxies_page
    page.global_field.address.setText("ftp://127.0.0.1:21")
    assert not run(qloop, page.save())
    assert page.feedback.kind == "error"
    assert "'ftp://' proxies are not supported" in page.global_field.error.text()  # beside the field
    assert desktop.services.store.get_setting(settings.KEY_PROXY) is None
    assert page.dirty  # the input stays for the user to fix


@pytest.mark.parametrize("url", ["http://proxy:3128", "https://proxy", "socks5://127.0.0.1:1080",
                                 "socks5h://u:p@127.0.0.1:1080"])
def test_the_four_proxy_schemes_are_accepted(url) -> None:
    assert validate_proxy_url(url) == url


@pytest.mark.parametrize("typed, read", [("localhost:3128", "http://localhost:3128"),
                                         ("127.0.0.1:8080", "http://127.0.0.1:8080"),
                                         (" proxy.corp ", "http://proxy.corp"),
                                         ("bob:pw@localhost:3128", "http://bob:pw@localhost:3128")])
def test_an_address_without_a_scheme_is_read_as_http(typed, read) -> None:
    assert validate_proxy_url(typed) == read


@pytest.mark.parametrize("url, why", [("localhost:3128/path", "without a path"),
                                      ("socks4://127.0.0.1:1080", "not supported"),
                                      ("socks5://127.0.0.1", "port"), ("http://:8080", "needs a host"),
                                      ("http://proxy:99999", "port")])
def test_unusable_proxy_urls_say_what_to_fix(url, why) -> None:
    with pytest.raises(ProxyUrlError, match=why):
        validate_proxy_url(url)


def test_a_provider_proxy_is_added_masked_and_saved(desktop, qloop) -> None:
    page = desktop.proxies_page
    dialog = page.open_override_dialog()
    dialog.provider_field.setCurrentIndex(dialog.provider_field.findData("deepseek"))
    dialog.proxy_field.address.setText("socks5h://127.0.0.1:1080")
    dialog.proxy_field.user.setText("alice")
    dialog.proxy_field.password.setText("s3cret")
    assert dialog.submit()
    assert texts(page.table) == [["DeepSeek", "socks5h://•••@127.0.0.1:1080"]]
    run(qloop, page.save())
    assert desktop.services.store.get_setting(settings.KEY_PROXY) == {
        "global": None, "providers": {"deepseek": "socks5h://alice:s3cret@127.0.0.1:1080"}}


def test_the_proxy_test_reports_a_working_proxy(openai_via_fake, upstream, desktop, qloop) -> None:
    page = desktop.proxies_page
    with HttpProxy() as proxy:
        page.global_field.address.setText(proxy.url)
        run(qloop, page.test_global())
    assert page.global_result.kind == "ok" and page.global_result.text().startswith("The proxy works")
    assert desktop.services.store.get_setting(settings.KEY_PROXY) is None  # testing saves nothing


# -- API keys ---------------------------------------------------------------------------------------

def create_key(qloop, qtbot, page, name: str) -> str:
    dialog = page.open_create_dialog()
    dialog.name_field.setText(name)
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    run(qloop, dialog.create_task)
    key = dialog.key_field.text()
    assert dialog.steps.currentIndex() == 1 and dialog.key_field.isReadOnly()
    dialog.copy_key()
    dialog.accept()
    assert dialog.key_field.text() == ""  # shown once: gone when the dialog closes
    return key


def test_a_created_key_is_shown_once_then_only_masked(desktop, qloop, qtbot) -> None:
    page = desktop.api_keys_page
    key = create_key(qloop, qtbot, page, "Cursor")
    assert key.startswith("qg-") and len(key) > 30
    assert QGuiApplication.clipboard().text() == key
    rows = texts(page.table)
    assert [rows[0][0], rows[0][1], rows[0][3], rows[0][4]] == ["Cursor", key[:8] + "…", "never", "Active"]
    assert not any(key in text for row in rows for text in row)


def test_a_revoked_key_is_refused_by_the_gateway(openai_via_fake, upstream, desktop, qloop, qtbot) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    page = desktop.api_keys_page
    key = create_key(qloop, qtbot, page, "Cursor")
    page.require_box.setChecked(True)
    assert run(qloop, page.commit.save())
    url = desktop.services.gateway_state.url
    assert run(qloop, post(url, CHAT)).status_code == 401
    assert run(qloop, post(url, CHAT, {"authorization": f"Bearer {key}"})).status_code == 200
    page.table.selectRow(0)
    page.confirm_revoke().confirm_button.click()
    run(qloop, page.settle())
    assert texts(page.table)[0][4] == "Revoked" and not page.revoke_button.isEnabled()
    assert run(qloop, post(url, CHAT, {"authorization": f"Bearer {key}"})).status_code == 401


def test_the_page_says_keys_are_optional_on_loopback(desktop) -> None:
    page = desktop.api_keys_page
    assert "keys are optional now" in page.mode_label.text()
    assert page.empty.isVisibleTo(page)


# -- Dashboard --------------------------------------------------------------------------------------

def test_the_dashboard_totals_requests_through_the_gateway(openai_via_fake, upstream, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    url = desktop.services.gateway_state.url
    for _ in range(2):
        assert run(qloop, post(url, CHAT)).status_code == 200
    desktop.services.store.writer.flush()
    page = desktop.dashboard_page
    run(qloop, page.request_refresh())
    assert page.requests_card.value.text() == "2"
    assert page.tokens_in_card.value.text() == "24"
    assert page.tokens_out_card.value.text() == "12"
    assert page.errors_card.value.text() == "0"
    assert page.cost_card.value.text().startswith("$0.0001")
    assert sum(v or 0 for v in page.chart.series[0].values) == 2
    assert texts(page.providers_table)[0][:2] == ["OpenAI", "2"]
    assert texts(page.models_table)[0][:3] == ["gpt-4.1", "OpenAI", "2"]
    assert [row[1:4] for row in texts(page.log_table)] == [["OpenAI", "gpt-4.1", "200"]] * 2
    assert page.page_label.text() == "1–2 of 2"


def test_the_request_log_filters_by_status_and_search(openai_via_fake, upstream, desktop, qloop) -> None:
    run(qloop, openai_via_fake(desktop.services, "sk-ok"))
    assert run(qloop, post(desktop.services.gateway_state.url, CHAT)).status_code == 200
    desktop.services.store.writer.flush()
    page = desktop.dashboard_page
    run(qloop, page.request_refresh())
    page.status_filter.setCurrentIndex(page.status_filter.findData("error"))
    run(qloop, page.settle())
    assert page.log_view.currentIndex() == 1 and page.log_view.empty.text() == "No requests match these filters."
    page.status_filter.setCurrentIndex(0)
    page.search_field.setText("gpt-4.1")
    page._search_timer.timeout.emit()
    run(qloop, page.settle())
    assert len(texts(page.log_table)) == 1


def test_the_dashboard_refreshes_itself_only_while_visible(desktop, qloop, qtbot) -> None:
    desktop.window.show()
    desktop.window.show_page("Dashboard")
    qtbot.waitUntil(lambda: desktop.dashboard_page.auto_refresh.isActive())
    desktop.window.show_page("General")
    assert not desktop.dashboard_page.auto_refresh.isActive()
    run(qloop, desktop.dashboard_page.settle())


def test_an_empty_dashboard_says_how_to_get_data(desktop, qloop) -> None:
    page = desktop.dashboard_page
    run(qloop, page.request_refresh())
    assert page.requests_card.value.text() == "0"
    assert not page.chart.has_data() and "Point your tools at" in page.chart.empty_text


# -- The chart widget -------------------------------------------------------------------------------

def test_the_chart_scales_its_axes_and_describes_a_bucket(qtbot) -> None:
    assert [nice_ceiling(v) for v in (0, 3, 37, 0.0042)] == [4.0, 4.0, 40.0, 0.008]
    chart = TimeSeriesChart()
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    start = 1_700_000_000.0
    chart.set_data([start, start + 3600], 3600, [ChartSeries("Requests", [3, 0], "#4f7cff"),
                                                 ChartSeries("Cost", [0.5, None], "#e8590c", "line", "right")])
    assert chart.has_data()
    assert chart.describe_bucket(1).splitlines()[1:] == ["Requests: 0", "Cost: —"]
    assert chart.bucket_at(chart.width() - 60) == 1
    assert not chart.grab().isNull()
    with pytest.raises(ValueError, match="2 buckets"):
        chart.set_data([start, start + 3600], 3600, [ChartSeries("Requests", [1], "#000")])
