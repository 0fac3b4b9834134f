"""What one notification says for the alerts of a refresh round: the most severe in full, the rest named
in one line, so that several quotas crossing at once (typically at start) never become a burst of popups
that replace each other before they can be read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.i18n import tr
from core.quota.alerts import QuotaAlert, most_severe_first
from core.quota.text import alert_text

MAX_NAMED = 3  # further alerts are counted, not named: a notification has room for a few lines


@dataclass(frozen=True)
class Notice:
    title: str
    message: str
    critical: bool


def round_notice(alerts: Sequence[QuotaAlert], now: datetime) -> Notice | None:
    """One notice for `alerts` (None for none): the most severe one's title, its details and the others."""
    if not alerts:
        return None
    ordered = most_severe_first(alerts)
    title, message = alert_text(ordered[0], now)
    others = [alert_text(alert, now)[0] for alert in ordered[1:]]
    if others:
        named = "; ".join(others[:MAX_NAMED])
        if len(others) > MAX_NAMED:
            named = tr("{named} and {count} more", named=named, count=len(others) - MAX_NAMED)
        message = " ".join(part for part in (message, tr("Also: {named}.", named=named)) if part)
    return Notice(title, message, critical=ordered[0].kind == "depleted")
