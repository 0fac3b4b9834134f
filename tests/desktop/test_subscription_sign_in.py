"""The Providers window's subscriptions: Sign in… through the browser (progress, cancel), GitHub's device code
with Copy, Import from a CLI with the shared-session warning, and the account list's identity, plan, expiry
and state — driven like a user would, against the real core services and the fake auth services."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QTableWidget

from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import SignInRequired
from core.subscriptions.store import SignIn
from tests.conftest import port_is_free
from tests.fakes.oauth_servers import FakeAuthServices


def run(qloop, awaitable) -> Any:
    return qloop.run_until_complete(awaitable)


def texts(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def headers(table: QTableWidget) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


class Browser(QObject):
    """Stands in for the user's browser: Qt hands it the URL the window opens (QDesktopServices' URL handler
    hook); it follows the sign-in page back to Quotagate when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())

    async def sign_in(self) -> httpx.Response:
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
            return await browser.get(self.opened[-1])


@pytest.fixture
def auth(monkeypatch: pytest.MonkeyPatch):
    with FakeAuthServices() as fake:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", fake.host_map())
        yield fake


@pytest.fixture
def browser():
    fake = Browser()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, fake, "open")
    yield fake
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def desktop(make_desktop, qloop, auth):
    app = make_desktop()
    state = run(qloop, app.start())
    assert state.running, state.error
    run(qloop, app.providers_page.settle())
    return app


def test_a_subscription_offers_sign_in_and_import_with_the_warning(desktop) -> None:
    page = desktop.providers_page
    page.select("provider", "claude")
    actions = page.subscription_actions
    assert actions.isVisibleTo(page) and not page.add_account_button.isVisibleTo(page)
    assert headers(page.accounts_table) == ["Name", "Signed in as", "Plan", "Expires", "State"]
    assert [a.text() for a in actions.import_menu.actions()] == ["Import from Claude Code", "Import from OpenCode"]
    assert "signs the other out" in actions.warning.text() and "recommended" in actions.warning.text()
    assert "sign in" in page.accounts_empty.text().lower()
    assert page.models_hint.text().startswith("Included in the subscription")
    page.select("provider", "openai")
    assert not actions.isVisibleTo(page) and page.add_account_button.isVisibleTo(page)
    assert page.models_hint.text().startswith("USD per 1M tokens")
    assert headers(page.accounts_table)[1] == "API key"


def test_sign_in_through_the_browser_lists_the_account(desktop, qloop, browser: Browser) -> None:
    page = desktop.providers_page
    page.select("provider", "claude")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    assert browser.opened and re.fullmatch(r"Waiting for the sign-in… 0\.\d s", dialog.status.text())
    assert dialog.cancel_button.isVisible() and dialog.close_button.isHidden()  # Cancel stands in Close's place
    page_answer = run(qloop, browser.sign_in())
    assert page_answer.status_code == 200
    run(qloop, dialog.task)
    run(qloop, page.tasks.settle())
    rows = texts(page.accounts_table)
    assert len(rows) == 1 and rows[0][1:3] == ["claude.user@example.com", "—"] and rows[0][4] == "Active"
    assert page.status.text() == "Signed in as claude.user@example.com."


def test_the_sign_in_link_can_be_copied_for_another_browser(desktop, qloop, browser: Browser) -> None:
    page = desktop.providers_page
    page.select("provider", "claude")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    assert dialog.copy_button.isVisible() and dialog.copy_button.text() == "Copy link"
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == browser.opened[-1] == dialog.url
    assert dialog.copy_button.text() == "Copied"
    dialog.cancel_button.click()
    run(qloop, dialog.tasks.settle())


def test_cancelling_a_sign_in_releases_its_listener(desktop, qloop, browser: Browser) -> None:
    page = desktop.providers_page
    page.select("provider", "claude")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    flow = desktop.services.subscriptions.flows.status(dialog.flow_id)
    assert flow["status"] == "waiting"
    dialog.cancel_button.click()
    run(qloop, dialog.tasks.settle())
    assert desktop.services.subscriptions.flows.status(dialog.flow_id)["status"] == "cancelled"
    port = int(browser.opened[-1].split("localhost%3A")[1].split("%2F")[0])
    assert port_is_free(port)
    assert re.fullmatch(r"Sign-in cancelled after \d+\.\d s\.", dialog.status.text())
    assert dialog.close_button.isVisible() and dialog.cancel_button.isHidden()  # the dialog stays to say so


