"""The OAuth client a Google sign-in belongs to, read from the user's own install of the tool that made it.

Google refreshes a token only for the OAuth client it was issued to, and that client belongs to the tool
(OpenCode's Antigravity plugin, the Gemini CLI). Quotagate ships none of its own: it reads the client,
read-only, from the installed tool's JavaScript, where it is a plain constant — unless the user sets one
in the environment (`QUOTAGATE_ANTIGRAVITY_CLIENT_ID`, `QUOTAGATE_GEMINI_CLIENT_ID`, with `_CLIENT_SECRET`).

Files are scanned once per version (path, size and modification time) and the answer is cached, so a
refresh round does not read megabytes of JavaScript again.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.quota.google import OAuthClient
from core.quota.locations import Locations

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64 * 1024 * 1024  # the Gemini CLI's bundle chunks are ~16 MB; anything far larger is not it
_SYSTEM_NODE_ROOTS = (Path("/usr/local/lib/node_modules"), Path("/usr/lib/node_modules"),
                      Path("/opt/homebrew/lib/node_modules"), Path("/home/linuxbrew/.linuxbrew/lib/node_modules"))
_HOMEBREW_CELLARS = (Path("/opt/homebrew/Cellar"), Path("/usr/local/Cellar"), Path("/home/linuxbrew/.linuxbrew/Cellar"))


@dataclass(frozen=True)
class InstalledClient:
    """Where a tool keeps its OAuth client: the constants that hold it, and the files that may define them."""

    tool: str
    env_prefix: str
    id_constant: str
    secret_constant: str
    files: Callable[[Locations], Iterator[Path]]

    def find(self, locations: Locations) -> OAuthClient | None:
        """The client from the environment, else from the first installed file that defines it."""
        configured = OAuthClient.from_environment(self.env_prefix, locations.environ)
        if configured is not None:
            return configured
        for path in self.files(locations):
            client = _client_in(path, self.id_constant, self.secret_constant)
            if client is not None:
                log.info("Using the OAuth client of %s found in %s", self.tool, locations.display(path))
                return client
        return None


# --- reading a file -----------------------------------------------------------------------------------
_cache: dict[tuple[str, str, int, int], OAuthClient | None] = {}
_cache_lock = threading.Lock()


def _client_in(path: Path, id_constant: str, secret_constant: str) -> OAuthClient | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file() or stat.st_size > MAX_FILE_BYTES:
        return None
    key = (str(path), id_constant, stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    client = _parse_client(path, id_constant, secret_constant)
    with _cache_lock:
        _cache[key] = client
    return client


def _parse_client(path: Path, id_constant: str, secret_constant: str) -> OAuthClient | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if id_constant.encode() not in data:  # most bundle chunks: skip without decoding
        return None
    text = data.decode("utf-8", errors="replace")
    client_id = _constant(text, id_constant, r"[\w.-]+\.apps\.googleusercontent\.com")
    if client_id is None:
        return None
    return OAuthClient(client_id, _constant(text, secret_constant, r"[\w-]+") or "")


def _constant(text: str, name: str, value: str) -> str | None:
    """`NAME = "value"` or `NAME = 'value'` (also `export const NAME = …`, `var NAME=…` in bundles)."""
    match = re.search(rf"\b{re.escape(name)}\s*=\s*(['\"])({value})\1", text)
    return match.group(2) if match else None


# --- where the tools are installed ----------------------------------------------------------------------
def _antigravity_files(locations: Locations) -> Iterator[Path]:
    """OpenCode installs npm plugins in its cache: per spec in `packages/<spec>/node_modules` (current
    releases; the newest first), in `node_modules` directly (releases before that); plugins a user installs
    by hand live in the config folder's or a global `node_modules`."""
    cache = locations.cache_home / "opencode"
    inside = Path("opencode-antigravity-auth", "dist", "src", "constants.js")
    yield from _newest_first(cache.glob(f"packages/*/node_modules/{inside.as_posix()}"))
    yield cache / "node_modules" / inside
    yield locations.opencode_config / "node_modules" / inside
    for root in _node_roots(locations):
        yield root / inside


def _newest_first(paths: Iterable[Path]) -> list[Path]:
    def modified(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(paths, key=modified, reverse=True)


def _gemini_files(locations: Locations) -> Iterator[Path]:
    """The published Gemini CLI is a bundle (`bundle/*.js`); older installs have the core package's
    `code_assist/oauth2.js`, nested or hoisted."""
    oauth2 = Path("@google", "gemini-cli-core", "dist", "src", "code_assist", "oauth2.js")
    for package in _gemini_packages(locations):
        yield package / "node_modules" / oauth2
        yield package.parent.parent / oauth2
        bundle = package / "bundle"
        if bundle.is_dir():
            yield from sorted(bundle.glob("*.js"))


def _gemini_packages(locations: Locations) -> Iterator[Path]:
    found = shutil.which("gemini", path=locations.env("PATH"))
    if found:
        package = _package_of(Path(found).resolve(), "@google/gemini-cli")
        if package is not None:
            yield package
    for root in _node_roots(locations):
        yield root / "@google" / "gemini-cli"
    for cellar in _HOMEBREW_CELLARS:
        for version in sorted((cellar / "gemini-cli").glob("*"), reverse=True):
            yield version / "libexec" / "lib" / "node_modules" / "@google" / "gemini-cli"


def _node_roots(locations: Locations) -> Iterator[Path]:
    """Global node_modules folders of npm (its prefix, user prefixes, nvm), Bun and the system."""
    home = locations.home
    prefix = locations.env("NPM_CONFIG_PREFIX")
    if prefix:
        yield Path(prefix) / "lib" / "node_modules"
    yield home / ".npm-global" / "lib" / "node_modules"
    yield home / ".local" / "lib" / "node_modules"
    yield from sorted((home / ".nvm" / "versions" / "node").glob("*/lib/node_modules"), reverse=True)
    yield home / ".bun" / "install" / "global" / "node_modules"
    yield from _SYSTEM_NODE_ROOTS


def _package_of(start: Path, name: str) -> Path | None:
    """The folder of the npm package `name` that contains `start` (the `gemini` command's real file)."""
    for folder in start.parents:
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                if json.loads(manifest.read_text(encoding="utf-8")).get("name") == name:
                    return folder
            except (OSError, ValueError, AttributeError):
                return None
    return None


ANTIGRAVITY = InstalledClient("OpenCode's Antigravity plugin", "QUOTAGATE_ANTIGRAVITY", "ANTIGRAVITY_CLIENT_ID",
                              "ANTIGRAVITY_CLIENT_SECRET", _antigravity_files)
GEMINI_CLI = InstalledClient("the Gemini CLI", "QUOTAGATE_GEMINI", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET",
                             _gemini_files)
