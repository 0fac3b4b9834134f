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
from core.providers import catalog
from core.secrets import SecretBox, SecretUnreadable, mask, mask_url_credentials
from core.store.models import ModelAlias, ProviderAccount, ProviderNode

log = logging.getLogger(__name__)

API_FORMATS = ("openai", "anthropic")
_PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


class AccountError(ValueError):
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

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id, "provider": self.provider, "name": self.name, "apiKey": mask(self.api_key),
            "priority": self.priority, "isActive": self.active, "defaultModel": self.default_model,
            "proxy": mask_url_credentials(self.options.get("proxy")), "needsKey": self.needs_key,
        }


@dataclass(frozen=True)
class Node:
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
            secret=self._seal(api_key), priority=_integer(priority, "priority"), active=bool(active),
            default_model=default_model or None, options=json.dumps(options or {}),
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
            row.active = bool(changes["active"])
        if "default_model" in changes:
            row.default_model = changes["default_model"] or None
        if "options" in changes:
            merged = {**json.loads(row.options or "{}"), **(changes["options"] or {})}
            row.options = json.dumps({k: v for k, v in merged.items() if v is not None})
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
    def create_node(self, prefix: str, name: str, base_url: str, api_format: str = "openai",
                    headers: dict[str, str] | None = None, api_key: str | None = None) -> Node:
        now = time.time()
        if ProviderNode.get_or_none(ProviderNode.prefix == _node_prefix(prefix)) is not None:
            raise AccountError(tr("another custom endpoint already uses the prefix “{prefix}”",
                                    prefix=_node_prefix(prefix)))
        row = ProviderNode.create(
            prefix=_node_prefix(prefix), name=_required_text(name, "name"), base_url=_base_url(base_url),
            api_format=_api_format(api_format), headers=json.dumps(_headers(headers)),
            secret=self._seal(api_key), created_at=now, updated_at=now,
        )
        return self._node(row)

    def update_node(self, node_id: int, **changes: Any) -> Node | None:
        row = ProviderNode.get_or_none(ProviderNode.id == node_id)
        if row is None:
            return None
        if "prefix" in changes:
            row.prefix = _node_prefix(changes["prefix"])
        if "name" in changes:
            row.name = _required_text(changes["name"], "name")
        if "base_url" in changes:
            row.base_url = _base_url(changes["base_url"])
        if "api_format" in changes:
            row.api_format = _api_format(changes["api_format"])
        if "headers" in changes:
            row.headers = json.dumps(_headers(changes["headers"]))
        if "api_key" in changes and changes["api_key"] is not None:
            row.secret = self._seal(changes["api_key"])
        row.updated_at = time.time()
        row.save()
        return self._node(row)

    def delete_node(self, node_id: int) -> bool:
        return ProviderNode.delete().where(ProviderNode.id == node_id).execute() > 0

    def nodes(self) -> list[Node]:
        return [self._node(row) for row in ProviderNode.select().order_by(ProviderNode.prefix)]

    # -- aliases --------------------------------------------------------------------------------------
    def set_alias(self, alias: str, target: str) -> None:
        ModelAlias.insert(alias=_required_text(alias, "alias"), target=_required_text(target, "model")) \
            .on_conflict_replace().execute()

    def delete_alias(self, alias: str) -> bool:
        return ModelAlias.delete().where(ModelAlias.alias == alias).execute() > 0

    def aliases(self) -> dict[str, str]:
        return {row.alias: row.target for row in ModelAlias.select().order_by(ModelAlias.alias)}

    # -- secrets --------------------------------------------------------------------------------------
    def _seal(self, secret: str | None) -> bytes | None:
        if secret is None or secret == "":
            return None
        if not isinstance(secret, str):
            raise AccountError(tr("apiKey must be a string"))
        return self.box.encrypt(secret.strip())

    def _open(self, sealed: bytes | None) -> tuple[str | None, bool]:
        if sealed is None:
            return None, False
        try:
            return self.box.decrypt(sealed), False
        except SecretUnreadable:
            return None, True

    def _account(self, row: ProviderAccount) -> Account:
        key, unreadable = self._open(row.secret)
        try:
            options = json.loads(row.options or "{}")
        except ValueError:
            options = {}
        return Account(row.id, row.provider, row.name, key, row.priority, bool(row.active),
                       row.default_model, options if isinstance(options, dict) else {}, unreadable)

    def _node(self, row: ProviderNode) -> Node:
        key, unreadable = self._open(row.secret)
        try:
            headers = json.loads(row.headers or "{}")
        except ValueError:
            headers = {}
        return Node(row.id, row.prefix, row.name, row.base_url, row.api_format, headers, key, unreadable)


def _required_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AccountError(tr("{field} must be a non-empty string", field=what))
    return value.strip()


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise AccountError(tr("{field} must be a whole number", field=what))
    return int(value)


def _node_prefix(value: Any) -> str:
    prefix = _required_text(value, "prefix").lower()
    if not _PREFIX_PATTERN.match(prefix):
        raise AccountError(tr("prefix may use a-z, 0-9, '.', '_' and '-' (up to 32 characters)"))
    if catalog.get_provider(prefix) is not None:
        raise AccountError(tr("“{prefix}” is the name of a built-in provider; choose another prefix", prefix=prefix))
    return prefix


def _base_url(value: Any) -> str:
    url = _required_text(value, "baseUrl").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise AccountError(tr("baseUrl must start with http:// or https://"))
    return url


def _api_format(value: Any) -> str:
    if value not in API_FORMATS:
        raise AccountError(tr("apiType must be one of {formats}", formats=", ".join(API_FORMATS)))
    return value


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise AccountError(tr("headers must be an object of string values"))
    return value
