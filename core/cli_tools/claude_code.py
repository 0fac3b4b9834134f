"""Claude Code: the `env` block of `settings.json` in its config folder (`CLAUDE_CONFIG_DIR`, else ~/.claude).
Claude Code speaks Anthropic Messages, which the gateway serves at `/v1/messages` under the bare base URL."""

from __future__ import annotations

from pathlib import Path

from core.cli_tools.base import TRIAL_MAX_TOKENS, Choice, Gateway, Tool, Trial, env_path, home, no_model
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

    def trial(self, prompt: str) -> Trial:
        env = self.read_value(self.config_path(), FORMAT, ("env",))
        env = env if isinstance(env, dict) else {}
        model = env.get("ANTHROPIC_MODEL")
        if not isinstance(model, str) or not model:
            raise no_model(self.name, self.config_path())
        # Claude Code sends ANTHROPIC_AUTH_TOKEN as a Bearer token, ANTHROPIC_API_KEY as x-api-key
        headers = {"anthropic-version": "2023-06-01"}
        if env.get("ANTHROPIC_AUTH_TOKEN"):
            headers["authorization"] = f"Bearer {env['ANTHROPIC_AUTH_TOKEN']}"
        elif env.get("ANTHROPIC_API_KEY"):
            headers["x-api-key"] = str(env["ANTHROPIC_API_KEY"])
        body = {"model": model, "max_tokens": TRIAL_MAX_TOKENS, "stream": True,
                "messages": [{"role": "user", "content": prompt}]}
        return Trial("anthropic", f"{str(env.get('ANTHROPIC_BASE_URL', '')).rstrip('/')}/v1/messages", headers,
                     body, model)
