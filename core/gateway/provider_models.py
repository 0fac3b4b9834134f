"""Models a user adds to a catalogue provider beyond the catalogue's own list (a model released last week,
a fine-tune): stored as one setting, listed in `/v1/models` for connected providers, and routable like any
`provider/model` name."""

from __future__ import annotations

from typing import Any

from core.i18n import tr
from core.providers import catalog
from core.settings import SettingError

MAX_PER_PROVIDER = 500


def provider_models_setting(value: Any, field: str) -> dict[str, list[dict[str, str]]]:
    """`{provider id: [{"id", "name"}]}`; providers by any of their names, stored by id."""
    if not isinstance(value, dict) or len(value) > 200:
        raise SettingError(tr("{field} must be an object of provider id to a list of models.", field=field))
    checked: dict[str, list[dict[str, str]]] = {}
    for name, models in value.items():
        provider = provider_named(name)
        if not isinstance(models, list) or len(models) > MAX_PER_PROVIDER:
            raise SettingError(tr("{field}.{provider} must be a list of at most {count} models.", field=field,
                                  provider=provider.id, count=MAX_PER_PROVIDER))
        entries = checked.setdefault(provider.id, [])
        for model in models:
            entry = model_entry(model)
            if entry["id"] not in {e["id"] for e in entries}:
                entries.append(entry)
    return {provider: entries for provider, entries in checked.items() if entries}


def provider_named(name: Any) -> catalog.Provider:
    provider = catalog.get_provider(name) if isinstance(name, str) and name.strip() else None
    if provider is None:
        shown = repr(name[:60]) if isinstance(name, str) else tr("missing")
        raise SettingError(tr("`provider` must be a catalogue provider (GET /api/providers/catalog lists them), not "
                              "{provider}; custom endpoints list their own models.", provider=shown))
    return provider


def model_entry(value: Any) -> dict[str, str]:
    """`{"id", "name"?}`: the id as the provider's API names the model."""
    model_id = value.get("id") if isinstance(value, dict) else None
    if not isinstance(model_id, str) or not model_id.strip() or len(model_id.strip()) > 200 \
            or not model_id.strip().isprintable() or any(ch.isspace() for ch in model_id.strip()):
        raise SettingError(tr("`modelId` must be the model's id as the provider names it: up to 200 characters, "
                              "no spaces."))
    name = value.get("name") if isinstance(value, dict) else None
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise SettingError(tr("`modelName` must be a string of at most 200 characters."))
    return {"id": model_id.strip(), "name": (name or "").strip() or model_id.strip()}


def listed(value: Any) -> dict[str, tuple[str, ...]]:
    """The stored setting as the routing table takes it: provider id -> model ids not in the catalogue."""
    if not isinstance(value, dict):
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for provider_id, models in value.items():
        provider = catalog.get_provider(provider_id)
        if provider is None or not isinstance(models, list):
            continue
        ids = tuple(m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str)
                    and provider.model(m["id"]) is None)
        if ids:
            found[provider.id] = ids
    return found
