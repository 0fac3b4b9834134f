"""The one order accounts are listed in everywhere (tray menu, quota panel, Quota page, History picker):
by provider in the catalogue's order, then by the name shown. It does not depend on the numbers or on
errors, so an account never moves because it failed a refresh or ran low."""

from __future__ import annotations

from collections.abc import Iterable

from core.quota.model import QuotaSnapshot
from core.quota.providers import PROVIDER_IDS

_RANK = {provider: index for index, provider in enumerate(PROVIDER_IDS)}


def display_order(snapshots: Iterable[QuotaSnapshot]) -> list[QuotaSnapshot]:
    return sorted(snapshots, key=lambda s: (_RANK.get(s.provider, len(_RANK)), s.provider,
                                            s.account.casefold(), s.key))
