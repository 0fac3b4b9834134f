"""When to notify: remaining % crossing a threshold downwards, running out, and coming back.

A pure state machine — snapshots in, alerts out, no clock, no I/O — so that it is easy to test and its state
can be saved (`to_dict`) and restored (`from_dict`) by the caller: after a restart, a quota that was
already announced is not announced again. Each threshold fires once per downward crossing and is re-armed
when the remaining % climbs back above it (typically at the window's reset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from core.quota.model import QuotaSnapshot, QuotaWindow

AlertKind = Literal["threshold", "depleted", "restored"]
DEFAULT_THRESHOLDS: tuple[float, ...] = (50.0, 20.0)
STATE_VERSION = 1


@dataclass(frozen=True)
class QuotaAlert:
    kind: AlertKind
    provider: str
    account: str
    window_key: str
    window_label: str
    remaining_percent: float
    threshold: float | None = None  # the crossed threshold, for kind == "threshold"
    resets_at: datetime | None = None


class ThresholdNotifier:
    def __init__(self, thresholds: Iterable[float] = DEFAULT_THRESHOLDS) -> None:
        self.thresholds = tuple(sorted({float(t) for t in thresholds if 0 < float(t) < 100}, reverse=True))
        self._fired: dict[str, set[float]] = {}
        self._depleted: set[str] = set()

    def observe(self, snapshots: Iterable[QuotaSnapshot]) -> list[QuotaAlert]:
        """Alerts for what changed since the previous observation. Stale snapshots are ignored: their numbers
        are old. A window seen for the first time already below a threshold is announced once."""
        alerts: list[QuotaAlert] = []
        for snapshot in snapshots:
            if snapshot.stale:
                continue
            for window in snapshot.windows:
                if window.remaining_percent is not None and not window.unlimited:
                    alert = self._observe_window(snapshot, window, window.remaining_percent)
                    alerts.extend(alert)
        return alerts

    def _observe_window(self, snapshot: QuotaSnapshot, window: QuotaWindow, left: float) -> list[QuotaAlert]:
        key = window_key(snapshot, window)
        fired = self._fired.setdefault(key, set())

        def alert(kind: AlertKind, threshold: float | None = None) -> QuotaAlert:
            return QuotaAlert(kind, snapshot.provider, snapshot.account, key, window.label, left, threshold,
                              window.resets_at)

        if left <= 0:
            fired.update(self.thresholds)
            if key in self._depleted:
                return []
            self._depleted.add(key)
            return [alert("depleted")]
        alerts = []
        if key in self._depleted:
            self._depleted.discard(key)
            alerts.append(alert("restored"))
        fired.difference_update({t for t in fired if left > t})
        crossed = [t for t in self.thresholds if left <= t and t not in fired]
        if crossed:
            fired.update(crossed)
            alerts.append(alert("threshold", min(crossed)))  # one notice for a fall past several thresholds
        if not fired:
            del self._fired[key]
        return alerts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state for the caller to persist (e.g. as a store setting)."""
        keys = sorted(set(self._fired) | self._depleted)
        return {"version": STATE_VERSION, "windows": {
            key: {"fired": sorted(self._fired.get(key, ()), reverse=True), "depleted": key in self._depleted}
            for key in keys}}

    @classmethod
    def from_dict(cls, state: Mapping[str, Any] | None,
                  thresholds: Iterable[float] = DEFAULT_THRESHOLDS) -> "ThresholdNotifier":
        """Restore saved state; anything unreadable is skipped (bad input must not stop notifications)."""
        notifier = cls(thresholds)
        windows = state.get("windows") if isinstance(state, Mapping) else None
        if not isinstance(windows, Mapping) or (state or {}).get("version") != STATE_VERSION:
            return notifier
        for key, entry in windows.items():
            if not isinstance(key, str) or not isinstance(entry, Mapping):
                continue
            fired = {float(t) for t in entry.get("fired") or () if isinstance(t, (int, float))
                     and not isinstance(t, bool)}
            if fired:
                notifier._fired[key] = fired
            if entry.get("depleted") is True:
                notifier._depleted.add(key)
        return notifier


def window_key(snapshot: QuotaSnapshot, window: QuotaWindow) -> str:
    return f"{snapshot.key}/{window.id}"


_SEVERITY: dict[str, int] = {"depleted": 0, "threshold": 1, "restored": 2}


def most_severe_first(alerts: Iterable[QuotaAlert]) -> list[QuotaAlert]:
    """Used-up windows first, then crossed thresholds from the least left, then windows that came back."""
    return sorted(alerts, key=lambda alert: (_SEVERITY[alert.kind], alert.remaining_percent))
