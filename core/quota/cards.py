"""What the quota panel and the tray menu show for one account, as data: texts already in the user's
language, a level per window for the colour, and the error in one short line with its details apart.
The desktop only lays these out; the CLI and the pages can use the same wording."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.i18n import tr, translatable
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, mask_identity
from core.quota.pace import format_countdown, format_pace, pace
from core.quota.text import most_constrained, provider_name, window_label

Level = Literal["ok", "low", "critical", "unknown"]
DATE_AFTER = timedelta(days=2)  # a reset further away reads better as a date than as "5d 3h"

# One short phrase per kind of failure; the full message (what to do) goes in the details.
_ERROR_PHRASES = {
    ErrorKind.AUTH: translatable("sign-in rejected"),
    ErrorKind.EXPIRED: translatable("sign-in expired"),
    ErrorKind.CREDENTIALS: translatable("credential file unusable"),
    ErrorKind.CONFIG: translatable("not set up"),
    ErrorKind.NETWORK: translatable("cannot connect"),
    ErrorKind.TIMEOUT: translatable("no answer in time"),
    ErrorKind.RATE_LIMITED: translatable("rate limited"),
    ErrorKind.SERVER: translatable("service error"),
    ErrorKind.API: translatable("the service refused"),
    ErrorKind.FORMAT: translatable("unexpected answer"),
    ErrorKind.INTERNAL: translatable("internal error"),
}


def level(remaining: float | None, thresholds: tuple[float, ...]) -> Level:
    """Green above every threshold, amber at or below the highest one, red at or below the lowest one."""
    if remaining is None:
        return "unknown"
    if thresholds and remaining <= min(thresholds):
        return "critical"
    if thresholds and remaining <= max(thresholds):
        return "low"
    return "ok"


@dataclass(frozen=True)
class WindowLine:
    id: str
    label: str
    remaining_percent: float | None  # the bar's length; None draws an empty, "unknown" bar
    level: Level
    left: str     # "62 % left", "unlimited", "unknown"
    resets: str   # "resets in 2h 14m", "resets Dec 03, 14:00", ""
    pace: str     # "17 % in reserve", "runs out in 3h 0m", ""


@dataclass(frozen=True)
class AccountCard:
    key: str
    provider: str        # the provider's display name
    identity: str        # masked when personal information is hidden
    plan: str
    lines: tuple[WindowLine, ...]
    fetched_at: datetime
    stale: bool
    error: str           # one short line ("" when the last refresh worked)
    error_details: str   # the full message, saying what to do

    @property
    def title(self) -> str:
        return " · ".join(part for part in (self.provider, self.identity, self.plan) if part)


def window_line(window: QuotaWindow, thresholds: tuple[float, ...], now: datetime) -> WindowLine:
    if window.unlimited:
        left = tr("unlimited")
    elif window.remaining_percent is None:
        left = tr("reset; waiting for the new numbers") if window.has_reset(now) else tr("unknown")
    else:
        left = tr("{percent} % left", percent=round(window.remaining_percent))
    return WindowLine(window.id, window_label(window), None if window.unlimited else window.remaining_percent,
                      "ok" if window.unlimited else level(window.remaining_percent, thresholds), left,
                      reset_text(window.resets_at, now), format_pace(pace(window, now)))


def reset_text(resets_at: datetime | None, now: datetime) -> str:
    """"resets in 2h 14m" soon, "resets Dec 03, 14:00" (local time) beyond two days, "" when unknown or past."""
    if resets_at is None or resets_at <= now:
        return ""
    if resets_at - now > DATE_AFTER:
        return tr("resets {date}", date=resets_at.astimezone().strftime(tr("%b %d, %H:%M")))
    return tr("resets in {countdown}", countdown=format_countdown(resets_at, now))


def error_line(snapshot: QuotaSnapshot) -> str:
    """The failure in a few words; for stale data, says that the numbers shown are older."""
    if not snapshot.error:
        return ""
    phrase = tr(_ERROR_PHRASES.get(snapshot.error_kind or "", translatable("refresh failed")))
    return tr("could not refresh: {reason}", reason=phrase) if snapshot.stale else phrase


def account_card(snapshot: QuotaSnapshot, thresholds: tuple[float, ...], now: datetime,
                 hide_personal: bool = False) -> AccountCard:
    shown = snapshot.as_of(now)  # no numbers from before a reset
    return AccountCard(
        snapshot.key, provider_name(snapshot.provider),
        mask_identity(snapshot.account) if hide_personal else snapshot.account, snapshot.plan or "",
        tuple(window_line(w, thresholds, now) for w in shown.windows), snapshot.fetched_at, snapshot.stale,
        error_line(snapshot), snapshot.error or "")


def summary(snapshot: QuotaSnapshot, now: datetime) -> str:
    """The menu's one line per account: its tightest window ("Session 62 % left · 2h 14m"), else its error."""
    shown = snapshot.as_of(now)
    tightest = most_constrained([shown])
    if tightest is None:
        if shown.error:
            return "⚠ " + error_line(shown)
        return tr("unlimited") if any(w.unlimited for w in shown.windows) else tr("unknown")
    window = tightest[1]
    parts = [window_label(window), tr("{percent} % left", percent=round(window.remaining_percent or 0))]
    text = " ".join(parts)
    countdown = format_countdown(window.resets_at, now) if not window.has_reset(now) else ""
    if countdown:
        text += " · " + countdown
    if shown.stale:
        text += " · ⚠"
    return text
