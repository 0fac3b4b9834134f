"""The provider catalogue, typed: built once from `catalog_data` at import and checked on the way.

A mistake in the data (a duplicated prefix, an unknown auth style, a plain-http cloud URL) stops the
import with a `CatalogError` naming the provider, so it is caught by the first test run, not by a user.
"""

from __future__ import annotations

import math

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args
from urllib.parse import urlsplit

from core.providers import catalog_data
from core.settings import is_loopback_host

Format = Literal["openai", "anthropic", "gemini", "responses",  # responses: Codex's only wire format
                 "deepgram", "assemblyai"]  # speech-to-text only (core/gateway/transcription.py)
# "oauth": a subscription sign-in, not a key; its requests go through its executor (core/gateway/executors/)
# "token": `Authorization: Token <key>` (Deepgram); "authorization": the bare key in `Authorization` (AssemblyAI)
AuthStyle = Literal["bearer", "x-api-key", "x-goog-api-key", "none", "oauth", "token", "authorization"]
ModelKind = Literal["chat", "embedding", "image", "transcription"]  # which endpoint serves the model

FORMATS: frozenset[str] = frozenset(get_args(Format))
AUTH_STYLES: frozenset[str] = frozenset(get_args(AuthStyle))
MODEL_KINDS: frozenset[str] = frozenset(get_args(ModelKind))
PRICE_FIELDS = ("input", "output", "cached_input")

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PROVIDER_KEYS = {"id", "name", "prefix", "format", "base_url", "auth", "local", "models_endpoint", "models"}
_PROVIDER_OPTIONAL_KEYS = {"aliases", "openai_base_url", "headers", "key_url"}
_MODEL_KEYS = {"id", "kind", *PRICE_FIELDS}
_MODEL_OPTIONAL_KEYS = {"context"}


class CatalogError(ValueError):
    """The catalogue data is inconsistent; the message names the provider and the field."""


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1M tokens; None means unknown (or free) and costs nothing."""

    input: float | None = None
    output: float | None = None
    cached_input: float | None = None


@dataclass(frozen=True)
class CatalogModel:
    id: str
    kind: ModelKind
    price: ModelPrice
    context: int | None = None


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    prefix: str
    aliases: tuple[str, ...]
    format: Format
    base_url: str
    openai_base_url: str | None
    auth: AuthStyle
    headers: Mapping[str, str] = field(hash=False)
    local: bool = False
    key_url: str | None = None
    models_endpoint: bool = False
    models: tuple[CatalogModel, ...] = field(default=(), hash=False, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the provider answers to: id, prefix, aliases (lowercase, no repeats)."""
        return tuple(dict.fromkeys((self.id, self.prefix, *self.aliases)))

    def model(self, model_id: str) -> CatalogModel | None:
        return next((m for m in self.models if m.id == model_id), None)

    def base_url_for(self, wire_format: Format) -> str | None:
        """The API root to use when speaking `wire_format`, or None when the provider has none."""
        if wire_format == self.format:
            return self.base_url
        if wire_format == "openai":
            return self.openai_base_url
        return None


# --- building and checking the data ------------------------------------------------------------


def build_catalog(entries: Iterable[Mapping[str, object]]) -> tuple[Provider, ...]:
    """Typed providers from plain dicts, or a `CatalogError` saying what is inconsistent."""
    providers: list[Provider] = []
    owner_of: dict[str, str] = {}
    for entry in entries:
        provider = _build_provider(entry)
        for name in provider.names:
            if name in owner_of:
                raise CatalogError(
                    f"provider {provider.id!r}: name {name!r} is already used by provider {owner_of[name]!r}"
                )
            owner_of[name] = provider.id
        providers.append(provider)
    return tuple(providers)


