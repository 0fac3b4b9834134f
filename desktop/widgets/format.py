"""How numbers, money and times read in the windows."""

from __future__ import annotations

import time
from datetime import datetime

from core.i18n import tr


def count(value: float | int | None) -> str:
    """12 / 1,234 / 12.3k / 4.5M: short enough for a table cell, exact below ten thousand."""
    value = value or 0
    if abs(value) < 10_000:
        return f"{value:,.0f}"
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k"
    if abs(value) < 1_000_000_000:
        return f"{value / 1_000_000:.1f}M"
    return f"{value / 1_000_000_000:.1f}B"


def usd(value: float | None) -> str:
    """Small costs keep their significant digits: $0.0042, $1.23, $1,234.50."""
    value = value or 0.0
    if value == 0:
        return "$0.00"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    if abs(value) < 0.1:
        return f"${value:.3f}"
    return f"${value:,.2f}"


def price(value: float | None) -> str:
    """A catalogue price in USD per 1M tokens; unknown prices are a dash, not zero."""
    if value is None:
        return "—"
    if round(value * 100, 6).is_integer():
        return f"${value:,.2f}"
    return f"${value:g}"


def milliseconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:,.0f} ms"


def timestamp(epoch: float | None, now: float | None = None) -> str:
    """Today's times as 14:03:12, older ones with their date."""
    if not epoch:
        return "—"
    moment = datetime.fromtimestamp(epoch)
    today = datetime.fromtimestamp(now or time.time()).date()
    if moment.date() == today:
        return moment.strftime("%H:%M:%S")
    if moment.year == today.year:
        return moment.strftime(tr("%b %d, %H:%M"))
    return moment.strftime("%Y-%m-%d %H:%M")


def date_time(epoch: float | None, now: float | None = None) -> str:
    """'Today, 14:03', 'Mar 05, 14:03', or '2024-03-05' for other years."""
    if not epoch:
        return "—"
    moment = datetime.fromtimestamp(epoch)
    today = datetime.fromtimestamp(now or time.time()).date()
    if moment.date() == today:
        return moment.strftime(tr("Today, %H:%M"))
    if moment.year == today.year:
        return moment.strftime(tr("%b %d, %H:%M"))
    return moment.strftime("%Y-%m-%d")


def ago(epoch: float | None, now: float | None = None) -> str:
    """'never', 'just now', '5 min ago', '3 h ago', then the date."""
    if not epoch:
        return tr("never")
    seconds = (now or time.time()) - epoch
    if seconds < 60:
        return tr("just now")
    if seconds < 3600:
        return tr("{minutes} min ago", minutes=int(seconds // 60))
    if seconds < 86400:
        return tr("{hours} h ago", hours=int(seconds // 3600))
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d")


def plural(count: int, one: str, many: str) -> str:
    """"1 account" / "3 accounts": `one` and `many` are translated templates with a {count} placeholder,
    e.g. plural(n, tr("{count} account"), tr("{count} accounts"))."""
    return (one if count == 1 else many).format(count=f"{count:,}")
