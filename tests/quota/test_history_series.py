"""Quota history as a chart series: values hold until the next record; before the first one, gaps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.quota.history import used_percent_series
from core.quota.model import QuotaSnapshot, QuotaWindow
from core.quota.text import visible

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


def snap(hours: float, used: float, weekly: float | None = None) -> QuotaSnapshot:
    windows = [QuotaWindow.from_used("five_hour", "Session", used)]
    if weekly is not None:
        windows.append(QuotaWindow.from_used("seven_day", "Weekly", weekly))
    return QuotaSnapshot("claude", "code", "Claude Code", windows=tuple(windows),
                         fetched_at=T0 + timedelta(hours=hours))


def test_each_bucket_shows_the_last_value_known_by_its_end() -> None:
    starts, series = used_percent_series([snap(1.5, 10), snap(1.7, 20), snap(3.2, 5)], T0, T0 + timedelta(hours=4),
                                         timedelta(hours=1))
    assert len(starts) == 5
    label, values = series["five_hour"]
    assert label == "Session"
    assert values == [None, 20, 20, 5, 5]


def test_a_window_that_appears_later_starts_with_gaps() -> None:
    _, series = used_percent_series([snap(0.5, 10), snap(2.5, 30, weekly=40)], T0, T0 + timedelta(hours=3),
                                    timedelta(hours=1))
    assert series["seven_day"][1] == [None, None, 40, 40]


def test_hidden_providers_and_accounts_are_left_out() -> None:
    snapshots = [snap(0, 10), QuotaSnapshot("zai", "k", "key")]
    assert [s.provider for s in visible(snapshots, ["zai"])] == ["claude"]
    assert [s.provider for s in visible(snapshots, ["claude/code"])] == ["zai"]
    assert visible(snapshots, None) == snapshots
