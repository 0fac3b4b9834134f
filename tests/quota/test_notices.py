"""One notification per refresh round: the most severe alert in full, the others named after it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.quota.alerts import QuotaAlert
from core.quota.notices import round_notice

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def alert(kind: str, provider: str, left: float, threshold: float | None = None) -> QuotaAlert:
    return QuotaAlert(kind, provider, "me", f"{provider}/me/weekly", "Weekly", left, threshold,  # type: ignore[arg-type]
                      NOW + timedelta(hours=3))


def test_no_alerts_no_notice() -> None:
    assert round_notice([], NOW) is None


def test_one_alert_is_told_as_it_is() -> None:
    notice = round_notice([alert("threshold", "claude", 45, 50)], NOW)
    assert (notice.title, notice.message, notice.critical) == ("Claude Weekly: 45 % left", "Resets in 3h 0m.", False)


def test_the_tightest_leads_and_the_others_follow_in_one_line() -> None:
    notice = round_notice([alert("threshold", "claude", 45, 50), alert("threshold", "zai", 12, 20),
                           alert("restored", "openai", 100)], NOW)
    assert notice.title == "Z.ai Weekly: 12 % left"
    assert notice.message == ("Resets in 3h 0m. Also: Claude Weekly: 45 % left; ChatGPT / Codex Weekly is "
                              "available again.")


def test_a_used_up_window_leads_and_makes_it_critical() -> None:
    notice = round_notice([alert("threshold", "zai", 5, 20), alert("depleted", "claude", 0)], NOW)
    assert notice.title == "Claude Weekly is used up" and notice.critical


def test_beyond_three_others_they_are_counted() -> None:
    alerts = [alert("threshold", provider, 40 + i, 50) for i, provider in
              enumerate(["claude", "zai", "zhipu", "openai", "copilot", "gemini"])]
    notice = round_notice(alerts, NOW)
    assert notice.title == "Claude Weekly: 40 % left"
    assert notice.message.endswith("Zhipu Weekly: 42 % left; ChatGPT / Codex Weekly: 43 % left and 2 more.")
