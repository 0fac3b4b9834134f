"""Names, defaults and precedence of the settings the core reads."""

from __future__ import annotations

import ipaddress
import math
import os
from typing import Any, Callable

from core.i18n import tr

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 20128
PORT_ENV = "QUOTAGATE_PORT"

KEY_PORT = "gateway.port"
KEY_START_AT_LOGIN = "desktop.start_at_login"
KEY_PROXY = "gateway.proxy"  # {"global": url|None, "providers": {provider_id: url}}
KEY_REQUIRE_API_KEY = "gateway.require_api_key"
KEY_MAX_BODY_MB = "gateway.max_body_mb"
KEY_UPSTREAM_TIMEOUT = "gateway.upstream_read_timeout_s"  # idle: the longest silence between two reads
KEY_CONNECT_TIMEOUT = "gateway.upstream_connect_timeout_s"
KEY_FIRST_BYTE_TIMEOUT = "gateway.upstream_first_byte_timeout_s"  # a stream's first bytes
KEY_ANSWER_TIMEOUT = "gateway.upstream_answer_timeout_s"  # a whole non-streamed answer
KEY_REQUIRE_LOGIN = "management.require_login"
KEY_MANAGEMENT_PASSWORD = "management.password"  # a salted scrypt hash, never the password
KEY_QUOTA_INTERVAL = "quota.refresh_interval"  # seconds
KEY_QUOTA_THRESHOLDS = "quota.thresholds"  # remaining-% thresholds, e.g. [50, 20]
KEY_QUOTA_NOTIFICATIONS = "quota.notifications"  # the notifier's fired/armed state
KEY_QUOTA_HIDDEN = "quota.hidden"  # provider ids or snapshot keys not to show
KEY_HIDE_PERSONAL = "quota.hide_personal"  # mask emails as well as keys
KEY_LANGUAGE = "ui.language"  # "auto", "en" or "zh"
KEY_BACKUP_KEEP_COUNT = "backup.keep_count"
KEY_BACKUP_KEEP_DAYS = "backup.keep_days"
KEY_BACKUP_MAX_IMPORT_MB = "backup.max_import_mb"
KEY_PRICE_OVERRIDES = "gateway.price_overrides"  # {"provider/model": {"input", "output", "cached_input"}}
KEY_ALLOWED_HOSTS = "gateway.allowed_hosts"  # extra Host names/Origins the loopback guard accepts
KEY_IP_FILTER = "gateway.ip_filter"  # {"allow": [address or CIDR], "block": [...]}; loopback always passes
KEY_RATE_LIMIT = "gateway.rate_limit"  # {"requestsPerMinute": n}: one limit for every client together
KEY_POLICIES = "gateway.policies"  # routing policies: blocked providers, allowed models, per key or for all
KEY_PROVIDER_MODELS = "gateway.provider_models"  # {provider id: [{"id", "name"}]} beyond the catalogue
KEY_REQUEST_LOG_DAYS = "usage.request_log_days"  # raw request rows older than this are pruned (rollups stay)
KEY_REQUEST_LOG_ROWS = "usage.request_log_rows"  # and beyond the newest this many
KEY_ACCOUNT_SELECTION = "gateway.account_selection"  # how several accounts of one provider take turns
# fill-first: the first account (by priority) until it fails or runs out; round-robin: in turn; least-used:
# the one with the fewest requests so far; headroom: the one with most quota left.
ACCOUNT_SELECTIONS = ("fill-first", "round-robin", "least-used", "headroom")
KEY_SYSTEM_PROMPT = "gateway.system_prompt"  # {"enabled", "prompt", "position": "prefix"|"suffix"}
KEY_THINKING_BUDGET = "gateway.thinking_budget"  # {"mode": "off"|"effort"|"budget", "effort", "budgetTokens", "models"}


