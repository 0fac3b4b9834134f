"""Grouping per-model quotas into families (Gemini Pro, Gemini Flash, Claude, GPT, …) by name pattern.

Google lists quotas per model id, and the ids change with every release; matching on name patterns instead
of a list of ids keeps new models landing in the right bar. Each family shows its *lowest* remaining
model, because that is the one that runs out first. Unknown remaining stays unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from core.quota.model import QuotaWindow
from core.quota.parsing import slug


@dataclass(frozen=True)
class Family:
    id: str
    label: str
    pattern: re.Pattern[str]


def _family(id: str, label: str, pattern: str) -> Family:
    return Family(id, label, re.compile(pattern, re.IGNORECASE))


# First match wins, so narrower patterns come first.
FAMILIES: tuple[Family, ...] = (
    _family("gemini-image", "Gemini Image", r"gemini.*image"),
    _family("gemini-flash-lite", "Gemini Flash-Lite", r"gemini.*flash[-_ ]?lite"),
    _family("gemini-flash", "Gemini Flash", r"gemini.*flash"),
    _family("gemini-pro", "Gemini Pro", r"gemini.*pro"),
    _family("gemini", "Gemini", r"gemini"),
    _family("claude", "Claude", r"claude|sonnet|opus|haiku"),
    _family("gpt", "GPT", r"(^|[^a-z])gpt|openai"),
)


# Display order: the models people pick most often first.
DISPLAY_ORDER = ("gemini-pro", "gemini-flash", "gemini-flash-lite", "gemini-image", "gemini", "claude", "gpt")


@dataclass(frozen=True)
class ModelQuota:
    name: str
    remaining_percent: float | None
    resets_at: datetime | None = None
    display_name: str | None = None


def family_of(model: ModelQuota) -> tuple[str, str] | None:
    """(id, label) of the model's family; models no pattern knows are grouped by their display name's first
    word. Models with neither (internal helpers such as autocomplete engines) get None and are not shown."""
    for text in (model.name, model.display_name or ""):
        for family in FAMILIES:
            if text and family.pattern.search(text):
                return family.id, family.label
    if model.display_name:
        word = model.display_name.split()[0]
        return slug(word), word
    return None


def group_by_family(models: Iterable[ModelQuota]) -> list[QuotaWindow]:
    """One window per family: known families in `DISPLAY_ORDER`, then others by name."""
    groups: dict[str, tuple[str, list[ModelQuota]]] = {}
    for model in models:
        family = family_of(model)
        if family is not None:
            groups.setdefault(family[0], (family[1], []))[1].append(model)
    order = {family_id: index for index, family_id in enumerate(DISPLAY_ORDER)}
    windows = []
    for family_id in sorted(groups, key=lambda fid: (order.get(fid, len(order)), fid)):
        label, members = groups[family_id]
        windows.append(_lowest(family_id, label, members))
    return windows


def _lowest(family_id: str, label: str, members: list[ModelQuota]) -> QuotaWindow:
    known = [m for m in members if m.remaining_percent is not None]
    if known:
        lowest = min(known, key=lambda m: m.remaining_percent or 0.0)
        return QuotaWindow.from_remaining(family_id, label, lowest.remaining_percent, resets_at=lowest.resets_at)
    resets = [m.resets_at for m in members if m.resets_at is not None]
    return QuotaWindow.from_remaining(family_id, label, None, resets_at=min(resets) if resets else None)
