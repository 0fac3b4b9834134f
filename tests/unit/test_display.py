"""Whether the desktop can start is decided before Qt loads (Qt would abort the process instead)."""

from __future__ import annotations

import sys

import pytest

from desktop.display import display_unavailable_reason

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland checks")


@pytest.fixture
def no_platform(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_an_explicit_qt_platform_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert display_unavailable_reason() is None


@linux_only
def test_no_display_at_all_is_explained(no_platform: pytest.MonkeyPatch) -> None:
    assert "DISPLAY" in (display_unavailable_reason() or "")


@linux_only
def test_a_wayland_session_can_show_windows(no_platform: pytest.MonkeyPatch) -> None:
    no_platform.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert display_unavailable_reason() is None


@linux_only
def test_a_dead_local_x_display_is_explained(no_platform: pytest.MonkeyPatch) -> None:
    no_platform.setenv("DISPLAY", ":4711")
    assert display_unavailable_reason() == "the X display :4711 is not running"