class ConfigError(ValueError):
    """A configuration change Quotagate refuses; the message says what to fix. `status` is the HTTP status
    the management API answers with (the windows show the message). `key` names the refused setting or
    field when one is to blame, so a window can show the message beside that input."""

    status = 400
    key: str | None = None


class NotFound(ConfigError):
    status = 404


class Conflict(ConfigError):
    status = 409


class SettingError(ConfigError):
    """A setting has a value Quotagate cannot use; the message says which and what is allowed."""


def parse_port(value: object, source: str) -> int:
    """A TCP port from user input (CLI, environment, settings), or a `SettingError` naming `source`."""
    try:
        port = int(str(value).strip())
    except ValueError:
        raise SettingError(tr("{source}: {value} is not a port number (use 1-65535).", source=source,
                              value=repr(value))) from None
    if not 0 <= port <= 65535:
        raise SettingError(tr("{source}: {port} is out of range (use 1-65535).", source=source, port=port))
    return port


def port_from_environment() -> int | None:
    raw = os.environ.get(PORT_ENV, "").strip()
    return parse_port(raw, PORT_ENV) if raw else None


def port_from_environment_or_none() -> int | None:
    """Like `port_from_environment`, but an unusable value reads as unset (for display only)."""
    try:
        return port_from_environment()
    except SettingError:
        return None


def resolve_port(cli_port: int | None, stored_port: object) -> int:
    """Command line beats `QUOTAGATE_PORT`, which beats the saved setting, which beats 20128."""
    if cli_port is not None:
        return parse_port(cli_port, "--port")
    env_port = port_from_environment()
    if env_port is not None:
        return env_port
    if stored_port is not None:
        try:
            return parse_port(stored_port, "saved port setting")
        except SettingError:
            return DEFAULT_PORT
    return DEFAULT_PORT


def is_loopback_host(host: str) -> bool:
    """True for addresses only this machine can reach (then client API keys stay optional)."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def positive_number(value: object, default: float) -> float:
    """A stored number if it is a usable positive one, else the default (a bad setting never stops startup)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return default
    return value


# --- what each stored setting may hold -------------------------------------------------------------
# One rule per key, used at the door (every change goes through core.configuration) and again when a
# value is read back from a store (an older version, a restored backup or a hand edit may hold anything).

Rule = Callable[[Any, str], Any]  # (value, field name shown to the user) -> the value to store


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def number_in(low: float, high: float) -> Rule:
    def rule(value: Any, field: str) -> float | int:
        if not _is_number(value) or not low <= value <= high:
            raise SettingError(tr("{field} must be a number from {low:g} to {high:g}.", field=field, low=low,
                                  high=high))
        return value
    return rule


def whole_in(low: int, high: int) -> Rule:
    def rule(value: Any, field: str) -> int:
        if not _is_number(value) or int(value) != value or not low <= value <= high:
            raise SettingError(tr("{field} must be a whole number from {low} to {high}.", field=field, low=low,
                                  high=high))
        return int(value)
    return rule


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SettingError(tr("{field} must be true or false.", field=field))
    return value


def one_of(*choices: str) -> Rule:
    def rule(value: Any, field: str) -> str:
        if value not in choices:
            raise SettingError(tr("{field} must be one of {choices}.", field=field, choices=", ".join(choices)))
        return value
    return rule


def text_list(max_items: int, max_length: int = 200) -> Rule:
    def rule(value: Any, field: str) -> list[str]:
        if not isinstance(value, list) or len(value) > max_items or not all(
                isinstance(v, str) and 0 < len(v) <= max_length for v in value):
            raise SettingError(tr("{field} must be a list of at most {count} names.", field=field, count=max_items))
        return value
    return rule


def thresholds(value: Any, field: str) -> list[float]:
    """Remaining-% thresholds for notifications: 1 to 10 numbers between 0 and 100, highest first. Text
    as people type it ("50, 20 %") is read too."""
    if isinstance(value, str):
        value = _numbers_in(value, field)
    if not isinstance(value, list) or not 0 < len(value) <= 10 or not all(
            _is_number(v) and 0 < v < 100 for v in value):
        raise SettingError(tr("{field} must be 1 to 10 percentages between 0 and 100, e.g. 50, 20.", field=field))
    return sorted({float(v) for v in value}, reverse=True)


