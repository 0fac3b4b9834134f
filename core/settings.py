"""Names, defaults and precedence of the settings the core reads."""

from __future__ import annotations

import ipaddress
import os

from core.i18n import tr

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 20128
PORT_ENV = "QUOTAGATE_PORT"

KEY_PORT = "gateway.port"
KEY_START_AT_LOGIN = "desktop.start_at_login"
KEY_PROXY = "gateway.proxy"  # {"global": url|None, "providers": {provider_id: url}}
KEY_REQUIRE_API_KEY = "gateway.require_api_key"
KEY_MAX_BODY_MB = "gateway.max_body_mb"
KEY_UPSTREAM_TIMEOUT = "gateway.upstream_read_timeout_s"
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


class SettingError(ValueError):
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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return default
    return value
