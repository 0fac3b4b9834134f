"""Desktop fixtures: the desktop's event loop over pytest-qt's QApplication, and a DesktopApp on a free port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from core.services import CoreServices
from desktop.app import DesktopApp, configure_application
from desktop.loop import new_event_loop
from tests.conftest import free_port


@pytest.fixture(scope="session")
def session_qloop(qapp):
    """One loop for the session, as the app has one for its life: loops created and collected per test
    leave Qt objects to the garbage collector mid-run, which crashes PySide."""
    loop = new_event_loop(configure_application(qapp))  # the loop the app ships
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def qloop(session_qloop):
    """The session's loop, made the current one for this test: an asyncio test that ran before (pytest-asyncio)
    leaves no current loop behind, and code run outside the loop (Qt slots) looks it up."""
    asyncio.set_event_loop(session_qloop)
    return session_qloop


@pytest.fixture
def make_desktop(qloop, data_dir: Path):
    """Build a DesktopApp; whatever was started is stopped at the end of the test."""
    created: list[DesktopApp] = []

    def make(tray_available: bool = True, port: int | None = None) -> DesktopApp:
        services = CoreServices(data_dir, port=port if port is not None else free_port())
        desktop = DesktopApp(services, tray_available=tray_available)
        created.append(desktop)
        return desktop

    yield make
    for desktop in created:
        if desktop.services.store is not None or desktop.services.gateway is not None:
            qloop.run_until_complete(desktop.shutdown())
        desktop.dispose()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