def _numbers_in(text: str, field: str) -> list[float]:
    numbers = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().rstrip("%").strip()
        if not part:
            continue
        try:
            numbers.append(float(part))
        except ValueError:
            raise SettingError(tr("{field}: “{part}” is not a number.", field=field, part=part[:40])) from None
    return numbers


def price_overrides(value: Any, field: str) -> dict[str, Any]:
    from core.providers import catalog  # the catalogue is data; imported late to keep this module a leaf

    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 1000:
        raise SettingError(tr("{field} must be an object such as {example}.", field=field,
                              example='{"openai/gpt-4.1": {"input": 2.0, "output": 8.0}}'))
    for key, fields in value.items():
        try:
            catalog.validate_price_override(key, fields)
        except ValueError as exc:
            raise SettingError(tr("{field}: {error}", field=field, error=exc)) from None
    return value


def allowed_hosts(value: Any, field: str) -> list[str]:
    """Host names (`gateway.example.com`, `host:port`) or origins (`https://tool.example`) the loopback guard
    accepts besides this machine's own, for users who put another server in front of the gateway."""
    rule = text_list(50, 253)
    names = rule(value, field)
    for name in names:
        if any(ch.isspace() or ch in "/\\@?#" for ch in name.partition("://")[2] or name):
            raise SettingError(tr("{field}: {name} is not a host name or an origin such as https://tool.example.",
                                  field=field, name=repr(name[:60])))
    return [name.strip().lower().rstrip("/") for name in names]


def proxies(value: Any, field: str) -> dict[str, Any]:
    """`{"global": url|None, "providers": {id: url}}`, every URL by the one proxy rule."""
    from core.net.proxies import proxy_url

    if not isinstance(value, dict) or set(value) - {"global", "providers"}:
        raise SettingError(tr("{field} must be an object with `global` and `providers`.", field=field))
    providers = value.get("providers") or {}
    if not isinstance(providers, dict) or len(providers) > 200:
        raise SettingError(tr("{field} must be an object with `global` and `providers`.", field=field))
    global_url = value.get("global")
    return {"global": proxy_url(global_url, f"{field}.global") if global_url else None,
            "providers": {key: proxy_url(url, f"{field}.providers.{key}") for key, url in providers.items()}}


SYSTEM_PROMPT_POSITIONS = ("prefix", "suffix")
MAX_SYSTEM_PROMPT = 20_000  # characters: a long house style fits, a pasted book does not
THINKING_MODES = ("off", "effort", "budget")
THINKING_EFFORTS = ("minimal", "low", "medium", "high")


def system_prompt(value: Any, field: str) -> dict[str, Any]:
    """The global system prompt: `{"enabled", "prompt", "position"}`; enabled needs some text."""
    if not isinstance(value, dict) or set(value) - {"enabled", "prompt", "position"}:
        raise SettingError(tr("{field} must be an object with `enabled`, `prompt` and `position`.", field=field))
    enabled = flag(value.get("enabled", False), f"{field}.enabled")
    prompt = value.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > MAX_SYSTEM_PROMPT or "\x00" in prompt:
        raise SettingError(tr("{field}.prompt must be text of at most {count} characters.", field=field,
                              count=MAX_SYSTEM_PROMPT))
    if enabled and not prompt.strip():
        raise SettingError(tr("{field}.prompt is empty; write the prompt or turn it off.", field=field))
    position = one_of(*SYSTEM_PROMPT_POSITIONS)(value.get("position", "prefix"), f"{field}.position")
    return {"enabled": enabled, "prompt": prompt, "position": position}


