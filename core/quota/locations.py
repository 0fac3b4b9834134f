"""Where other tools keep the credentials Quotagate reads, following HOME, XDG_* and CODEX_HOME.

Resolved from an environment mapping on every call (not cached at import) so that a changed `HOME` or
`CODEX_HOME` — and every test's private HOME — is honoured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class Locations:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    def env(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    @property
    def home(self) -> Path:
        return Path(self.env("HOME") or self.env("USERPROFILE") or Path.home())

    @property
    def config_home(self) -> Path:
        return _absolute(self.env("XDG_CONFIG_HOME")) or self.home / ".config"

    @property
    def cache_home(self) -> Path:
        return _absolute(self.env("XDG_CACHE_HOME")) or self.home / ".cache"

    @property
    def data_home(self) -> Path:
        return _absolute(self.env("XDG_DATA_HOME")) or self.home / ".local" / "share"

    # --- per tool -------------------------------------------------------------------------------------
    @property
    def codex_auth(self) -> Path:
        return (_absolute(self.env("CODEX_HOME")) or self.home / ".codex") / "auth.json"

    @property
    def opencode_auth(self) -> Path:
        return self.data_home / "opencode" / "auth.json"

    @property
    def opencode_config(self) -> Path:
        return _absolute(self.env("OPENCODE_CONFIG_DIR")) or self.config_home / "opencode"

    @property
    def claude_credentials(self) -> Path:
        return (_absolute(self.env("CLAUDE_CONFIG_DIR")) or self.home / ".claude") / ".credentials.json"

    @property
    def gemini_dir(self) -> Path:
        return self.home / ".gemini"

    @property
    def copilot_config(self) -> Path:
        return self.config_home / "github-copilot"

    def display(self, path: Path) -> str:
        """`~/.codex/auth.json` rather than the full path: shorter, and no user name in screenshots."""
        try:
            return "~/" + path.relative_to(self.home).as_posix()
        except ValueError:
            return str(path)


def _absolute(value: str | None) -> Path | None:
    """XDG says relative values are invalid and must be ignored."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else None
