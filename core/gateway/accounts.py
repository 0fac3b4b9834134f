"""Provider accounts, custom endpoints ("provider nodes") and model aliases: CRUD over the store, with
secrets encrypted by the SecretBox. Reads return plain dataclasses; the gateway routes from a snapshot of
them (`routing.RoutingTable`), never from the database on the request path."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from core.i18n import tr
from core.net.proxies import proxy_url
from core.providers import catalog
from core.secrets import SecretBox, SecretUnreadable, is_sealed, mask, mask_url_credentials, open_sealed, seal_text
from core import settings
from core.settings import ConfigError
from core.store.models import ModelAlias, ProviderAccount, ProviderNode
from core.subscriptions.bundle import bundle_from_secret, public_subscription
from core.subscriptions.credentials import SUBSCRIPTION_PROVIDERS

log = logging.getLogger(__name__)

API_FORMATS = ("openai", "anthropic", "gemini", "responses", "ollama")  # every wire format the gateway speaks
_PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "content-type"}
MAX_NAME = 200
MAX_SECRET = 4096
MAX_URL = 2000
MAX_HEADERS = 50
MAX_PRIORITY = 1_000_000_000


class AccountError(ConfigError):
    """Input the store refuses; the message says what to fix."""


@dataclass(frozen=True)
class Account:
    id: int
    provider: str
    name: str
    api_key: str | None
    priority: int = 0
    active: bool = True
    default_model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    needs_key: bool = False  # its secret could not be decrypted here (restored from another machine)
    # A subscription sign-in's token bundle (see core.subscriptions.bundle); never shown, never an API key.
    tokens: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """"subscription" (a sign-in whose tokens Quotagate renews) or "api-key"."""
        return "subscription" if self.provider in SUBSCRIPTION_PROVIDERS else "api-key"

    def public(self) -> dict[str, Any]:
        shown = {
            "id": self.id, "provider": self.provider, "name": self.name, "apiKey": mask(self.api_key),
            "priority": self.priority, "isActive": self.active, "defaultModel": self.default_model,
            "proxy": mask_url_credentials(self.options.get("proxy")), "needsKey": self.needs_key,
            "kind": self.kind,
        }
        if self.kind == "subscription":
            shown.update(public_subscription(self.options, self.tokens))
        return shown


@dataclass(frozen=True)
class CustomEndpoint:
    id: int
    prefix: str
    name: str
    base_url: str
    api_format: str
    headers: dict[str, str]
    api_key: str | None
    needs_key: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "prefix": self.prefix, "name": self.name, "baseUrl": self.base_url,
            "apiType": self.api_format, "headers": {k: mask(v) for k, v in self.headers.items()},
            "apiKey": mask(self.api_key), "needsKey": self.needs_key,
        }


class AccountStore:
    def __init__(self, box: SecretBox) -> None:
        self.box = box

    # -- accounts -------------------------------------------------------------------------------------
    def create_account(self, provider: str, name: str, api_key: str | None = None, priority: int = 0,
                       active: bool = True, default_model: str | None = None,
                       options: dict[str, Any] | None = None) -> Account:
        now = time.time()
        row = ProviderAccount.create(
            provider=_required_text(provider, "provider"), name=_required_text(name, "name"),
            secret=self._seal(api_key), priority=_integer(priority, "priority"), active=_flag(active, "isActive"),
            default_model=_optional_text(default_model, "defaultModel"),
            options=json.dumps(self._sealed_options(_options(options or {}))),
            created_at=now, updated_at=now,
        )
        return self._account(row)

    def update_account(self, account_id: int, **changes: Any) -> Account | None:
        row = ProviderAccount.get_or_none(ProviderAccount.id == account_id)
        if row is None:
            return None
        if "name" in changes:
            row.name = _required_text(changes["name"], "name")
        if "api_key" in changes and changes["api_key"] is not None:
            row.secret = self._seal(changes["api_key"])
        if "priority" in changes:
            row.priority = _integer(changes["priority"], "priority")
        if "active" in changes:
            row.active = _flag(changes["active"], "isActive")
        if "default_model" in changes:
            row.default_model = _optional_text(changes["default_model"], "defaultModel")
        if "options" in changes:
            merged = {**_json_object(row.options), **_options(changes["options"] or {})}
            row.options = json.dumps(self._sealed_options({k: v for k, v in merged.items() if v is not None}))
        row.updated_at = time.time()
        row.save()
        return self._account(row)

    def delete_account(self, account_id: int) -> bool:
        return ProviderAccount.delete().where(ProviderAccount.id == account_id).execute() > 0

    def get_account(self, account_id: int) -> Account | None:
        row = ProviderAccount.get_or_none(ProviderAccount.id == account_id)
        return self._account(row) if row else None

    def accounts(self) -> list[Account]:
        query = ProviderAccount.select().order_by(ProviderAccount.provider, ProviderAccount.priority,
                                                  ProviderAccount.id)
        return [self._account(row) for row in query]

    # -- custom endpoints -----------------------------------------------------------------------------
    def create_endpoint(self, prefix: str, name: str, base_url: str, api_format: str = "openai",
                    headers: dict[str, str] | None = None, api_key: str | None = None) -> CustomEndpoint:
        now = time.time()
        if ProviderNode.get_or_none(ProviderNode.prefix == _endpoint_prefix(prefix)) is not None:
            raise AccountError(tr("another custom endpoint already uses the prefix “{prefix}”",
                                    prefix=_endpoint_prefix(prefix)))
        row = ProviderNode.create(
            prefix=_endpoint_prefix(prefix), name=_required_text(name, "name"), base_url=_base_url(base_url),
            api_format=_api_format(api_format), headers=json.dumps(self._sealed_headers(_headers(headers))),
            secret=self._seal(api_key), created_at=now, updated_at=now,
        )
        return self._endpoint(row)

    def update_endpoint(self, endpoint_id: int, **changes: Any) -> CustomEndpoint | None:
        row = ProviderNode.get_or_none(ProviderNode.id == endpoint_id)
        if row is None:
            return None
        if "prefix" in changes:
            row.prefix = _endpoint_prefix(changes["prefix"])
        if "name" in changes:
            row.name = _required_text(changes["name"], "name")
        if "base_url" in changes:
            row.base_url = _base_url(changes["base_url"])
        if "api_format" in changes:
            row.api_format = _api_format(changes["api_format"])
        if "headers" in changes:
            row.headers = json.dumps(self._sealed_headers(_headers(changes["headers"])))
        if "api_key" in changes and changes["api_key"] is not None:
            row.secret = self._seal(changes["api_key"])
        row.updated_at = time.time()
        row.save()
        return self._endpoint(row)

    def delete_endpoint(self, endpoint_id: int) -> bool:
        return ProviderNode.delete().where(ProviderNode.id == endpoint_id).execute() > 0

    def endpoints(self) -> list[CustomEndpoint]:
        return [self._endpoint(row) for row in ProviderNode.select().order_by(ProviderNode.prefix)]

    # -- aliases --------------------------------------------------------------------------------------
    def set_alias(self, alias: str, target: str) -> None:
        ModelAlias.insert(alias=_required_text(alias, "alias"), target=_required_text(target, "model")) \
            .on_conflict_replace().execute()

    def delete_alias(self, alias: str) -> bool:
        return ModelAlias.delete().where(ModelAlias.alias == alias).execute() > 0

    def aliases(self) -> dict[str, str]:
        return {row.alias: row.target for row in ModelAlias.select().order_by(ModelAlias.alias)}

    # -- secrets --------------------------------------------------------------------------------------
    def seal_plaintext(self) -> int:
        """Seal proxy sign-ins and header values stored in plaintext by earlier versions (run once at start,
        in the caller's transaction). Returns how many rows changed."""
        changed = 0
        for account_row in ProviderAccount.select():
            options = _json_object(account_row.options)
            if isinstance(options.get("proxy"), str):
                account_row.options = json.dumps(self._sealed_options(options))
                account_row.save()
                changed += 1
        for endpoint_row in ProviderNode.select():
            headers = _json_object(endpoint_row.headers)
            if any(isinstance(v, str) for v in headers.values()):
                endpoint_row.headers = json.dumps(self._sealed_headers(headers))
                endpoint_row.save()
                changed += 1
        return changed

    def _seal(self, secret: str | None) -> bytes | None:
        if secret is None or secret == "":
            return None
        if not isinstance(secret, str):
            raise AccountError(tr("`apiKey` must be a string"))
        secret = secret.strip()
        if len(secret) > MAX_SECRET or any(ch.isspace() for ch in secret):
            raise AccountError(tr("`apiKey` must be one line of at most {count} characters without spaces",
                                  count=MAX_SECRET))
        return self.box.encrypt(secret)

    def _sealed_options(self, options: dict[str, Any]) -> dict[str, Any]:
        proxy = options.get("proxy")
        return {**options, "proxy": seal_text(self.box, proxy)} if isinstance(proxy, str) else options

    def _sealed_headers(self, headers: dict[str, Any]) -> dict[str, Any]:
        return {name: seal_text(self.box, value) if isinstance(value, str) else value
                for name, value in headers.items()}

    def _opened(self, value: dict[str, Any], names: Any) -> tuple[dict[str, Any], bool]:
        """`value` with its sealed entries (those in `names`) opened; True when one could not be."""
        opened, unreadable = dict(value), False
        for name in names:
            try:
                opened[name] = open_sealed(self.box, value[name])
            except SecretUnreadable:
                opened.pop(name)
                unreadable = True
        return opened, unreadable

    def _open(self, sealed: bytes | None) -> tuple[str | None, bool]:
        if sealed is None:
            return None, False
        try:
            return self.box.decrypt(sealed), False
        except SecretUnreadable:
            return None, True

    def _account(self, row: ProviderAccount) -> Account:
        key, unreadable = self._open(row.secret)
        # A proxy sealed on another machine cannot be opened: the account is not used until it is re-entered
        # (sending its traffic without the proxy could reveal what the proxy was there to hide).
        stored = _json_object(row.options)
        options, lost_proxy = self._opened(stored, ["proxy"] if "proxy" in stored else [])
        tokens = None
        if row.provider in SUBSCRIPTION_PROVIDERS:  # the secret is a token bundle, not a key to send
            tokens, key = (bundle_from_secret(key) if key is not None else None), None
        return Account(row.id, row.provider, row.name, key, row.priority, bool(row.active),
                       row.default_model, options, unreadable or lost_proxy, tokens)

    def _endpoint(self, row: ProviderNode) -> CustomEndpoint:
        key, unreadable = self._open(row.secret)
        stored = _json_object(row.headers)
        headers, lost_header = self._opened(stored, list(stored))
        return CustomEndpoint(row.id, row.prefix, row.name, row.base_url, row.api_format, headers, key,
                    unreadable or lost_header)


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _required_text(value: Any, what: str, max_length: int = MAX_NAME) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AccountError(tr("`{field}` must be a non-empty string", field=what))
    if len(value.strip()) > max_length:
        raise AccountError(tr("`{field}` is longer than {count} characters", field=what, count=max_length))
    return value.strip()


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None or (isinstance(value, str) and not value.strip()) \
        else _required_text(value, what, 400)


def _flag(value: Any, what: str) -> bool:
    return settings.flag(value, f"`{what}`")


def _integer(value: Any, what: str) -> int:
    return settings.whole_in(-MAX_PRIORITY, MAX_PRIORITY)(value, f"`{what}`")


def _options(value: Any) -> dict[str, Any]:
    """An account's options; its `proxy` (None removes it) by the one proxy rule."""
    if not isinstance(value, dict) or len(value) > 20:
        raise AccountError(tr("`options` must be an object"))
    options = dict(value)
    if "proxy" not in options:
        return options
    if options["proxy"] in ("", None):
        options["proxy"] = None
    elif not is_sealed(options["proxy"]):
        options["proxy"] = proxy_url(options["proxy"], "proxy")
    return options


def _endpoint_prefix(value: Any) -> str:
    prefix = _required_text(value, "prefix").lower()
    if not _PREFIX_PATTERN.match(prefix):
        raise AccountError(tr("`prefix` may use a-z, 0-9, '.', '_' and '-' (up to 32 characters)"))
    if catalog.get_provider(prefix) is not None:
        raise AccountError(tr("“{prefix}” is the name of a built-in provider; choose another prefix", prefix=prefix))
    return prefix


def _base_url(value: Any) -> str:
    url = _required_text(value, "baseUrl", MAX_URL).rstrip("/")
    if not url.lower().startswith(("http://", "https://")) or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise AccountError(tr("`baseUrl` must start with http:// or https://"))
    return url


def _api_format(value: Any) -> str:
    if value not in API_FORMATS:
        raise AccountError(tr("`apiType` must be one of {formats}", formats=", ".join(API_FORMATS)))
    return value


def _headers(value: Any) -> dict[str, str]:
    """Extra headers a custom endpoint sends: names a header can have, values on one line."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_HEADERS or \
            not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AccountError(tr("`headers` must be an object of string values"))
    headers: dict[str, str] = {}
    for name, content in value.items():
        name, content = name.strip(), content.strip()
        if not _HEADER_NAME.match(name):
            raise AccountError(tr("`headers`: “{name}” is not a valid header name", name=name[:60]))
        if name.lower() in _RESERVED_HEADERS:
            raise AccountError(tr("`headers`: “{name}” is set by the gateway and cannot be overridden", name=name))
        if name.lower() in (h.lower() for h in headers):
            raise AccountError(tr("`headers`: “{name}” is listed twice", name=name))
        if len(content) > MAX_SECRET or any(ord(ch) < 32 or ord(ch) == 127 for ch in content):
            raise AccountError(tr("`headers`: the value of “{name}” must be one line of at most {count} characters",
                                  name=name, count=MAX_SECRET))
        headers[name] = content
    return headers


def unsaved_endpoint(prefix: Any = None, name: Any = None, base_url: Any = None, api_format: Any = "openai",
                     headers: Any = None, api_key: Any = None) -> CustomEndpoint:
    """A custom endpoint checked as `create_endpoint` checks one, but not stored: to test it before adding it
    (`POST /api/providers/validate`). Takes `create_endpoint`'s arguments."""
    return CustomEndpoint(0, "unsaved", _required_text(name or prefix or "endpoint", "name"), _base_url(base_url),
                          _api_format(api_format), _headers(headers),
                          api_key.strip() if isinstance(api_key, str) and api_key.strip() else None)