def test_closing_a_waiting_sign_in_cancels_it(desktop, qloop, browser: Browser) -> None:
    page = desktop.providers_page
    page.select("provider", "claude")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    dialog.reject()  # Esc or the window's ✕
    run(qloop, dialog.tasks.settle())
    assert not dialog.isVisible()
    assert desktop.services.subscriptions.flows.status(dialog.flow_id)["status"] == "cancelled"


def test_a_refused_sign_in_is_shown_in_words(desktop, qloop, browser: Browser, auth: FakeAuthServices) -> None:
    auth.deny_authorization = True
    page = desktop.providers_page
    page.select("provider", "claude")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    run(qloop, browser.sign_in())
    run(qloop, dialog.task)
    assert "did not sign you in: access_denied" in dialog.status.text() and dialog.status.kind == "error"
    assert dialog.close_button.isVisible() and dialog.cancel_button.isHidden()


def test_github_shows_the_code_to_type_and_copies_it(desktop, qloop, browser: Browser,
                                                     auth: FakeAuthServices) -> None:
    auth.device_interval, auth.device_script = 1, ["authorization_pending", "ok"]
    page = desktop.providers_page
    page.select("provider", "github")
    dialog = page.subscription_actions.open_sign_in()
    run(qloop, asyncio.sleep(0.2))
    assert dialog.code_label.text() == "WDJB-MJHT" and dialog.code_label.isVisibleTo(dialog)
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == "WDJB-MJHT"
    dialog.open_button.click()
    assert browser.opened[-1] == "https://github.com/login/device"
    run(qloop, dialog.task)
    run(qloop, page.tasks.settle())
    assert texts(page.accounts_table)[0][1] == "@octocat"


def test_import_from_a_cli_copies_the_sign_in_and_leaves_the_file(desktop, qloop,
                                                                   isolated_environment: Path) -> None:
    path = isolated_environment / ".claude" / ".credentials.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"claudeAiOauth": {"accessToken": "a", "refreshToken": "r", "subscriptionType": "pro",
                                                  "expiresAt": int(time.time() * 1000) + 3_600_000}}))
    before = path.read_bytes()
    page = desktop.providers_page
    page.select("provider", "claude")
    page.subscription_actions.import_menu.actions()[0].trigger()
    box = page.subscription_actions.confirm_box
    assert "signs the other out" in box.informativeText()
    box.confirm_button.click()
    run(qloop, page.tasks.settle())
    [row] = texts(page.accounts_table)
    assert row[2] == "Pro" and row[4] == "Active" and row[3] != "—"
    assert page.status.text().startswith("Imported")
    assert path.read_bytes() == before


def test_a_broken_cli_file_is_named_in_the_window(desktop, qloop, isolated_environment: Path) -> None:
    path = isolated_environment / ".claude" / ".credentials.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    page = desktop.providers_page
    page.select("provider", "claude")
    page.subscription_actions.import_menu.actions()[0].trigger()
    page.subscription_actions.confirm_box.confirm_button.click()
    run(qloop, page.tasks.settle())
    assert "~/.claude/.credentials.json cannot be imported: it is not valid JSON" in page.status.text()


def test_an_account_to_sign_in_again_says_so(desktop, qloop, auth: FakeAuthServices) -> None:
    subscriptions = desktop.services.subscriptions
    account = run(qloop, subscriptions.save(SignIn("claude", Tokens("old", "refresh-claude", time.time() - 5),
                                                   "me@example.com", "Max")))
    auth.refresh_mode = "refuse"
    with pytest.raises(SignInRequired):
        run(qloop, subscriptions.tokens.current(account.id))
    page = desktop.providers_page
    page.select("provider", "claude")
    run(qloop, page.refresh())
    [row] = texts(page.accounts_table)
    assert row[1:3] == ["me@example.com", "Max"] and row[4] == "⚠ sign in again"
    assert "invalid_grant" in page.accounts_table.item(0, 4).toolTip()
    assert not page.edit_account_button.isEnabled()  # a sign-in is replaced by signing in, not edited
