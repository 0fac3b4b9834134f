"""How a quota reads in words, shared by the tray menu, its tooltip and `quotagate status`."""

from __future__ import annotations

import re
from datetime import datetime

from core.i18n import language, tr
from core.quota.alerts import QuotaAlert
from core.quota.model import QuotaSnapshot, QuotaWindow, mask_identity
from core.quota.pace import format_countdown, format_duration, format_pace, pace
from core.quota.providers import default_providers

_NAMES = {provider.id: provider.name for provider in default_providers()}


def provider_name(provider_id: str) -> str:
    return _NAMES.get(provider_id, provider_id)


def account_title(snapshot: QuotaSnapshot, hide_personal: bool = False) -> str:
    """"Claude · me@example.com · Max" (the identity masked when personal information is hidden)."""
    identity = mask_identity(snapshot.account) if hide_personal else snapshot.account
    parts = [provider_name(snapshot.provider), identity]
    if snapshot.plan:
        parts.append(snapshot.plan)
    return " · ".join(part for part in parts if part)


_LENGTH = re.compile(r"\b(\d+)-(minute|hour|day|week)\b")


def _label_words() -> dict[str, str]:
    """The words quota windows are labelled with (labels stay English in data and JSON; the tray and the
    CLI translate them here). Model family names are names and stay as they are."""
    return {"Session": tr("Session"), "Weekly": tr("Weekly"), "Daily": tr("Daily"), "Monthly": tr("Monthly"),
            "Tokens": tr("Tokens"), "Tool calls": tr("Tool calls"), "Credits": tr("Credits"),
            "Extra usage": tr("Extra usage"), "Premium requests": tr("Premium requests"), "Chat": tr("Chat"),
            "Completions": tr("Completions"), "Primary": tr("Primary"), "Secondary": tr("Secondary"),
            "Code review": tr("Code review")}


def _length(match: re.Match[str]) -> str:
    count, unit = match.group(1), match.group(2)
    return {"minute": tr("{count}-minute", count=count), "hour": tr("{count}-hour", count=count),
            "day": tr("{count}-day", count=count), "week": tr("{count}-week", count=count)}[unit]


def window_label(window: QuotaWindow) -> str:
    """A window's label in the current language: "Session (5-hour)" → "会话（5小时）"."""
    if language() == "en":
        return window.label
    text = _LENGTH.sub(_length, window.label)
    for word, translated in sorted(_label_words().items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"\b{re.escape(word)}\b", translated, text)
    return text


def window_status(window: QuotaWindow, now: datetime) -> str:
    """"62 % left · resets in 2h 14m · on pace"."""
    if window.unlimited:
        return tr("unlimited")
    if window.remaining_percent is None and window.has_reset(now):  # cleared by as_of: read before the reset
        return tr("reset; waiting for the new numbers")
    parts = []
    if window.remaining_percent is None:
        parts.append(tr("unknown"))
    else:
        parts.append(tr("{percent} % left", percent=round(window.remaining_percent)))
    countdown = format_countdown(window.resets_at, now) if not window.has_reset(now) else ""
    if countdown:  # a reset time already past (as some services send with fresh numbers) says nothing
        parts.append(tr("resets in {countdown}", countdown=countdown))
    pace_text = format_pace(pace(window, now))
    if pace_text:
        parts.append(pace_text)
    return " · ".join(parts)


def staleness(snapshot: QuotaSnapshot, now: datetime) -> str:
    """"" when fresh; "stale, 12m old" when the last refresh failed and older data is shown."""
    if not snapshot.stale:
        return ""
    return tr("stale, {age} old", age=format_duration(now - snapshot.fetched_at))


def bar(percent: float | None, width: int = 20) -> str:
    """A text bar of what is left: █ remaining, ░ used, · unknown."""
    if percent is None:
        return "·" * width
    filled = round(max(0.0, min(100.0, percent)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def most_constrained(snapshots: list[QuotaSnapshot]) -> tuple[QuotaSnapshot, QuotaWindow] | None:
    """The window with the least left across every account: what the tray icon shows."""
    candidates = [(s, w) for s in snapshots if s.windows for w in s.windows
                  if w.remaining_percent is not None and not w.unlimited]
    if not candidates:
        return None
    return min(candidates, key=lambda pair: pair[1].remaining_percent)


def visible(snapshots: list[QuotaSnapshot], hidden: object) -> list[QuotaSnapshot]:
    """Snapshots not hidden by the user's choice (a list of provider ids and/or `provider/account` keys)."""
    if not isinstance(hidden, list) or not hidden:
        return snapshots
    hidden_set = {str(item) for item in hidden}
    return [s for s in snapshots if s.provider not in hidden_set and s.key not in hidden_set]


def alert_text(alert: QuotaAlert, now: datetime) -> tuple[str, str]:
    """The notification for a crossed threshold, a used-up window, or one that came back."""
    where = f"{provider_name(alert.provider)} {window_label(QuotaWindow(alert.window_key, alert.window_label))}"
    countdown = format_countdown(alert.resets_at, now)
    resets = tr("Resets in {countdown}.", countdown=countdown) if countdown else ""
    if alert.kind == "depleted":
        return tr("{where} is used up", where=where), resets
    if alert.kind == "restored":
        return tr("{where} is available again", where=where), tr("{percent} % left.",
                                                                  percent=round(alert.remaining_percent))
    return tr("{where}: {percent} % left", where=where, percent=round(alert.remaining_percent)), resets
