"""Notifications: each threshold once per downward crossing, re-armed on recovery, no repeat after a restart."""

from __future__ import annotations

import json

from core.quota import QuotaSnapshot, QuotaWindow, ThresholdNotifier


def _snapshot(remaining: float | None, *, stale: bool = False, unlimited: bool = False) -> QuotaSnapshot:
    window = QuotaWindow.from_remaining("weekly", "Weekly", remaining, unlimited=unlimited)
    return QuotaSnapshot("claude", "claude-code", "Claude Code", windows=(window,), stale=stale)


def _kinds(notifier: ThresholdNotifier, remaining: float | None, **kwargs: bool) -> list[tuple[str, float | None]]:
    return [(a.kind, a.threshold) for a in notifier.observe([_snapshot(remaining, **kwargs)])]


def test_crossing_a_threshold_downwards_fires_once() -> None:
    notifier = ThresholdNotifier()
    assert _kinds(notifier, 80) == []
    assert _kinds(notifier, 45) == [("threshold", 50.0)]
    assert _kinds(notifier, 40) == []
    assert _kinds(notifier, 45) == []


def test_each_lower_threshold_fires_when_it_is_crossed() -> None:
    notifier = ThresholdNotifier()
    _kinds(notifier, 45)
    assert _kinds(notifier, 19) == [("threshold", 20.0)]


def test_falling_past_several_thresholds_at_once_gives_one_notice_for_the_lowest() -> None:
    notifier = ThresholdNotifier()
    _kinds(notifier, 90)
    assert _kinds(notifier, 10) == [("threshold", 20.0)]
    assert _kinds(notifier, 5) == []


def test_recovering_above_a_threshold_rearms_it() -> None:
    notifier = ThresholdNotifier()
    _kinds(notifier, 45)
    assert _kinds(notifier, 100) == []
    assert _kinds(notifier, 45) == [("threshold", 50.0)]


def test_running_out_fires_depleted_once_and_coming_back_fires_restored() -> None:
    notifier = ThresholdNotifier()
    _kinds(notifier, 30)
    assert _kinds(notifier, 0) == [("depleted", None)]
    assert _kinds(notifier, 0) == []
    assert _kinds(notifier, 100) == [("restored", None)]
    assert _kinds(notifier, 45) == [("threshold", 50.0)]


def test_a_window_first_seen_below_a_threshold_is_announced_once() -> None:
    notifier = ThresholdNotifier()
    assert _kinds(notifier, 15) == [("threshold", 20.0)]
    assert _kinds(notifier, 15) == []


def test_state_restored_from_a_dict_does_not_repeat_a_notice() -> None:
    before = ThresholdNotifier()
    _kinds(before, 45)
    _kinds(before, 0)
    saved = json.loads(json.dumps(before.to_dict()))  # as the store would keep it
    after = ThresholdNotifier.from_dict(saved)
    assert _kinds(after, 0) == []
    assert _kinds(after, 100) == [("restored", None)]


def test_unreadable_saved_state_starts_fresh_instead_of_failing() -> None:
    for junk in (None, {}, {"version": 99}, {"version": 1, "windows": ["x"]},
                 {"version": 1, "windows": {"k": {"fired": ["50", True, None], "depleted": "yes"}}}):
        notifier = ThresholdNotifier.from_dict(junk)  # type: ignore[arg-type]
        assert _kinds(notifier, 45) == [("threshold", 50.0)]


def test_unknown_unlimited_and_stale_windows_never_fire() -> None:
    notifier = ThresholdNotifier()
    assert _kinds(notifier, None) == []
    assert _kinds(notifier, 0, unlimited=True) == []
    assert _kinds(notifier, 0, stale=True) == []


def test_thresholds_are_configurable() -> None:
    notifier = ThresholdNotifier(thresholds=(90, 10))
    assert _kinds(notifier, 85) == [("threshold", 90.0)]
    assert _kinds(notifier, 45) == []


def test_an_alert_says_which_account_and_window() -> None:
    [alert] = ThresholdNotifier().observe([_snapshot(45)])
    assert (alert.provider, alert.account, alert.window_label, alert.remaining_percent) == (
        "claude", "Claude Code", "Weekly", 45.0)
    assert alert.window_key == "claude/claude-code/weekly"
