"""Combos: a named model that routes to an ordered or balanced set of targets across providers and accounts.

A combo is data: a name, a strategy and its targets, each a model (`provider/model`, optionally one account of
that provider, with a weight) or another combo by name. This module reads and checks the API's shapes and
keeps combos in the store; `routing` turns them into attempt plans and `strategies` orders those plans.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from core.settings import ACCOUNT_SELECTIONS, ConfigError, NotFound
from core.store.models import Combo as ComboRow

MAX_DEPTH = 3  # combo-refs one under another: a combo → combo → combo → combo, no deeper
MAX_TARGETS = 64
# Each strategy is a function in `strategies`; these are the names the API accepts.
STRATEGIES = ("priority", "round-robin", "weighted", "random", "least-used", "cost-optimized", "p2c", "lkgp",
              "headroom", "reset-aware")
_LEGACY_STRATEGIES = {"fallback": "priority"}  # the name the store's first schema defaulted to


@dataclass(frozen=True)
class ModelTarget:
    model: str  # "provider/model" (or a custom endpoint's prefix/model, or an alias)
    account_id: int | None = None  # one account of that provider only
    weight: float = 1.0

    def public(self) -> dict[str, Any]:
        provider, _, model = self.model.partition("/")
        return {"kind": "model", "provider": provider, "model": model, "connectionId": self.account_id,
                "weight": self.weight}


@dataclass(frozen=True)
class ComboRef:
    name: str
    weight: float = 1.0

    def public(self) -> dict[str, Any]:
        return {"kind": "combo-ref", "comboName": self.name, "weight": self.weight}


Target = ModelTarget | ComboRef


@dataclass(frozen=True)
class ComboOptions:
    account_selection: str | None = None  # None: the gateway's default (settings.KEY_ACCOUNT_SELECTION)
    quota_threshold: float = 0.0  # % left under which a subscription or coding-plan account is skipped

    def public(self) -> dict[str, Any]:
        return {"accountSelection": self.account_selection, "quotaThreshold": self.quota_threshold}


@dataclass(frozen=True)
class Combo:
    id: int
    name: str
    strategy: str
    targets: tuple[Target, ...]
    options: ComboOptions = ComboOptions()

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "strategy": self.strategy,
                "models": [target.public() for target in self.targets], **self.options.public()}


# --- reading the API's shapes -------------------------------------------------------------------------


def combo_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("`name` must be a non-empty string, e.g. \"coding\".")
    name = value.strip()
    if len(name) > 100 or "/" in name or not name.isprintable() or any(ch.isspace() for ch in name):
        raise ConfigError("`name` must be at most 100 printable characters without spaces or '/' (clients ask "
                          "for the combo by this name).")
    return name


def strategy_name(value: Any) -> str:
    if value is None:
        return "priority"
    value = _LEGACY_STRATEGIES.get(value, value)
    if value not in STRATEGIES:
        raise ConfigError(f"`strategy` must be one of {', '.join(STRATEGIES)}.")
    return value


def account_selection(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if value not in ACCOUNT_SELECTIONS:
        raise ConfigError(f"`accountSelection` must be one of {', '.join(ACCOUNT_SELECTIONS)} (or null for the "
                          "gateway's default).")
    return value


def quota_threshold(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ConfigError("`quotaThreshold` must be a percentage from 0 to 100: accounts with less quota left "
                          "than this are skipped until their window resets.")
    return float(value)


def options_of(fields: dict[str, Any]) -> ComboOptions:
    """`accountSelection` and `quotaThreshold` as the API sends them."""
    return ComboOptions(account_selection(fields.get("accountSelection")),
                        quota_threshold(fields.get("quotaThreshold")))


def targets_of(value: Any) -> tuple[Target, ...]:
    """`models` as the API sends it: "provider/model" strings or {kind: "model" | "combo-ref", …} objects."""
    if not isinstance(value, list) or not value:
        raise ConfigError("`models` must be a non-empty array of \"provider/model\" strings or target objects.")
    if len(value) > MAX_TARGETS:
        raise ConfigError(f"`models` holds at most {MAX_TARGETS} targets.")
    return tuple(_target(item, f"models[{index}]") for index, item in enumerate(value))


def _target(item: Any, where: str) -> Target:
    if isinstance(item, str):
        return ModelTarget(_model(item, where))
    if not isinstance(item, dict):
        raise ConfigError(f"`{where}` must be a \"provider/model\" string or an object.")
    weight = _weight(item.get("weight"), f"{where}.weight")
    kind = item.get("kind", "model")
    if kind == "combo-ref":
        return ComboRef(combo_name_at(item.get("comboName"), f"{where}.comboName"), weight)
    if kind != "model":
        raise ConfigError(f"`{where}.kind` must be \"model\" or \"combo-ref\".")
    model = item.get("model")
    provider = item.get("provider")
    if provider is not None:  # {provider, model}: the model id may hold '/' itself (OpenRouter's do)
        if not isinstance(provider, str) or not provider.strip() or "/" in provider:
            raise ConfigError(f"`{where}.provider` must be a provider id or prefix such as \"openai\".")
        model = f"{provider.strip()}/{model}" if isinstance(model, str) else model
    account = item.get("connectionId")
    if account is not None and (not isinstance(account, int) or isinstance(account, bool) or not 0 < account < 2**53):
        raise ConfigError(f"`{where}.connectionId` must be an account id (a positive integer).")
    return ModelTarget(_model(model, f"{where}.model"), account, weight)


def combo_name_at(value: Any, where: str) -> str:
    try:
        return combo_name(value)
    except ConfigError:
        raise ConfigError(f"`{where}` must name a combo.") from None


def _model(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 400 or not value.isprintable():
        raise ConfigError(f"`{where}` must be a model name such as \"openai/gpt-4.1\".")
    return value.strip()


def _weight(value: Any, where: str) -> float:
    if value is None:
        return 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1_000_000:
        raise ConfigError(f"`{where}` must be a positive number (at most 1,000,000).")
    return float(value)


def check_references(combos: dict[str, Combo]) -> None:
    """Every combo-ref names a combo, with no cycle and at most `MAX_DEPTH` levels of nesting."""

    def depth(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            raise ConfigError(f"Combo “{path[0]}” refers back to itself ({' → '.join((*path, name))}).")
        combo = combos.get(name)
        if combo is None:
            raise ConfigError(f"Combo “{path[-1]}” refers to “{name}”, which is not a combo.")
        refs = [t.name for t in combo.targets if isinstance(t, ComboRef)]
        return 1 + max((depth(ref, (*path, name)) for ref in refs), default=0)

    for name in combos:
        if depth(name, ()) - 1 > MAX_DEPTH:  # depth counts combos in the chain, MAX_DEPTH the refs
            raise ConfigError(f"Combo “{name}” nests combos more than {MAX_DEPTH} deep.")


# --- the store ----------------------------------------------------------------------------------------


def load_combos() -> list[Combo]:
    """Every stored combo (a row unreadable here, e.g. from a newer version, is skipped, not fatal)."""
    combos = []
    for row in ComboRow.select().order_by(ComboRow.name):
        try:
            combos.append(_from_row(row))
        except (ConfigError, ValueError):
            continue
    return combos


def get_combo(combo_id: int) -> Combo:
    row = ComboRow.get_or_none(ComboRow.id == combo_id)
    if row is None:
        raise NotFound(f"No combo with id {combo_id}; GET /api/combos lists them.")
    return _from_row(row)


def save_combo(name: str, strategy: str, targets: tuple[Target, ...], combo_id: int | None = None,
               options: ComboOptions = ComboOptions()) -> Combo:
    """Insert or update, then check the whole set (references, cycles, depth) inside the same transaction."""
    now = time.time()
    stored = json.dumps([target.public() for target in targets])
    extra = json.dumps(options.public())
    if combo_id is None:
        combo_id = ComboRow.create(name=name, strategy=strategy, targets=stored, options=extra,
                                   created_at=now, updated_at=now).id
    elif not ComboRow.update(name=name, strategy=strategy, targets=stored, options=extra, updated_at=now) \
            .where(ComboRow.id == combo_id).execute():
        raise NotFound(f"No combo with id {combo_id}; GET /api/combos lists them.")
    check_references({combo.name: combo for combo in load_combos()})
    return get_combo(combo_id)


def delete_combo(combo_id: int) -> None:
    combo = get_combo(combo_id)
    users = [c.name for c in load_combos() if any(isinstance(t, ComboRef) and t.name == combo.name
                                                   for t in c.targets)]
    if users:
        raise ConfigError(f"Combo “{combo.name}” is used by {', '.join(users)}; remove it there first.")
    ComboRow.delete().where(ComboRow.id == combo_id).execute()


def _from_row(row: ComboRow) -> Combo:
    extra = json.loads(row.options or "{}")
    return Combo(row.id, row.name, strategy_name(row.strategy), targets_of(json.loads(row.targets)),
                 options_of(extra if isinstance(extra, dict) else {}))
