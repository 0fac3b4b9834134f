"""Pace and countdowns: is a window being used faster than it refills, and how long until it resets.

`pace` returns data, not words, so the tray, the CLI and translations can phrase it; `format_pace` and
`format_countdown` give the default English short forms ("on pace", "12 % in deficit", "2h 14m").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.i18n import tr
from core.quota.model import QuotaWindow

PaceStatus = Literal["on_pace", "deficit", "reserve", "depleted"]
DEFAULT_TOLERANCE = 5.0  # percentage points of slack before "on pace" becomes deficit or reserve


@dataclass(frozen=True)
class Pace:
    status: PaceStatus
    expected_used_percent: float  # what a steady user would have used by now
    delta_percent: float          # used minus expected: > 0 is a deficit, < 0 a reserve
    runs_out_in: timedelta | None  # at the current rate, before the reset; None if it lasts until then


def pace(window: QuotaWindow, now: datetime, tolerance: float = DEFAULT_TOLERANCE) -> Pace | None:
    """Compare use so far with an even spread over the window. None when that cannot be known: unlimited or
    unknown use, no window length or reset time, or a reset that has already passed (stale data)."""
    used = window.used_percent
    if window.unlimited or used is None or not window.window_seconds or window.resets_at is None:
        return None
    left = (window.resets_at - now).total_seconds()
    if left <= 0:
        return None
    length = float(window.window_seconds)
    elapsed = min(max(length - left, 0.0), length)
    expected = elapsed / length * 100
    delta = used - expected
    if used >= 100:
        return Pace("depleted", expected, delta, timedelta(0))
    runs_out_in = None
    if used > 0 and elapsed > 0:
        seconds_to_empty = (100 - used) / (used / elapsed)
        if seconds_to_empty < left:
            runs_out_in = timedelta(seconds=round(seconds_to_empty))
    status: PaceStatus = "deficit" if delta > tolerance else "reserve" if delta < -tolerance else "on_pace"
    return Pace(status, expected, delta, runs_out_in)


def format_pace(result: Pace | None) -> str:
    if result is None:
        return ""
    if result.status == "depleted":
        return tr("depleted")
    if result.status == "deficit":
        text = tr("{percent} % in deficit", percent=round(result.delta_percent))
        if result.runs_out_in:
            return text + " · " + tr("runs out in {duration}", duration=format_duration(result.runs_out_in))
        return text
    if result.runs_out_in is not None:
        return tr("runs out in {duration}", duration=format_duration(result.runs_out_in))
    if result.status == "reserve":
        return tr("{percent} % in reserve", percent=round(-result.delta_percent))
    return tr("on pace")


def format_countdown(resets_at: datetime | None, now: datetime) -> str:
    """Time until `resets_at`: "45m", "2h 14m", "3d 4h"; "now" once passed; "" when unknown."""
    if resets_at is None:
        return ""
    left = resets_at - now
    if left <= timedelta(0):
        return tr("now")
    return format_duration(left)


def format_duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return tr("<1m")
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return tr("{days}d {hours}h", days=days, hours=hours)
    if hours:
        return tr("{hours}h {minutes}m", hours=hours, minutes=minutes)
    return tr("{minutes}m", minutes=minutes)
