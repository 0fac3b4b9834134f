"""The desktop app: boots on a qasync loop, tray menu, settings window, port change, quit."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
from PySide6.QtCore import Qt

from core import autostart, settings
from desktop.app import no_tray_notice
from tests.conftest import free_port, port_is_free


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, timeout=5)


def action_texts(desktop) -> list[str]:
    return [action.text() for action in desktop.tray.menu.actions() if not action.isSeparator()]


def test_the_app_boots_and_its_gateway_answers_on_the_same_loop(make_desktop, qloop) -> None:
    desktop = make_desktop()
    state = qloop.run_until_complete(desktop.start())
    assert state.running
    response = qloop.run_until_complete(get(f"{state.url}/healthz"))
    assert response.text == "ok"


def test_the_tray_menu_shows_gateway_state_settings_and_quit(make_desktop, qloop) -> None:
    desktop = make_desktop()
    state = qloop.run_until_complete(desktop.start())
    assert action_texts(desktop) == ["No subscriptions found yet", f"Gateway on 127.0.0.1:{state.port}",
                                     "Refresh now", "Back up now", "Restore…", "Settings…", "Quit"]
    assert not desktop.tray.gateway_action.isEnabled()  # a status line, not a command
    assert f"127.0.0.1:{state.port}" in desktop.tray.icon.toolTip()
    assert not desktop.tray.icon.icon().isNull()


def test_settings_opens_the_main_window_on_its_general_page(make_desktop, qloop, qtbot, data_dir: Path) -> None:
    desktop = make_desktop()
    qloop.run_until_complete(desktop.start())
    assert not desktop.window.isVisible()
    desktop.tray.settings_action.trigger()
    qtbot.waitUntil(desktop.window.isVisible)
    assert desktop.window.page_titles() == ["General", "Quota", "History", "Providers", "Combos", "Proxies", "API keys",
                                            "Gateway rules", "Tools", "Dashboard", "Request defaults", "Backups"]
    page = desktop.general_page
    assert page.folder_field.text() == str(data_dir)
    assert page.folder_field.isReadOnly()
    assert page.port_input.value() == desktop.services.gateway_state.port
    assert "Listening on" in page.gateway_status.text()


def test_saving_a_new_port_moves_the_gateway_and_remembers_it(make_desktop, qloop, qtbot) -> None:
    desktop = make_desktop()
    old = qloop.run_until_complete(desktop.start())
    page = desktop.general_page
    new_port = free_port()

    async def save() -> None:
        page.port_input.setValue(new_port)
        qtbot.mouseClick(page.commit.save_button, Qt.MouseButton.LeftButton)
        await page.commit.save_task

    qloop.run_until_complete(save())
    assert page.commit.status.text() == f"Saved. The gateway now listens on http://127.0.0.1:{new_port}."
    assert not page.commit.dirty and not page.commit.save_button.isEnabled()
    assert qloop.run_until_complete(get(f"http://127.0.0.1:{new_port}/healthz")).text == "ok"
    assert port_is_free(old.port)
    assert desktop.services.store.get_setting(settings.KEY_PORT) == new_port
    assert desktop.tray.gateway_action.text() == f"Gateway on 127.0.0.1:{new_port}"


def test_a_taken_port_is_refused_and_the_gateway_stays_where_it_was(make_desktop, qloop, qtbot) -> None:
    desktop = make_desktop()
    old = qloop.run_until_complete(desktop.start())
    page = desktop.general_page
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        taken = other_program.getsockname()[1]

        async def save() -> None:
            page.port_input.setValue(taken)
            qtbot.mouseClick(page.commit.save_button, Qt.MouseButton.LeftButton)
            await page.commit.save_task

        qloop.run_until_complete(save())
    assert page.port_error.text().startswith(f"Port {taken}")  # under the field, which has the focus
    assert page.commit.status.kind == "error"
    assert qloop.run_until_complete(get(f"{old.url}/healthz")).text == "ok"
    assert desktop.services.store.get_setting(settings.KEY_PORT) is None
    assert page.commit.save_button.isEnabled()  # the spin box still differs from the port in use: retry allowed


def test_save_is_only_offered_for_a_change_and_says_it_is_unsaved(make_desktop, qloop) -> None:
    desktop = make_desktop()
    state = qloop.run_until_complete(desktop.start())
    page = desktop.general_page
    assert not page.commit.save_button.isEnabled()
    page.port_input.setValue(state.port + 1)
    assert page.commit.save_button.isEnabled() and page.commit.status.text() == "Unsaved changes."
    assert desktop.window.navigation.item(0).text() == "General •"  # the page list marks it too
    page.port_input.setValue(state.port)
    assert not page.commit.save_button.isEnabled()
    assert page.commit.status.isHidden() and desktop.window.navigation.item(0).text() == "General"


def test_start_at_login_writes_and_removes_the_autostart_entry(make_desktop, qloop) -> None:
    desktop = make_desktop()
    qloop.run_until_complete(desktop.start())
    page = desktop.general_page
    checkbox = page.start_at_login
    assert not checkbox.isChecked()
    checkbox.setChecked(True)
    assert not autostart.entry_path().exists()  # committed with Save, like every setting
    qloop.run_until_complete(page.commit.save())
    assert autostart.entry_path().is_file()
    qloop.run_until_complete(desktop.tasks.settle())  # saved through the configuration service
    assert desktop.services.store.get_setting(settings.KEY_START_AT_LOGIN) is True
    checkbox.setChecked(False)
    qloop.run_until_complete(page.commit.save())
    assert not autostart.entry_path().exists()
    qloop.run_until_complete(desktop.tasks.settle())
    assert desktop.services.store.get_setting(settings.KEY_START_AT_LOGIN) is False


def test_quit_from_the_tray_stops_everything_and_frees_the_port(make_desktop, qloop) -> None:
    desktop = make_desktop()

    async def run_then_quit() -> int:
        running = asyncio.ensure_future(desktop.run())
        while not desktop.services.gateway_state.running:
            await asyncio.sleep(0.01)
        desktop.tray.quit_action.trigger()
        return await running

    port = desktop.services._requested_port
    assert qloop.run_until_complete(run_then_quit()) == 0
    assert port_is_free(port)
    assert desktop.services.store is None


def test_a_taken_port_at_startup_is_shown_in_the_tray(make_desktop, qloop) -> None:
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        taken = other_program.getsockname()[1]
        desktop = make_desktop(port=taken)
        state = qloop.run_until_complete(desktop.start())
    assert not state.running
    assert desktop.tray.gateway_action.text() == "Gateway stopped — see Settings"
    assert f"Port {taken}" in desktop.tray.icon.toolTip()
    assert f"Port {taken}" in desktop.general_page.gateway_status.text()


def test_without_a_tray_the_window_opens_and_says_why(make_desktop, qloop) -> None:
    desktop = make_desktop(tray_available=False)
    qloop.run_until_complete(desktop.start())
    assert desktop.tray is None
    assert desktop.window.isVisible()
    assert desktop.window.notice.text() == no_tray_notice()


def test_without_a_tray_closing_the_window_quits(make_desktop, qloop) -> None:
    desktop = make_desktop(tray_available=False)

    async def run_then_close() -> int:
        running = asyncio.ensure_future(desktop.run())
        while not desktop.window.isVisible():
            await asyncio.sleep(0.01)
        desktop.window.close()
        return await running

    assert qloop.run_until_complete(run_then_close()) == 0
    assert desktop.services.store is None


def test_back_up_now_from_the_tray_takes_a_snapshot(make_desktop, qloop) -> None:
    desktop = make_desktop()
    qloop.run_until_complete(desktop.start())
    desktop.tray.backup_action.trigger()
    qloop.run_until_complete(asyncio.sleep(0.5))
    snapshots = desktop.services.backups.list_snapshots()
    assert [s.reason for s in snapshots] == ["manual (tray)"]


def test_restore_from_the_tray_opens_the_backups_page(make_desktop, qloop, qtbot) -> None:
    desktop = make_desktop()
    qloop.run_until_complete(desktop.start())
    desktop.tray.restore_action.trigger()
    qtbot.waitUntil(desktop.window.isVisible)
    assert desktop.window.current_page() is desktop.backups_page


def test_a_restore_refreshes_the_windows(make_desktop, qloop) -> None:
    desktop = make_desktop()
    qloop.run_until_complete(desktop.start())
    snapshot = desktop.services.backups.create_snapshot("before")
    desktop.services.accounts.create_account("openai", "added later", "sk-0123456789abcdef")
    qloop.run_until_complete(desktop.providers_page.refresh())
    qloop.run_until_complete(desktop.services.backups.restore_snapshot(snapshot.id))
    qloop.run_until_complete(asyncio.sleep(0.3))
    assert all(a.name != "added later" for a in desktop.providers_page.accounts)