def _build_provider(entry: object) -> Provider:
    if not isinstance(entry, dict):
        raise CatalogError("every provider must be a dict")
    where = f"provider {entry.get('id')!r}"
    _check_keys(entry, _PROVIDER_KEYS, _PROVIDER_OPTIONAL_KEYS, where)
    pid, prefix = _name(entry["id"], f"{where} id"), _name(entry["prefix"], f"{where} prefix")
    aliases = tuple(_name(a, f"{where} alias") for a in _list(entry.get("aliases", []), f"{where} aliases"))
    if len({pid, prefix, *aliases}) != len({pid, prefix}) + len(aliases):
        raise CatalogError(f"{where}: aliases repeat the id, the prefix or each other")
    fmt = _choice(entry["format"], FORMATS, f"{where} format")
    auth = _choice(entry["auth"], AUTH_STYLES, f"{where} auth")
    local = _bool(entry["local"], f"{where} local")
    base_url = _url(entry["base_url"], local, f"{where} base_url")
    openai_base_url = entry.get("openai_base_url")
    if openai_base_url is not None:
        if fmt == "openai":
            raise CatalogError(f"{where}: openai_base_url is only for providers whose format is not openai")
        openai_base_url = _url(openai_base_url, local, f"{where} openai_base_url")
    headers = entry.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise CatalogError(f"{where}: headers must map header names to string values")
    key_url = entry.get("key_url")
    if key_url is not None:
        key_url = _url(key_url, False, f"{where} key_url", api_root=False)
    models = tuple(_build_model(m, where) for m in _list(entry["models"], f"{where} models"))
    if not models:
        raise CatalogError(f"{where}: needs at least one default model")
    if len({m.id for m in models}) != len(models):
        raise CatalogError(f"{where}: model ids repeat")
    return Provider(
        id=pid,
        name=_text(entry["name"], f"{where} name"),
        prefix=prefix,
        aliases=aliases,
        format=fmt,
        base_url=base_url,
        openai_base_url=openai_base_url,
        auth=auth,
        headers=MappingProxyType(dict(headers)),
        local=local,
        key_url=key_url,
        models_endpoint=_bool(entry["models_endpoint"], f"{where} models_endpoint"),
        models=models,
    )


def _build_model(entry: object, where: str) -> CatalogModel:
    if not isinstance(entry, dict):
        raise CatalogError(f"{where}: every model must be a dict")
    where = f"{where} model {entry.get('id')!r}"
    _check_keys(entry, _MODEL_KEYS, _MODEL_OPTIONAL_KEYS, where)
    context = entry.get("context")
    if context is not None and (type(context) is not int or context <= 0):
        raise CatalogError(f"{where}: context must be a positive integer or absent")
    return CatalogModel(
        id=_text(entry["id"], f"{where} id"),
        kind=_choice(entry["kind"], MODEL_KINDS, f"{where} kind"),
        price=ModelPrice(**{f: _price(entry[f], f"{where} {f}") for f in PRICE_FIELDS}),
        context=context,
    )


def _check_keys(entry: Mapping[str, object], required: set[str], optional: set[str], where: str) -> None:
    if missing := required - entry.keys():
        raise CatalogError(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown := entry.keys() - required - optional:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise CatalogError(f"{where}: must be a non-empty string without surrounding spaces")
    return value


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise CatalogError(f"{where}: {value!r} must be lowercase letters, digits, '.', '_' or '-' (no '/')")
    return value


def _choice(value: object, allowed: frozenset[str], where: str) -> str:
    if value not in allowed:
        raise CatalogError(f"{where}: {value!r} is not one of {', '.join(sorted(allowed))}")
    return value  # type: ignore[return-value]


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{where}: must be true or false")
    return value


def _list(value: object, where: str) -> list:
    if not isinstance(value, list):
        raise CatalogError(f"{where}: must be a list")
    return value


def _price(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CatalogError(f"{where}: {value!r} must be a non-negative number (USD per 1M tokens) or None")
    return float(value)


def _url(value: object, local: bool, where: str, api_root: bool = True) -> str:
    """Cloud endpoints must be https; local ones must stay on this machine. An API root has no
    trailing slash, query or fragment, because the wire format's paths are appended to it."""
    if not isinstance(value, str):
        raise CatalogError(f"{where}: must be a URL string")
    parts = urlsplit(value)
    host = parts.hostname or ""
    if not host or (api_root and (parts.query or parts.fragment or value.endswith("/"))):
        raise CatalogError(f"{where}: {value!r} must be scheme://host[/path] with no trailing slash")
    if local and not is_loopback_host(host):
        raise CatalogError(f"{where}: {value!r} is marked local but is not a loopback address")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(host)):
        raise CatalogError(f"{where}: {value!r} must use https (plain http only on loopback)")
    return value


_PROVIDERS: tuple[Provider, ...] = build_catalog(catalog_data.PROVIDERS)
_BY_NAME: dict[str, Provider] = {name: p for p in _PROVIDERS for name in p.names}


# --- lookups ------------------------------------------------------------------------------------


def providers() -> tuple[Provider, ...]:
    """All catalogue providers, in display order."""
    return _PROVIDERS


def get_provider(name: str) -> Provider | None:
    """The provider known by this id, prefix or alias (any case), or None."""
    return _BY_NAME.get(name.strip().lower())


def split_model_name(name: str) -> tuple[Provider, str] | None:
    """`ds/deepseek-chat` -> (DeepSeek, "deepseek-chat"); None when the part before the first `/` names
    no catalogue provider (the caller then tries custom endpoints and aliases). Only the first `/`
    splits, so `openrouter/anthropic/claude-sonnet-4.5` keeps `anthropic/claude-sonnet-4.5` as the
    model id. The provider part is case-insensitive; the model id is passed on exactly as written."""
    head, slash, model_id = name.partition("/")
    if not slash or not model_id:
        return None
    provider = get_provider(head)
    return (provider, model_id) if provider else None


# --- prices and cost ----------------------------------------------------------------------------

PriceOverrides = Mapping[str, Mapping[str, float | int | None]]


def price_for(provider_id: str, model_id: str, overrides: PriceOverrides | None = None) -> ModelPrice:
    """The catalogue price of a model with the user's overrides laid on top.

    Overrides are keyed `"provider/model"`, where provider may be any of its names (`ds/deepseek-chat`
    and `deepseek/deepseek-chat` are the same key) or a custom endpoint's prefix; an override may set
    some fields only. A model missing from the catalogue starts from an all-unknown price.
    """
    provider = get_provider(provider_id)
    model = provider.model(model_id) if provider else None
    price = model.price if model else ModelPrice()
    wanted = (provider.id if provider else provider_id.strip().lower(), model_id)
    for key, fields in (overrides or {}).items():
        if _override_target(key) == wanted:
            validate_price_override(key, fields)
            price = ModelPrice(**{f: _float_or_none(fields.get(f, getattr(price, f))) for f in PRICE_FIELDS})
    return price


MAX_PRICE = 1_000_000.0  # USD per 1M tokens: far above any real price, far below what breaks a sum


def validate_price_override(key: str, fields: Mapping[str, object]) -> None:
    """Raise ValueError with a user-facing message unless `key`/`fields` is a usable override
    (for the settings API to call before it stores one)."""
    head, slash, model_id = key.partition("/")
    if not head or not slash or not model_id:
        raise ValueError(f"price override {key!r}: the key must be 'provider/model'")
    if not isinstance(fields, Mapping) or set(fields) - set(PRICE_FIELDS):
        raise ValueError(f"price override {key!r}: only {', '.join(PRICE_FIELDS)} can be set")
    for name, value in fields.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not 0 <= value <= MAX_PRICE):
            raise ValueError(f"price override {key[:200]!r}: {name} must be a non-negative number of USD per 1M "
                             f"tokens, at most {MAX_PRICE:,.0f}")


