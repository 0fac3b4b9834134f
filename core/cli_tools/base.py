"""What every connectable tool has: where its settings live, whether it is installed, what it needs set to use
the gateway, and how to read back where it points now."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.cli_tools.files import Edit, ToolFileError
from core.cli_tools.formats import MISSING, Format, FormatError
from core.i18n import tr

PLACEHOLDER_KEY = "quotagate"  # a loopback gateway that requires no key accepts any; tools insist on one
TRIAL_MAX_TOKENS = 64  # a "Try it" answer needs a few words, not a bill


@dataclass(frozen=True)
class Gateway:
    """The running gateway as a tool sees it."""

    base_url: str  # http://127.0.0.1:20128, no trailing slash
    requires_key: bool = False
    models: tuple[str, ...] = field(default_factory=tuple)  # routable chat models and combos
    key_hashes: frozenset[str] = frozenset()  # SHA-256 of the active client keys (see client_keys.hash_key)


@dataclass(frozen=True)
class Choice:
    """What the user asked for when connecting."""

    model: str | None = None
    small_model: str | None = None
    api_key: str | None = None

    @property
    def key(self) -> str:
        return self.api_key or PLACEHOLDER_KEY


def home() -> Path:
    return Path(os.path.expanduser("~"))


def env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def xdg_config_home() -> Path:
    return env_path("XDG_CONFIG_HOME") or home() / ".config"


class Tool:
    """One tool. Subclasses name their files and the values they need."""

    id: str = ""
    name: str = ""
    commands: tuple[str, ...] = ()

    def config_dir(self) -> Path:
        raise NotImplementedError

    def config_path(self) -> Path:
        raise NotImplementedError

    def edits(self, gateway: Gateway, choice: Choice) -> list[Edit]:
        raise NotImplementedError

    def pointing_at(self) -> tuple[str | None, str | None]:
        """(base URL, model) the tool's settings name now; (None, None) when they name none."""
        raise NotImplementedError

    def trial(self, prompt: str) -> Trial:
        """The request the tool would send for `prompt` with its settings as they are now."""
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------------------

    def command_path(self) -> tuple[str | None, str | None]:
        for command in self.commands:
            found = shutil.which(command)
            if found:
                return command, found
        return (self.commands[0] if self.commands else None), None

    def detect(self, gateway: Gateway) -> dict[str, Any]:
        command, command_path = self.command_path()
        has_config = self.config_dir().is_dir() or self.config_path().is_file()
        runnable = bool(command_path) and os.access(command_path, os.X_OK)
        if runnable:
            reason = None
        elif has_config:
            reason = tr("Its settings folder exists, but `{command}` is not on PATH.", command=command)
        else:
            reason = tr("`{command}` is not on PATH and it has no settings folder.", command=command)
        state: dict[str, Any] = {
            "tool": self.id, "name": self.name, "installed": has_config or bool(command_path),
            "runnable": runnable, "command": command, "commandPath": command_path,
            "runtimeMode": "path" if command_path else "none", "reason": reason,
            "configPath": str(self.config_path()), "baseUrl": None, "model": None, "connected": False,
            "error": None,
        }
        try:
            base_url, model = self.pointing_at()
        except ToolFileError as exc:
            state["error"] = exc.message
        else:
            state.update(baseUrl=base_url, model=model, connected=same_gateway(base_url, gateway.base_url))
        return state

    def read_value(self, path: Path, fmt: Format, key: tuple[str, ...]) -> Any:
        """One value of a settings file, None when absent; a file that does not parse is reported."""
        if path.is_symlink() and not path.exists():
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolFileError(tr("{path} cannot be read: {error}", path=path, error=exc)) from None
        try:
            value = fmt.get(text, key)
        except FormatError as exc:
            raise ToolFileError(tr("{path} is not valid {format} (line {line}: {error}); it was not changed. "
                                   "Fix the file, then try again.", path=path, format=fmt.name, line=exc.line,
                                   error=exc)) from None
        return None if value is MISSING else value


@dataclass(frozen=True)
class Trial:
    """One request exactly as a tool would make it: its dialect, URL, auth header and model name."""

    dialect: str  # "anthropic", "responses", "openai" (Chat Completions) or "gemini"
    url: str
    headers: dict[str, str]
    body: dict[str, Any]
    model: str


def no_model(name: str, path: Path) -> ToolFileError:
    return ToolFileError(tr("{name} has no model set in {path}, so it would ask for its own default model, which "
                            "the gateway may not know. Choose a model and connect again.", name=name, path=path))


def same_gateway(url: str | None, base_url: str) -> bool:
    """Whether a configured URL is this gateway's (with or without `/v1`, `/v1beta`, a trailing slash)."""
    if not isinstance(url, str):
        return False
    url = url.strip().rstrip("/")
    for suffix in ("/v1beta", "/v1"):
        url = url.removesuffix(suffix)
    return url == base_url.rstrip("/")
