"""Pace (as data) and the short English forms of pace and countdowns."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.quota import QuotaWindow, format_countdown, format_pace, pace

NOW = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)
FIVE_HOURS = 5 * 3600


def _window(used: float | None, elapsed: timedelta, length: int | None = FIVE_HOURS) -> QuotaWindow:
    resets_at = NOW - elapsed + timedelta(seconds=length or FIVE_HOURS)
    return QuotaWindow.from_used("w", "5-hour", used, window_seconds=length, resets_at=resets_at)


def test_using_as_much_as_time_has_passed_is_on_pace() -> None:
    result = pace(_window(50, timedelta(hours=2.5)), NOW)
    assert result is not None and result.status == "on_pace" and result.runs_out_in is None
    assert result.expected_used_percent == pytest.approx(50)
    assert format_pace(result) == "on pace"


def test_using_more_than_time_has_passed_is_a_deficit_with_a_run_out_time() -> None:
    result = pace(_window(62, timedelta(hours=2.5)), NOW)
    assert result is not None and result.status == "deficit"
    assert result.delta_percent == pytest.approx(12)
    assert result.runs_out_in == timedelta(seconds=5516)
    assert format_pace(result) == "12 % in deficit · runs out in 1h 31m"


def test_using_less_than_time_has_passed_is_a_reserve() -> None:
    result = pace(_window(20, timedelta(hours=2.5)), NOW)
    assert result is not None and result.status == "reserve" and result.runs_out_in is None
    assert format_pace(result) == "30 % in reserve"


def test_the_run_out_time_extrapolates_the_current_rate() -> None:
    result = pace(_window(200 / 3, timedelta(seconds=9600)), NOW)
    assert result is not None and result.runs_out_in == timedelta(hours=1, minutes=20)


def test_a_slight_overuse_within_tolerance_still_warns_when_it_runs_out_before_the_reset() -> None:
    result = pace(_window(54, timedelta(hours=2.5)), NOW)
    assert result is not None and result.status == "on_pace"
    assert format_pace(result) == "runs out in 2h 7m"


def test_a_used_up_window_is_depleted() -> None:
    result = pace(_window(100, timedelta(hours=1)), NOW)
    assert result is not None and result.status == "depleted" and format_pace(result) == "depleted"


@pytest.mark.parametrize("window", [
    _window(None, timedelta(hours=1)),                                           # unknown use
    _window(30, timedelta(hours=1), length=None),                                # unknown length
    _window(30, timedelta(hours=6)),                                             # reset already passed
    QuotaWindow("w", "Chat", unlimited=True, window_seconds=FIVE_HOURS, resets_at=NOW + timedelta(hours=1)),
])
def test_pace_is_unknown_without_enough_data(window: QuotaWindow) -> None:
    assert pace(window, NOW) is None
    assert format_pace(None) == ""


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(hours=2, minutes=14, seconds=59), "2h 14m"),
    (timedelta(days=3, hours=4, minutes=30), "3d 4h"),
    (timedelta(minutes=45), "45m"),
    (timedelta(seconds=20), "<1m"),
    (timedelta(0), "now"),
    (timedelta(minutes=-5), "now"),
])
def test_countdowns_are_short(delta: timedelta, text: str) -> None:
    assert format_countdown(NOW + delta, NOW) == text


def test_an_unknown_reset_has_no_countdown() -> None:
    assert format_countdown(None, NOW) == ""
