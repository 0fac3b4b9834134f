"""Proxy URLs: the one rule for what Quotagate accepts as a proxy, and how a proxy's sign-in is kept out of
what people see. The management API, the windows and stored settings all go through `proxy_url`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from core.i18n import tr
from core.secrets import mask_url_credentials
from core.settings import SettingError

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_PROXY_URL_LENGTH = 2000


def proxy_url(value: Any, field: str | None = None) -> str:
    """A usable proxy URL (scheme lower-cased, no trailing slash; `host:port` without a scheme is read as
    http://), or `SettingError` saying what to fix and naming `field` when given. The message never repeats
    the URL: it may hold a password."""
    def refuse(message: str) -> SettingError:
        return SettingError(tr("{field}: {error}", field=f"`{field}`", error=message) if field else message)

    if not isinstance(value, str) or not value.strip():
        raise refuse(tr("Enter the proxy address, e.g. http://127.0.0.1:8080."))
    text = value.strip()
    if len(text) > MAX_PROXY_URL_LENGTH:
        raise refuse(tr("The proxy address is longer than {count} characters.", count=MAX_PROXY_URL_LENGTH))
    if "://" not in text:
        text = "http://" + text  # `localhost:3128`, as curl and the *_PROXY variables read it
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise refuse(tr("'{scheme}://' proxies are not supported: use http://, https://, socks5:// "
                        "or socks5h://.", scheme=parts.scheme[:20]))
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise refuse(tr("A proxy address is just scheme://host:port, without a path."))
    if not parts.hostname:
        raise refuse(tr("The proxy address needs a host, e.g. http://127.0.0.1:8080."))
    try:
        port = parts.port
    except ValueError:
        raise refuse(tr("The proxy port must be a number from 1 to 65535.")) from None
    if port == 0:
        raise refuse(tr("The proxy port must be a number from 1 to 65535."))
    if port is None and scheme.startswith("socks"):
        raise refuse(tr("Add the SOCKS proxy's port, e.g. socks5://127.0.0.1:1080."))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise refuse(tr("A proxy address is just scheme://host:port, without a path."))
    return f"{scheme}://{parts.netloc}"


def split_credentials(url: str) -> tuple[str, str, str]:
    """`scheme://user:pw@host:port` -> (`scheme://host:port`, user, pw)."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url.strip(), "", ""
    host = parts.netloc.rpartition("@")[2]
    bare = f"{parts.scheme}://{host}" + (parts.path if parts.path not in ("", "/") else "")
    return bare, unquote(parts.username or ""), unquote(parts.password or "")


def join_credentials(url: str, user: str, password: str) -> str:
    if not user and not password:
        return url
    scheme, _, rest = url.partition("://")
    sign_in = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"{scheme}://{sign_in}@{rest}"


def mask_proxy(url: str | None) -> str:
    """What people see of a proxy URL: never its sign-in (the program's one rule for that)."""
    return mask_url_credentials(url.strip()) if url else ""


def scrub_proxy(text: str, url: str | None) -> str:
    """`text` (an error message, say) with the proxy's sign-in replaced, in case the network echoed it."""
    if not url:
        return text
    _, user, password = split_credentials(url)
    text = text.replace(url, mask_proxy(url))
    for secret in (password, quote(password, safe="")):
        if secret:
            text = text.replace(secret, "•••")
    return text
