"""Quota-aware routing: an account whose live quota window is used up is skipped until that window resets.

The quota engine already reads the quota of keys stored in Quotagate (Z.ai and Zhipu coding plans: one key
both reads its quota and serves requests). Each new set of snapshots replaces what the gate knows; a target
is matched to its snapshot by provider and key fingerprint, so no secret is kept here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Protocol

from core.gateway.resilience import Skipped
from core.i18n import Phrase, translatable
from core.quota.model import QuotaSnapshot, secret_fingerprint

EXHAUSTED_PERCENT = 0.5  # a window with less than this left is used up in practice


class Target(Protocol):
    provider: str
    model: str
    account_id: int | None
    account_name: str
    quota_key: str | None


def quota_key(provider: str, secret: str | None) -> str | None:
    """The quota snapshot key of a stored key: `provider/fingerprint` (as the quota providers key them)."""
    return f"{provider}/{secret_fingerprint(secret)}" if secret else None


class QuotaGate:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._exhausted: dict[str, tuple[datetime, str]] = {}  # snapshot key -> (resets at, window label)
        self._left: dict[str, tuple[float, datetime | None]] = {}  # -> (tightest % left, its reset)
        self._now = now

    def update(self, snapshots: Iterable[QuotaSnapshot]) -> None:
        """The quota engine's latest snapshots (a listener of its `snapshots_changed`)."""
        now = self._now()
        exhausted = {}
        left_of: dict[str, tuple[float, datetime | None]] = {}
        for snapshot in snapshots:
            if snapshot.stale:  # old numbers are not a reason to refuse traffic
                continue
            for window in snapshot.windows:
                left = window.remaining_percent
                if left is not None and (snapshot.key not in left_of or left < left_of[snapshot.key][0]):
                    left_of[snapshot.key] = (left, window.resets_at)
                if left is not None and left < EXHAUSTED_PERCENT and window.resets_at and window.resets_at > now:
                    current = exhausted.get(snapshot.key)
                    if current is None or window.resets_at > current[0]:
                        exhausted[snapshot.key] = (window.resets_at, window.label)
        self._exhausted = exhausted
        self._left = left_of

    def headroom(self, key: str | None) -> tuple[float, float | None] | None:
        """(% left in the tightest window, seconds until it resets) for a quota key, None when unknown:
        what the `headroom` and `reset-aware` strategies order by."""
        found = self._left.get(key) if key else None
        if found is None:
            return None
        left, resets_at = found
        return left, (resets_at - self._now()).total_seconds() if resets_at else None

    def usable(self, targets: Sequence[Target], threshold: float = 0.0) -> tuple[list[Target], list[Skipped]]:
        """The targets that may be tried now; the others with why and for how long. `threshold` (a combo's
        % left) also skips accounts with less than that left, until their tightest window resets."""
        now = self._now()
        kept: list[Target] = []
        skipped: list[Skipped] = []
        for target in targets:
            key = target.quota_key
            found = self._exhausted.get(key) if key else None
            if found is not None and found[0] > now:
                skipped.append(Skipped(target, Phrase(translatable("its {window} quota is used up"), window=found[1]),
                                       (found[0] - now).total_seconds(), True))
                continue
            low = self._left.get(key) if key and threshold > 0 else None
            if low is not None and low[0] < threshold and low[1] is not None and low[1] > now:
                why = Phrase(translatable("only {left}% of its quota is left (this combo keeps {reserve}% in "
                                          "reserve)"), left=f"{low[0]:g}", reserve=f"{threshold:g}")
                skipped.append(Skipped(target, why, (low[1] - now).total_seconds(), True))
                continue
            kept.append(target)
        return kept, skipped
