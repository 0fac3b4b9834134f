"""The one way configuration changes: accounts, custom endpoints, aliases, proxies, client keys, settings.

Every change, from the management API or a window, goes the same four steps:
1. validate — types, ranges, finite numbers, sizes (the rules in `core.settings` and `AccountStore`); a
   refusal is a `ConfigError` whose message says what to fix and whose `status` the API answers with;
2. snapshot — the automatic, throttled backup before a change, so it can be undone;
3. one short write transaction, `BEGIN IMMEDIATE`: concurrent writers queue on SQLite's busy timeout
   instead of failing with "database is locked" when a read transaction tries to become a write;
4. reload — the running gateway, quota glance and backups use the result at once.

Callers never see a database exception: a lost race on a unique name is a `Conflict`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, TypeVar

from peewee import IntegrityError

from core import audit, settings
from core.gateway import client_keys, combos, key_limits
from core.gateway.accounts import Account, AccountStore, CustomEndpoint
from core.i18n import tr, translatable
from core.net.proxies import mask_proxy, proxy_url
from core.providers import catalog
from core.secrets import is_masked, mask
from core.settings import ConfigError, Conflict, NotFound
from core.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
Hook = Callable[[], Awaitable[None]]


class Configuration:
    def __init__(self, store: Callable[[], Store | None], accounts: AccountStore,
                 before_change: Callable[[str], Awaitable[None]], reload: Hook) -> None:
        self._store = store
        self.accounts = accounts
        self._before_change = before_change
        self._reload = reload

    # -- the four steps ---------------------------------------------------------------------------------
    async def change(self, reason: str, write: Callable[[], T], details: dict[str, Any] | None = None) -> T:
        """Snapshot, run `write` in one IMMEDIATE transaction off the loop, reload. `write` validates what
        needs the stored state and raises `ConfigError` to refuse (nothing is written then). The audit log
        gets `reason` and `details` (masked there) in the same transaction, from the caller's source."""
        store = self.store()
        await self._before_change(reason)
        entry = functools.partial(audit.record, reason, details, audit.current_source())  # the source is per task
        result = await asyncio.get_running_loop().run_in_executor(None, _write, store, write, entry)
        await self._reload()
        return result

    def store(self) -> Store:
        store = self._store()
        if store is None:
            raise ConfigError(tr("Quotagate is not running its store right now; try again in a moment."))
        return store

    # -- provider accounts ------------------------------------------------------------------------------
    async def add_account(self, provider: str, name: str | None = None, api_key: str | None = None,
                          priority: int = 0, active: bool = True, default_model: str | None = None,
                          proxy: str | None = None) -> Account:
        known = catalogue_provider(provider)
        if not api_key and known.auth != "none":
            where = tr(" (get one at {url})", url=known.key_url) if known.key_url else ""
            raise ConfigError(tr("`apiKey` is required for {provider}{where}.", provider=known.name, where=where))
        options = {"proxy": proxy} if proxy else {}
        return await self.change(translatable("adding a provider connection"), lambda: self.accounts.create_account(
            known.id, name if name is not None else known.name, api_key, priority, active, default_model, options),
            {"provider": known.id, "name": name, "apiKey": api_key, "proxy": proxy})

    async def update_account(self, account_id: int, changes: dict[str, Any], provider: Any = None) -> Account:
        """`changes` use AccountStore's names plus `proxy`; a masked key or proxy (as answers show them)
        means "keep the stored one"."""
        def write() -> Account:
            current = self.accounts.get_account(account_id)
            if current is None:
                raise _no_account(account_id)
            if provider is not None:
                named = catalog.get_provider(provider) if isinstance(provider, str) else None
                if (named.id if named else provider) != current.provider:
                    raise ConfigError(tr("An account cannot move to another provider (it is {provider}); add a "
                                         "new one instead.", provider=current.provider))
            wanted = dict(changes)
            if is_masked(wanted.get("api_key")):
                _kept(wanted.pop("api_key"), mask(current.api_key), "apiKey")
            if "proxy" in wanted:
                proxy = wanted.pop("proxy")
                if is_masked(proxy):
                    _kept(proxy, mask_proxy(current.options.get("proxy")), "proxy")
                else:
                    wanted["options"] = {"proxy": proxy or None}
            updated = self.accounts.update_account(account_id, **wanted)
            assert updated is not None
            return updated
        return await self.change(translatable("changing a provider connection"), write, {"id": account_id, **changes})

    async def delete_account(self, account_id: int) -> None:
        def write() -> None:
            if not self.accounts.delete_account(account_id):
                raise _no_account(account_id)
        await self.change(translatable("deleting a provider connection"), write, {"id": account_id})

    # -- custom endpoints -------------------------------------------------------------------------------
    async def add_endpoint(self, fields: dict[str, Any]) -> CustomEndpoint:
        """`fields`: prefix, name, base_url, api_format, headers, api_key (AccountStore.create_node's)."""
        headers = fields.get("headers")
        if isinstance(headers, dict) and any(is_masked(v) for v in headers.values()):
            raise ConfigError(tr("A header value looks masked; send the real value."))

        def write() -> CustomEndpoint:
            _free_prefix(self.accounts, fields.get("prefix"), None)
            return self.accounts.create_endpoint(**fields)
        return await self.change(translatable("adding a custom endpoint"), write, fields)

    async def update_endpoint(self, endpoint_id: int, changes: dict[str, Any]) -> CustomEndpoint:
        def write() -> CustomEndpoint:
            current = self.endpoint(endpoint_id)
            wanted = dict(changes)
            if "prefix" in wanted:
                _free_prefix(self.accounts, wanted["prefix"], endpoint_id)
            if is_masked(wanted.get("api_key")):
                _kept(wanted.pop("api_key"), mask(current.api_key), "apiKey")
            if isinstance(wanted.get("headers"), dict):
                wanted["headers"] = {name: _unmasked_header(name, value, current)
                                     for name, value in wanted["headers"].items()}
            updated = self.accounts.update_endpoint(endpoint_id, **wanted)
            assert updated is not None
            return updated
        return await self.change(translatable("changing a custom endpoint"), write, {"id": endpoint_id, **changes})

    async def delete_endpoint(self, endpoint_id: int) -> None:
        def write() -> None:
            if not self.accounts.delete_endpoint(endpoint_id):
                raise _no_endpoint(endpoint_id)
        await self.change(translatable("deleting a custom endpoint"), write, {"id": endpoint_id})

    def endpoint(self, endpoint_id: int) -> CustomEndpoint:
        """One custom endpoint, or NotFound (blocking: call it off the loop)."""
        found = next((n for n in self.accounts.endpoints() if n.id == endpoint_id), None)
        if found is None:
            raise _no_endpoint(endpoint_id)
        return found

    # -- combos -----------------------------------------------------------------------------------------
    async def add_combo(self, fields: dict[str, Any]) -> combos.Combo:
        name, strategy, targets, options = _combo_fields(fields)

        def write() -> combos.Combo:
            self._refuse_alias_name(name)
            return combos.save_combo(name, strategy, targets, options=options)
        return await self.change(translatable("adding a combo"), write, {"name": name, "strategy": strategy})

    async def update_combo(self, combo_id: int, fields: dict[str, Any]) -> combos.Combo:
        def write() -> combos.Combo:
            current = combos.get_combo(combo_id)
            name, strategy, targets, options = _combo_fields({**current.public(), **fields})
            self._refuse_alias_name(name)
            return combos.save_combo(name, strategy, targets, combo_id, options)
        return await self.change(translatable("changing a combo"), write, {"id": combo_id, **fields})

    async def delete_combo(self, combo_id: int) -> None:
        await self.change(translatable("deleting a combo"), lambda: combos.delete_combo(combo_id), {"id": combo_id})

    def _refuse_alias_name(self, name: str) -> None:
        if name in self.accounts.aliases():
            raise Conflict(f"“{name}” is already a model alias; a combo needs a name of its own.")

    # -- aliases ----------------------------------------------------------------------------------------
    async def set_alias(self, alias: Any, model: Any) -> tuple[bool, dict[str, str]]:
        """Returns whether the alias is new, and every alias after the change."""
        alias, model = _text(alias, "alias", 200), _text(model, "model", 400)
        if any(ch.isspace() for ch in alias):
            raise ConfigError(tr("`alias` must not contain spaces."))
        if alias == model:
            raise ConfigError(tr("`alias` and `model` are the same; an alias must point elsewhere."))

        def write() -> tuple[bool, dict[str, str]]:
            aliases = self.accounts.aliases()
            if any(combo.name == alias for combo in combos.load_combos()):
                raise Conflict(f"“{alias}” is already a combo; an alias needs a name of its own.")
            _check_alias_target(model, aliases, {n.prefix for n in self.accounts.endpoints()})
            self.accounts.set_alias(alias, model)
            return alias not in aliases, self.accounts.aliases()
        return await self.change(translatable("setting a model alias"), write, {"alias": alias, "model": model})

    async def delete_alias(self, alias: str) -> None:
        def write() -> None:
            if not self.accounts.delete_alias(alias):
                raise NotFound(tr("No alias “{alias}”; GET /api/models/alias lists them.", alias=alias[:200]))
        await self.change(translatable("deleting a model alias"), write, {"alias": alias})

    # -- proxies ----------------------------------------------------------------------------------------
    async def set_proxies(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """`wanted` may hold `global` (URL, None, or masked = keep) and/or `providers` ({id or custom
        endpoint prefix: URL or masked}); the providers given replace the stored ones."""
        if set(wanted) - {"global", "providers"}:
            raise ConfigError(tr("Unknown field(s) {fields}; send `global` and/or `providers`.",
                                 fields=", ".join(sorted(set(wanted) - {"global", "providers"}))))
        if wanted.get("providers") is not None and not isinstance(wanted["providers"], dict):
            raise ConfigError(tr("`providers` must be an object of provider id to proxy URL."))
        for name, url in [("global", wanted.get("global")),
                          *((f"providers.{k}", v) for k, v in (wanted.get("providers") or {}).items())]:
            if url not in (None, "") and not is_masked(url):
                try:
                    proxy_url(url, name)  # refused before anything is snapshotted or written
                except ConfigError as exc:
                    exc.key = name  # the window shows it beside that proxy
                    raise

        def write() -> dict[str, Any]:
            store = self.store()
            current = stored_proxies(store)
            result = dict(current)
            if "global" in wanted:
                result["global"] = _restored(wanted["global"], current["global"], "global")
            if "providers" in wanted:
                prefixes = {endpoint.prefix for endpoint in self.accounts.endpoints()}
                providers: dict[str, str] = {}
                for key, url in (wanted["providers"] or {}).items():
                    target = _proxy_target(key, prefixes)
                    restored = _restored(url, current["providers"].get(target), f"providers.{key}")
                    if restored:
                        providers[target] = restored
                result["providers"] = providers
            result = settings.checked(settings.KEY_PROXY, result, "proxy")
            store.set_setting(settings.KEY_PROXY, result)
            return result
        return await self.change(translatable("changing proxy settings"), write, {"proxy": wanted})

    # -- client API keys --------------------------------------------------------------------------------
    async def create_key(self, name: Any, limits: Any = None) -> client_keys.CreatedKey:
        name = _text(name, "name", 100) if name not in (None, "") else "unnamed"
        checked = key_limits.parse_limits(limits)
        return await self.change(translatable("creating an API key"), lambda: client_keys.create_key(name, checked),
                                 {"name": name, "limits": checked.public()})

    async def update_key(self, key_id: int, name: Any = None, limits: Any = None) -> None:
        """A key's name and limits (models, requests per minute, daily and monthly USD budgets)."""
        name = _text(name, "name", 100) if name not in (None, "") else None
        checked = key_limits.parse_limits(limits) if limits is not None else None

        def write() -> None:
            if not client_keys.update_key(key_id, name, checked):
                raise NotFound(tr("No active API key with id {id}; GET /api/keys lists them.", id=key_id))
        await self.change(translatable("changing an API key"), write,
                          {"id": key_id, "name": name, "limits": checked.public() if checked else None})

    async def revoke_key(self, key_id: int) -> None:
        def write() -> None:
            if not client_keys.revoke_key(key_id):
                raise NotFound(tr("No active API key with id {id}; GET /api/keys lists them.", id=key_id))
        await self.change(translatable("revoking an API key"), write, {"id": key_id})

    # -- settings ---------------------------------------------------------------------------------------
    async def update_settings(self, values: dict[str, Any], fields: dict[str, str] | None = None,
                              reason: str = translatable("changing settings")) -> dict[str, Any]:
        """Store several settings at once, each checked by its rule first (`fields` names them in refusals:
        the API's camelCase names, say). None unsets a setting. Returns what was stored."""
        fields = fields or {}
        checked = {key: settings.checked(key, value, fields.get(key, key)) for key, value in values.items()}
        unknown = [key for key in checked if key not in settings.RULES]
        if unknown:
            raise ConfigError(tr("Unknown setting(s) {names}.", names=", ".join(sorted(unknown))))

        def write() -> dict[str, Any]:
            store = self.store()
            for key, value in checked.items():
                store.set_setting(key, value)
            return checked
        stored = await self.change(reason, write, {"settings": checked})
        self.store().settings_changed(stored)  # committed: the store's own upkeep may use it now
        return stored

    async def edit_setting(self, key: str, edit: Callable[[Any], Any], reason: str,
                           details: dict[str, Any] | None = None) -> Any:
        """Read-modify-write one setting in one transaction (lists such as the routing policies): `edit` gets
        the stored value and returns the new one (or raises `ConfigError`), which its rule checks."""
        def write() -> Any:
            store = self.store()
            value = settings.checked(key, edit(store.get_setting(key)))
            store.set_setting(key, value)
            return value
        return await self.change(reason, write, details)

    async def set_budget(self, key_id: Any, period: Any, limit: Any) -> key_limits.KeyLimits:
        """A key's daily or monthly USD budget (the reference's `/api/usage/budget`): the same limit the API
        keys window edits. `limit` None removes it."""
        if period not in ("daily", "monthly"):
            raise ConfigError(tr("`period` must be \"daily\" or \"monthly\"."))
        if isinstance(key_id, bool) or not isinstance(key_id, int):
            raise ConfigError(tr("`keyId` must be the id of an API key (GET /api/keys lists them)."))
        field = "dailyUsd" if period == "daily" else "monthlyUsd"

        def write() -> key_limits.KeyLimits:
            current = next((k for k in client_keys.list_keys() if k["id"] == key_id and not k["revoked"]), None)
            if current is None:
                raise NotFound(tr("No active API key with id {id}; GET /api/keys lists them.", id=key_id))
            try:
                wanted = key_limits.parse_limits({**current["limits"], field: limit})
            except ConfigError:
                raise ConfigError(tr("`limit` must be a positive amount in USD (at most {most:,.0f}), or null to "
                                     "remove the budget.", most=key_limits.MAX_USD)) from None
            client_keys.update_key(key_id, None, wanted)
            return wanted
        return await self.change(translatable("changing an API key's budget"), write,
                                 {"id": key_id, "period": period, "limit": limit})

    async def set_login(self, require: bool, record: dict[str, Any] | None,
                        has_password: Callable[[Any], bool], missing_password: str) -> None:
        """Turn the management login on (with a new password hash, or the stored one) or off (forgetting the
        password, so turning it on again asks for a new one)."""
        def write() -> None:
            store = self.store()
            if require:
                if record is not None:
                    store.set_setting(settings.KEY_MANAGEMENT_PASSWORD, record)
                elif not has_password(store.get_setting(settings.KEY_MANAGEMENT_PASSWORD)):
                    raise ConfigError(missing_password)
                store.set_setting(settings.KEY_REQUIRE_LOGIN, True)
            else:
                store.set_setting(settings.KEY_REQUIRE_LOGIN, False)
                store.set_setting(settings.KEY_MANAGEMENT_PASSWORD, None)
        await self.change(translatable("changing the login setting"), write, {"requireLogin": require})

    # -- at start -----------------------------------------------------------------------------------------
    def repair(self) -> None:
        """At start and after a restore (blocking): settings no rule accepts are reported and removed, so
        their defaults apply; secrets earlier versions stored in plaintext are sealed."""
        store = self.store()
        with store.db.atomic("IMMEDIATE"):
            for key in store.unusable_settings():
                log.warning("Setting %s held a value Quotagate cannot use; it was replaced by the default", key)
                store.set_setting(key, None)
            proxies = store.get_setting(settings.KEY_PROXY)
            if proxies is not None:
                store.set_setting(settings.KEY_PROXY, proxies)  # sealed from now on
            sealed = self.accounts.seal_plaintext()
        if sealed:
            log.info("Sealed the proxy sign-ins and header values of %d accounts and endpoints", sealed)


def _write(store: Store, write: Callable[[], T], entry: Callable[[], None] = lambda: None) -> T:
    try:
        with store.db.atomic("IMMEDIATE"):
            result = write()
            entry()
            return result
    except IntegrityError:  # lost a race with a concurrent change of the same name
        raise Conflict(tr("That name is already taken by an entry saved a moment ago; reload and choose "
                          "another.")) from None


def stored_proxies(store: Store) -> dict[str, Any]:
    """The proxy setting in its canonical shape (blocking)."""
    value = store.get_setting(settings.KEY_PROXY)
    value = value if isinstance(value, dict) else {}
    providers = value.get("providers") if isinstance(value.get("providers"), dict) else {}
    return {"global": value.get("global") or None,
            "providers": {k: v for k, v in providers.items() if isinstance(v, str) and v}}


def catalogue_provider(value: Any) -> catalog.Provider:
    """The catalogue provider a request names, or a refusal listing the valid ids."""
    provider = catalog.get_provider(value) if isinstance(value, str) and value.strip() else None
    if provider is None:
        shown = repr(value[:60]) if isinstance(value, str) else tr("missing")
        raise ConfigError(tr("Unknown provider {provider}. Valid providers: {valid}. For any other OpenAI- or "
                             "Anthropic-compatible server add a custom endpoint (POST /api/provider-nodes).", provider=shown,
                             valid=", ".join(p.id for p in catalog.providers())))
    return provider


def _text(value: Any, name: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(tr("`{field}` must be a non-empty string", field=name))
    if len(value.strip()) > max_length:
        raise ConfigError(tr("`{field}` is longer than {count} characters", field=name, count=max_length))
    return value.strip()


def _kept(sent: str, stored_masked: str, name: str) -> None:
    """A masked value sent back must be the stored one's mask: it means "keep it"."""
    if sent != stored_masked:
        raise ConfigError(tr("`{field}` looks masked but is not the stored value; send the full value, or leave it "
                             "out to keep the stored one.", field=name))


def _unmasked_header(name: str, value: Any, current: CustomEndpoint) -> Any:
    if not is_masked(value):
        return value
    stored = current.headers.get(name)
    _kept(value, mask(stored) if stored is not None else "", f"headers.{name}")
    return stored


def _free_prefix(accounts: AccountStore, prefix: Any, endpoint_id: int | None) -> None:
    if not isinstance(prefix, str):
        return  # AccountStore refuses it with the right words
    prefix = prefix.strip().lower()
    provider = catalog.get_provider(prefix)
    if provider is not None:
        raise Conflict(tr("Prefix “{prefix}” already names the catalogue provider {provider}; choose another "
                          "prefix for the custom endpoint.", prefix=prefix, provider=provider.name))
    if any(n.prefix == prefix and n.id != endpoint_id for n in accounts.endpoints()):
        raise Conflict(tr("Prefix “{prefix}” is already used by another custom endpoint; choose another.",
                          prefix=prefix))


def _check_alias_target(model: str, aliases: dict[str, str], prefixes: set[str]) -> None:
    """The target must name a provider Quotagate knows (`prefix/model`) or another alias."""
    if model in aliases:
        return
    prefix, slash, rest = model.partition("/")
    if slash and rest and (catalog.get_provider(prefix) or prefix.lower() in prefixes):
        return
    known = sorted({p.prefix for p in catalog.providers()} | prefixes)
    raise ConfigError(tr("`model` must be provider/model (e.g. openai/gpt-4.1) with a known prefix ({prefixes}) or "
                         "an existing alias; got “{model}”.", prefixes=", ".join(known), model=model[:200]))


def _proxy_target(key: str, prefixes: set[str]) -> str:
    provider = catalog.get_provider(key)
    if provider is not None:
        return provider.id
    if key.strip().lower() in prefixes:
        return key.strip().lower()
    valid = ", ".join([p.id for p in catalog.providers()] + sorted(prefixes))
    raise ConfigError(tr("`providers` names unknown provider “{provider}”. Valid: {valid}.", provider=key[:60],
                         valid=valid))


def _restored(value: Any, stored: str | None, name: str) -> Any:
    if not is_masked(value):
        return value or None
    _kept(value, mask_proxy(stored), name)
    return stored


def _no_account(account_id: int) -> NotFound:
    return NotFound(tr("No provider account with id {id}; GET /api/providers lists them.", id=account_id))


def _no_endpoint(endpoint_id: int) -> NotFound:
    return NotFound(tr("No custom endpoint with id {id}; GET /api/provider-nodes lists them.", id=endpoint_id))


def _combo_fields(fields: dict[str, Any]) -> tuple[str, str, tuple[combos.Target, ...], combos.ComboOptions]:
    """A combo as the API and the windows send it: `name`, `strategy`, `models`, `accountSelection`,
    `quotaThreshold`."""
    return (combos.combo_name(fields.get("name")), combos.strategy_name(fields.get("strategy")),
            combos.targets_of(fields.get("models")), combos.options_of(fields))
