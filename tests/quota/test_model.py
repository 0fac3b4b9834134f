"""The normalized snapshot: `status --json` shape, unknown stays unknown, secrets and emails masked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.quota import QuotaSnapshot, QuotaWindow, mask_identity, mask_secret, status_json

NOW = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)


def _snapshot(**fields: object) -> QuotaSnapshot:
    window = QuotaWindow.from_used("primary", "5-hour", 15, window_seconds=18000,
                                   resets_at=datetime(2026, 1, 24, tzinfo=timezone.utc))
    base: dict[str, object] = {"provider": "openai", "account_key": "acc-1", "account": "jane@example.com",
                               "plan": "Plus", "windows": (window,), "fetched_at": NOW}
    return QuotaSnapshot(**{**base, **fields})  # type: ignore[arg-type]


def test_json_has_the_status_json_shape_with_remaining_percent_and_z_times() -> None:
    data = _snapshot().to_json()
    assert data["provider"] == "openai" and data["account"] == "jane@example.com" and data["plan"] == "Plus"
    assert data["error"] is None and data["stale"] is False
    [window] = data["windows"]
    assert window["id"] == "primary" and window["label"] == "5-hour"
    assert window["remaining_percent"] == 85.0 and window["used_percent"] == 15.0
    assert window["resets_at"] == "2026-01-24T00:00:00Z"
    assert data["fetched_at"] == "2026-01-23T12:00:00Z"


def test_the_status_document_lists_accounts() -> None:
    document = status_json([_snapshot(), _snapshot(provider="claude")], now=NOW)
    assert [a["provider"] for a in document["accounts"]] == ["openai", "claude"]
    assert document["accounts"][0]["windows"][0]["remaining_percent"] == 85.0


def test_json_gives_the_age_when_asked_with_the_current_time() -> None:
    assert _snapshot().to_json(now=NOW + timedelta(minutes=7))["age_seconds"] == 420


def test_unknown_usage_is_none_never_zero() -> None:
    window = QuotaWindow.from_used("w", "W", None)
    assert window.used_percent is None and window.remaining_percent is None
    assert QuotaWindow.from_remaining("w", "W", None).remaining_percent is None


def test_percentages_are_clamped_to_zero_and_a_hundred() -> None:
    assert QuotaWindow.from_used("w", "W", 130).remaining_percent == 0.0
    assert QuotaWindow.from_remaining("w", "W", -5).remaining_percent == 0.0


def test_a_snapshot_survives_a_json_round_trip() -> None:
    snapshot = _snapshot()
    assert QuotaSnapshot.from_json(snapshot.to_json(now=NOW)) == snapshot


def test_a_stale_snapshot_keeps_its_windows_and_time_and_carries_the_new_error() -> None:
    stale = _snapshot().as_stale("ChatGPT did not answer within 10 s; will retry.", "timeout")
    assert stale.stale and stale.windows == _snapshot().windows and stale.fetched_at == NOW
    assert stale.error_kind == "timeout"


def test_snapshots_differing_only_in_fetch_time_have_the_same_content() -> None:
    assert _snapshot().same_content(_snapshot(fetched_at=NOW + timedelta(minutes=5)))
    assert not _snapshot().same_content(_snapshot(plan="Pro"))


def test_reset_times_drifting_by_seconds_are_not_a_change_but_a_new_reset_is() -> None:
    def resetting_at(moment: datetime) -> QuotaSnapshot:
        return _snapshot(windows=(QuotaWindow.from_used("primary", "5-hour", 15, resets_at=moment),))

    reset = datetime(2026, 1, 24, tzinfo=timezone.utc)
    assert resetting_at(reset).same_content(resetting_at(reset + timedelta(seconds=2)))
    assert not resetting_at(reset).same_content(resetting_at(reset + timedelta(hours=5)))


def test_masked_secrets_show_only_a_few_characters_at_each_end() -> None:
    assert mask_secret("sk-abcdefghijklmnopqrstuvwxyz") == "sk-a…wxyz"
    assert mask_secret("short12") == "•••••••"  # too short to show any of it safely
    assert mask_secret("  sk-abcdefghijklmnopqrstuvwxyz\n") == "sk-a…wxyz"


def test_hiding_personal_information_masks_emails_but_not_tool_names() -> None:
    assert mask_identity("jane.doe@example.com") == "j…e@example.com"
    assert mask_identity("Claude Code") == "Claude Code"
    assert _snapshot().to_json(hide_personal=True)["account"] == "j…e@example.com"
