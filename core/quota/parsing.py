"""Tolerant readers for values in API answers: the documented shapes drift, so a field of the wrong type
reads as unknown (None) instead of crashing a parser or being mistaken for 0."""

from __future__ import annotations

import calendar
import re
from datetime import datetime
from typing import Any

from core.i18n import tr
from core.quota.errors import QuotaError
from core.quota.model import UTC, ErrorKind


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; anything else → None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if result == result and abs(result) != float("inf") else None


def epoch_seconds(value: Any) -> datetime | None:
    seconds = number(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def epoch_millis(value: Any) -> datetime | None:
    millis = number(value)
    return None if millis is None else epoch_seconds(millis / 1000)


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time (`Z`, offsets, fractional seconds of any length, or a bare date) as aware UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.11 accepts up to 6 fractional digits; some services send 9.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def require_object(body: Any, service: str) -> dict[str, Any]:
    """The top level of an answer must be an object; anything else means the API changed."""
    if not isinstance(body, dict):
        raise QuotaError(ErrorKind.FORMAT, tr("{service} sent an answer in an unexpected shape (expected a JSON "
                                              "object).", service=service))
    return body


def child(data: Any, key: str) -> dict[str, Any] | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else None


def slug(text: str) -> str:
    """`GPT-5 Codex Spark` → `gpt-5-codex-spark`: window ids from names the service chose."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "window"


def duration_label(seconds: int | None) -> str | None:
    """Readable window length: `5-hour`, `Daily`, `Weekly`, `30-day`."""
    if not seconds or seconds <= 0:
        return None
    if seconds % 604800 == 0:
        weeks = seconds // 604800
        return "Weekly" if weeks == 1 else f"{weeks}-week"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "Daily" if days == 1 else f"{days}-day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}-hour"
    if seconds % 60 == 0:
        return f"{seconds // 60}-minute"
    return f"{seconds}-second"


def month_length_before(resets_at: datetime | None) -> int | None:
    """Seconds in the monthly period that ends at `resets_at` (28–31 days), so monthly windows get a pace."""
    if resets_at is None:
        return None
    year, month = (resets_at.year, resets_at.month - 1) if resets_at.month > 1 else (resets_at.year - 1, 12)
    day = min(resets_at.day, calendar.monthrange(year, month)[1])
    return int((resets_at - resets_at.replace(year=year, month=month, day=day)).total_seconds())


def start_of_next_month(year: int, month: int) -> datetime:
    return datetime(year + 1, 1, 1, tzinfo=UTC) if month == 12 else datetime(year, month + 1, 1, tzinfo=UTC)
