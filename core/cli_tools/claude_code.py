"""Claude Code: the `env` block of `settings.json` in its config folder (`CLAUDE_CONFIG_DIR`, else ~/.claude).
Claude Code speaks Anthropic Messages, which the gateway serves at `/v1/messages` under the bare base URL."""

from __future__ import annotations

from pathlib import Path

from core.cli_tools.base import Choice, Gateway, Tool, env_path, home
from core.cli_tools.files import Edit
from core.cli_tools.formats import JsonFormat

FORMAT = JsonFormat()


class ClaudeCode(Tool):
    id = "claude"
    name = "Claude Code"
    commands = ("claude",)

    def config_dir(self) -> Path:
        return env_path("CLAUDE_CONFIG_DIR") or home() / ".claude"

    def config_path(self) -> Path:
        return self.config_dir() / "settings.json"

    def edits(self, gateway: Gateway, choice: Choice) -> list[Edit]:
        changes = [(("env", "ANTHROPIC_BASE_URL"), gateway.base_url),
                   (("env", "ANTHROPIC_AUTH_TOKEN"), choice.key)]
        if choice.model:
            changes += [(("env", "ANTHROPIC_MODEL"), choice.model),
                        (("env", "ANTHROPIC_SMALL_FAST_MODEL"), choice.small_model or choice.model)]
        return [Edit(self.config_path(), FORMAT, changes)]

    def pointing_at(self) -> tuple[str | None, str | None]:
        env = self.read_value(self.config_path(), FORMAT, ("env",))
        if not isinstance(env, dict):
            return None, None
        return env.get("ANTHROPIC_BASE_URL"), env.get("ANTHROPIC_MODEL")