def _float_or_none(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _override_target(key: str) -> tuple[str, str]:
    head, _, model_id = key.partition("/")
    provider = get_provider(head)
    return (provider.id if provider else head.strip().lower(), model_id)


def cost_usd(price: ModelPrice, tokens_in: int, tokens_out: int, tokens_cached: int = 0) -> float:
    """What a request cost in USD.

    Convention: `tokens_in` is the whole prompt *including* the `tokens_cached` part served from the
    provider's prompt cache (as OpenAI, DeepSeek and Gemini report it; for Anthropic add
    `cache_read_input_tokens` and `cache_creation_input_tokens` to `input_tokens` first). Cached tokens
    are billed at `cached_input` when known, else at `input`; unknown prices count as zero.
    """
    if min(tokens_in, tokens_out, tokens_cached) < 0:
        raise ValueError("token counts cannot be negative")
    if tokens_cached > tokens_in:
        raise ValueError("tokens_cached is part of tokens_in and cannot exceed it")
    input_rate = price.input or 0.0
    cached_rate = price.cached_input if price.cached_input is not None else input_rate
    output_rate = price.output or 0.0
    total = (tokens_in - tokens_cached) * input_rate + tokens_cached * cached_rate + tokens_out * output_rate
    cost = total / 1_000_000
    return cost if math.isfinite(cost) else 0.0  # only a price no check let through could get here


# --- upstream auth -----------------------------------------------------------------------------


def upstream_auth_headers(provider: Provider, api_key: str | None, wire_format: Format | None = None) -> dict[str, str]:
    """Headers that authenticate a request to `provider` spoken in `wire_format` (default: its native
    format): the key in the provider's auth style plus its fixed headers. The OpenAI-compatible
    endpoints of non-OpenAI providers take `Authorization: Bearer` and no extra headers.

    A provider with auth `none` (a local server) still gets `Bearer <key>` when the user set a key,
    for servers put behind a token."""
    wire_format = wire_format or provider.format
    if provider.auth == "oauth":
        raise ValueError(f"{provider.name} is a subscription sign-in: its executor authenticates each request")
    if provider.base_url_for(wire_format) is None:
        raise ValueError(f"{provider.name} has no {wire_format}-format endpoint")
    native = wire_format == provider.format
    style = provider.auth if native or provider.auth == "none" else "bearer"
    headers = dict(provider.headers) if native else {}
    key = (api_key or "").strip()
    if style == "none":
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers
    if not key:
        raise ValueError(f"{provider.name} needs an API key")
    if style == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    elif style == "token":
        headers["Authorization"] = f"Token {key}"
    elif style == "authorization":
        headers["Authorization"] = key
    else:
        headers[style] = key
    return headers