def thinking_budget(value: Any, field: str) -> dict[str, Any]:
    """The default thinking for requests that ask for none: `{"mode", "effort", "budgetTokens", "models"}`
    (`models`: name patterns such as `anthropic/*` it applies to; empty means every model)."""
    if not isinstance(value, dict) or set(value) - {"mode", "effort", "budgetTokens", "models"}:
        raise SettingError(tr("{field} must be an object with `mode`, `effort`, `budgetTokens` and `models`.",
                              field=field))
    return {"mode": one_of(*THINKING_MODES)(value.get("mode", "off"), f"{field}.mode"),
            "effort": one_of(*THINKING_EFFORTS)(value.get("effort", "medium"), f"{field}.effort"),
            "budgetTokens": whole_in(1024, 128_000)(value.get("budgetTokens", 8192), f"{field}.budgetTokens"),
            "models": text_list(100, 256)(value.get("models", []), f"{field}.models")}


def _gateway_rule(module: str, name: str) -> Rule:
    """A rule kept beside the code that applies the setting; imported late to keep this module a leaf."""
    def rule(value: Any, field: str) -> Any:
        import importlib

        return getattr(importlib.import_module(module), name)(value, field)
    return rule


RULES: dict[str, Rule] = {
    KEY_PORT: whole_in(1, 65535),
    KEY_START_AT_LOGIN: flag,
    KEY_PROXY: proxies,
    KEY_REQUIRE_API_KEY: flag,
    KEY_MAX_BODY_MB: number_in(0.001, 1024),
    KEY_UPSTREAM_TIMEOUT: number_in(1, 3600),
    KEY_CONNECT_TIMEOUT: number_in(1, 300),
    KEY_FIRST_BYTE_TIMEOUT: number_in(1, 3600),
    KEY_ANSWER_TIMEOUT: number_in(1, 7200),
    KEY_REQUIRE_LOGIN: flag,
    KEY_QUOTA_INTERVAL: number_in(30, 86400),
    KEY_QUOTA_THRESHOLDS: thresholds,
    KEY_QUOTA_HIDDEN: text_list(500),
    KEY_HIDE_PERSONAL: flag,
    KEY_LANGUAGE: one_of("auto", "en", "zh"),
    KEY_BACKUP_KEEP_COUNT: whole_in(1, 1000),
    KEY_BACKUP_KEEP_DAYS: number_in(1, 3650),
    KEY_BACKUP_MAX_IMPORT_MB: number_in(1, 65536),
    KEY_PRICE_OVERRIDES: price_overrides,
    KEY_ALLOWED_HOSTS: allowed_hosts,
    KEY_IP_FILTER: _gateway_rule("core.gateway.ip_filter", "ip_filter_setting"),
    KEY_RATE_LIMIT: _gateway_rule("core.gateway.gateway_rules", "rate_limit_setting"),
    KEY_POLICIES: _gateway_rule("core.gateway.policies", "policies_setting"),
    KEY_PROVIDER_MODELS: _gateway_rule("core.gateway.provider_models", "provider_models_setting"),
    KEY_REQUEST_LOG_DAYS: number_in(1, 3650),
    KEY_REQUEST_LOG_ROWS: whole_in(1000, 100_000_000),
    KEY_ACCOUNT_SELECTION: one_of(*ACCOUNT_SELECTIONS),
    KEY_SYSTEM_PROMPT: system_prompt,
    KEY_THINKING_BUDGET: thinking_budget,
}


def checked(key: str, value: Any, field: str | None = None) -> Any:
    """`value` as it should be stored under `key`, or a `SettingError` naming `field` (default: the key).
    None always means "unset" (the default applies)."""
    rule = RULES.get(key)
    if value is None or rule is None:
        return value
    try:
        return rule(value, field or key)
    except SettingError as exc:
        exc.key = key
        raise


def usable(key: str, value: Any) -> bool:
    try:
        checked(key, value)
    except SettingError:
        return False
    return True
