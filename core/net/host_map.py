"""`QUOTAGATE_HOST_MAP`: send requests meant for one host to another origin (fake servers, mirrors, proxies).

The value is a comma-separated list of `host=origin`, e.g.
`chatgpt.com=http://127.0.0.1:9001,api.z.ai=http://127.0.0.1:9001`. A key may carry a port (`host:8443=`)
to map only that port. Only scheme, host and port are replaced; the path and query of the request are kept,
so a fake server sees exactly the path the real service would.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from core.i18n import tr
from core.settings import SettingError

HOST_MAP_ENV = "QUOTAGATE_HOST_MAP"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HostMapError(SettingError):
    """`QUOTAGATE_HOST_MAP` cannot be understood; the message names the entry and the expected form."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port is None or self.port == _DEFAULT_PORTS.get(self.scheme):
            return host
        return f"{host}:{self.port}"


class HostMap:
    """An immutable host → origin table. Empty maps rewrite nothing and cost nothing."""

    def __init__(self, entries: Mapping[str, Origin] | None = None) -> None:
        self._entries = dict(entries or {})

    @classmethod
    def parse(cls, text: str, source: str = HOST_MAP_ENV) -> "HostMap":
        entries: dict[str, Origin] = {}
        for raw in text.replace(";", ",").split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, target = item.partition("=")
            key, target = key.strip().lower(), target.strip()
            if not sep or not key or not target:
                raise HostMapError(tr("{source}: {entry} is not host=origin (e.g. api.z.ai=http://127.0.0.1:9001).",
                                      source=source, entry=repr(item)))
            if "/" in key:
                raise HostMapError(tr("{source}: {host} must be a bare host name, without scheme or path.",
                                      source=source, host=repr(key)))
            entries[key] = _parse_origin(target, source)
        return cls(entries)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "HostMap":
        environ = os.environ if environ is None else environ
        return cls.parse(environ.get(HOST_MAP_ENV, ""))

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __repr__(self) -> str:
        return f"HostMap({', '.join(f'{k}={v.scheme}://{v.netloc}' for k, v in self._entries.items())})"

    def target_for(self, host: str, port: int | None = None, scheme: str | None = None) -> Origin | None:
        """The origin replacing `host` (a `host:port` entry beats a bare `host` entry), or None.

        `port` None means the default port of `scheme`.
        """
        if not self._entries:
            return None
        host = host.lower()
        if port is None and scheme is not None:
            port = _DEFAULT_PORTS.get(scheme.lower())
        if port is not None:
            exact = self._entries.get(f"{host}:{port}")
            if exact is not None:
                return exact
        return self._entries.get(host)

    def rewrite(self, url: str) -> str:
        """`url` with scheme, host and port replaced when its host is mapped; otherwise unchanged."""
        parts = urlsplit(url)
        if not parts.hostname:
            return url
        target = self.target_for(parts.hostname, parts.port, parts.scheme)
        if target is None:
            return url
        netloc = target.netloc
        if parts.username or parts.password:
            netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
        return urlunsplit((target.scheme, netloc, parts.path, parts.query, parts.fragment))


def _parse_origin(text: str, source: str) -> Origin:
    parts = urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise HostMapError(tr("{source}: {origin} is not an http:// or https:// origin.", source=source,
                              origin=repr(text)))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise HostMapError(tr("{source}: {origin} must be an origin only (scheme://host[:port]); the request path "
                              "is kept as it is.", source=source, origin=repr(text)))
    try:
        port = parts.port
    except ValueError:
        raise HostMapError(tr("{source}: {origin} has an invalid port.", source=source, origin=repr(text))) from None
    return Origin(parts.scheme, parts.hostname.lower(), port)
