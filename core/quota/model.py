"""The normalized quota snapshot every provider produces and every surface (tray, CLI, history) reads.

Percentages are 0–100. *Unknown* is `None`, never 0: a missing number must not be drawn as an empty bar
or fire a "depleted" notification. Times are aware UTC datetimes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from core.secrets import mask

UTC = timezone.utc


class ErrorKind:
    """Why a snapshot has no fresh data; surfaces pick wording and colour from this, not from the text."""

    AUTH = "auth"                # the service rejected the credentials (401/403)
    EXPIRED = "expired"          # the token's own expiry time has passed
    CREDENTIALS = "credentials"  # a credential file exists but cannot be read
    CONFIG = "config"            # something Quotagate needs is not configured
    NETWORK = "network"          # connection failed
    TIMEOUT = "timeout"          # no answer in time
    RATE_LIMITED = "rate_limited"
    SERVER = "server"            # 5xx
    API = "api"                  # the service answered with an error of its own
    FORMAT = "format"            # the answer is not what the documented API returns
    INTERNAL = "internal"        # a bug in Quotagate


def utc_now() -> datetime:
    return datetime.now(UTC)


def clamp_percent(value: float) -> float:
    return max(0.0, min(100.0, float(value)))


@dataclass(frozen=True)
class QuotaWindow:
    """One quota that runs out and comes back: a 5-hour session, a week, a month of premium requests, …"""

    id: str
    label: str
    used_percent: float | None = None
    remaining_percent: float | None = None
    window_seconds: int | None = None
    resets_at: datetime | None = None
    used: float | None = None
    limit: float | None = None
    remaining: float | None = None
    unit: str | None = None
    unlimited: bool = False

    @classmethod
    def from_used(cls, id: str, label: str, used_percent: float | None, **fields: Any) -> "QuotaWindow":
        """A window from its used %, deriving the remaining % (both clamped; unknown stays None)."""
        used = None if used_percent is None else clamp_percent(used_percent)
        return cls(id, label, used_percent=used, remaining_percent=None if used is None else 100.0 - used,
                   **fields)

    @classmethod
    def from_remaining(cls, id: str, label: str, remaining_percent: float | None, **fields: Any) -> "QuotaWindow":
        left = None if remaining_percent is None else clamp_percent(remaining_percent)
        return cls(id, label, used_percent=None if left is None else 100.0 - left, remaining_percent=left,
                   **fields)

    def has_reset(self, now: datetime) -> bool:
        """The reset time has passed (whether the numbers are from before it depends on when they were read)."""
        return self.resets_at is not None and self.resets_at <= now

    def as_of(self, now: datetime, fetched_at: datetime) -> "QuotaWindow":
        """This window as it may be shown at `now`: numbers read before a reset that has since passed say
        nothing about now, so used and left become unknown (the limit and the reset time still hold)."""
        if not self.has_reset(now) or self.resets_at <= fetched_at:  # type: ignore[operator]
            return self
        return replace(self, used_percent=None, remaining_percent=None, used=None, remaining=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "used_percent": self.used_percent,
            "remaining_percent": self.remaining_percent,
            "window_seconds": self.window_seconds,
            "resets_at": iso_z(self.resets_at),
            "used": self.used,
            "limit": self.limit,
            "remaining": self.remaining,
            "unit": self.unit,
            "unlimited": self.unlimited,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "QuotaWindow":
        return cls(
            id=str(data["id"]), label=str(data.get("label") or data["id"]),
            used_percent=data.get("used_percent"), remaining_percent=data.get("remaining_percent"),
            window_seconds=data.get("window_seconds"), resets_at=parse_iso_z(data.get("resets_at")),
            used=data.get("used"), limit=data.get("limit"), remaining=data.get("remaining"),
            unit=data.get("unit"), unlimited=bool(data.get("unlimited", False)),
        )


@dataclass(frozen=True)
class QuotaSnapshot:
    """What one account had left at `fetched_at`, or why that could not be found out.

    `account_key` is stable across refreshes and token renewals (it keys history, stale data and
    notification state); `account` is what the user sees (an email, a masked key, a tool name).
    A `stale` snapshot carries the last good windows together with the error of the refresh that failed.
    """

    provider: str
    account_key: str
    account: str
    plan: str | None = None
    windows: tuple[QuotaWindow, ...] = ()
    fetched_at: datetime = field(default_factory=utc_now)
    error: str | None = None
    error_kind: str | None = None
    source: str | None = None
    stale: bool = False

    @property
    def key(self) -> str:
        """Unique across providers: `provider/account_key`."""
        return f"{self.provider}/{self.account_key}"

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failure(cls, provider: str, account_key: str, account: str, kind: str, message: str,
                now: datetime | None = None, source: str | None = None) -> "QuotaSnapshot":
        return cls(provider, account_key, account, fetched_at=now or utc_now(), error=message,
                   error_kind=kind, source=source)

    def as_stale(self, error: str | None, error_kind: str | None) -> "QuotaSnapshot":
        """This (last good) snapshot, kept on screen while a newer refresh failed."""
        return replace(self, stale=True, error=error, error_kind=error_kind)

    def as_of(self, now: datetime) -> "QuotaSnapshot":
        """What may be shown at `now`: windows that reset after the fetch have unknown numbers until the next
        refresh (which the engine schedules just after the reset)."""
        windows = tuple(w.as_of(now, self.fetched_at) for w in self.windows)
        return self if windows == self.windows else replace(self, windows=windows)

    def age(self, now: datetime) -> timedelta:
        return max(timedelta(0), now - self.fetched_at)

    def window(self, window_id: str) -> QuotaWindow | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def same_content(self, other: "QuotaSnapshot | None") -> bool:
        """Equal apart from `fetched_at` and reset times drifting by under a minute (services that give
        resets as "in N seconds" move them by the request latency): emit and record only real changes."""
        if other is None or len(self.windows) != len(other.windows):
            return False
        if replace(self, fetched_at=other.fetched_at, windows=_without_resets(self.windows)) != replace(
                other, windows=_without_resets(other.windows)):
            return False
        return all(_close(a.resets_at, b.resets_at) for a, b in zip(self.windows, other.windows, strict=True))

    def to_json(self, now: datetime | None = None, hide_personal: bool = False) -> dict[str, Any]:
        """The `quotagate status --json` shape of one account. `now` adds `age_seconds`."""
        data: dict[str, Any] = {
            "provider": self.provider,
            "account": mask_identity(self.account) if hide_personal else self.account,
            "account_key": self.account_key,
            "plan": self.plan,
            "windows": [w.to_json() for w in self.windows],
            "fetched_at": iso_z(self.fetched_at),
            "stale": self.stale,
            "error": self.error,
            "error_kind": self.error_kind,
            "source": self.source,
        }
        if now is not None:
            data["age_seconds"] = round(self.age(now).total_seconds())
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "QuotaSnapshot":
        """Inverse of `to_json` (for history rows and the last-known cache)."""
        return cls(
            provider=str(data["provider"]), account_key=str(data.get("account_key") or data["account"]),
            account=str(data["account"]), plan=data.get("plan"),
            windows=tuple(QuotaWindow.from_json(w) for w in data.get("windows") or ()),
            fetched_at=parse_iso_z(data.get("fetched_at")) or utc_now(),
            error=data.get("error"), error_kind=data.get("error_kind"), source=data.get("source"),
            stale=bool(data.get("stale", False)),
        )


def one_per_person(snapshots: list[QuotaSnapshot]) -> list[QuotaSnapshot]:
    """One snapshot per provider and signed-in person: the same subscription reached through two tools (a
    Codex and an OpenCode sign-in, Copilot's internal and billing paths) has one quota and is shown once —
    the reading with the most windows, the first found on a tie. Only identities naming a person (an email,
    an @login) are compared, and only snapshots with numbers; the rest are all kept."""
    best: dict[tuple[str, str], QuotaSnapshot] = {}
    for snapshot in snapshots:
        person = _person(snapshot)
        if person is None:
            continue
        current = best.get(person)
        if current is None or len(snapshot.windows) > len(current.windows):
            best[person] = snapshot
    return [s for s in snapshots if (person := _person(s)) is None or best.get(person) is s]


def _person(snapshot: QuotaSnapshot) -> tuple[str, str] | None:
    if not snapshot.windows or "@" not in snapshot.account:
        return None
    return snapshot.provider, snapshot.account.strip().lower()


def status_json(snapshots: Iterable[QuotaSnapshot], now: datetime | None = None,
                hide_personal: bool = False) -> dict[str, Any]:
    """The whole `quotagate status --json` document: `{"accounts": [...]}`."""
    return {"accounts": [s.to_json(now=now, hide_personal=hide_personal) for s in snapshots]}


def _without_resets(windows: tuple[QuotaWindow, ...]) -> tuple[QuotaWindow, ...]:
    return tuple(replace(w, resets_at=None) for w in windows)


def _close(a: datetime | None, b: datetime | None, tolerance: timedelta = timedelta(minutes=1)) -> bool:
    return a == b if a is None or b is None else abs(a - b) < tolerance


def iso_z(moment: datetime | None) -> str | None:
    """`2026-01-24T00:00:00Z`: UTC, whole seconds, `Z` suffix."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso_z(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def mask_secret(secret: str) -> str:
    """`sk-a…wxyz`: the one masking rule of the program (core.secrets.mask)."""
    return mask(secret.strip())


def mask_identity(identity: str) -> str:
    """For "hide personal information": `j…e@example.com` for emails; other identities are kept as they are
    (keys are already masked, tool names are not personal)."""
    name, at, domain = identity.partition("@")
    if not at or not name or " " in identity:
        return identity
    return f"{name[0]}…{name[-1]}@{domain}" if len(name) > 2 else f"{name[0]}…@{domain}"


def secret_fingerprint(secret: str) -> str:
    """A stable, non-reversible account key for accounts known only by a key."""
    return hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()[:12]
