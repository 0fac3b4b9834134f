"""Gemini CLI: it has no base-URL setting of its own, but the Google GenAI SDK it is built on reads
`GOOGLE_GEMINI_BASE_URL`, and Gemini CLI loads `.env` from its config folder (`GEMINI_CLI_HOME`/.gemini, else
~/.gemini). So the connection is that `.env` (base URL, `GEMINI_API_KEY`, `GEMINI_MODEL`) plus
`security.auth.selectedType = "gemini-api-key"` in its `settings.json` — the base URL only applies to API-key
sign-in, not to "Login with Google". Gemini CLI loads only the first `.env` it finds, so a project's own `.env`
(or `.gemini/.env`) takes precedence over this one inside that project."""

from __future__ import annotations

from pathlib import Path

from core.cli_tools.base import TRIAL_MAX_TOKENS, Choice, Gateway, Tool, Trial, env_path, home, no_model
from core.cli_tools.files import Edit
from core.cli_tools.formats import DotenvFormat, JsonFormat

ENV_FORMAT = DotenvFormat()
SETTINGS_FORMAT = JsonFormat(comments=True)


class GeminiCli(Tool):
    id = "gemini"
    name = "Gemini CLI"
    commands = ("gemini",)

    def config_dir(self) -> Path:
        return (env_path("GEMINI_CLI_HOME") or home()) / ".gemini"

    def config_path(self) -> Path:
        return self.config_dir() / ".env"

    def settings_path(self) -> Path:
        return self.config_dir() / "settings.json"

    def edits(self, gateway: Gateway, choice: Choice) -> list[Edit]:
        env = [(("GOOGLE_GEMINI_BASE_URL",), gateway.base_url), (("GEMINI_API_KEY",), choice.key)]
        if choice.model:
            env.append((("GEMINI_MODEL",), choice.model))
        return [Edit(self.config_path(), ENV_FORMAT, env),
                Edit(self.settings_path(), SETTINGS_FORMAT, [(("security", "auth", "selectedType"),
                                                              "gemini-api-key")])]

    def pointing_at(self) -> tuple[str | None, str | None]:
        return (self.read_value(self.config_path(), ENV_FORMAT, ("GOOGLE_GEMINI_BASE_URL",)),
                self.read_value(self.config_path(), ENV_FORMAT, ("GEMINI_MODEL",)))

    def trial(self, prompt: str) -> Trial:
        path = self.config_path()
        base_url, model = self.pointing_at()
        if not model:
            raise no_model(self.name, path)
        key = self.read_value(path, ENV_FORMAT, ("GEMINI_API_KEY",))
        headers = {"x-goog-api-key": key} if key else {}  # how the GenAI SDK sends an API key
        body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}],
                "generationConfig": {"maxOutputTokens": TRIAL_MAX_TOKENS}}
        url = f"{(base_url or '').rstrip('/')}/v1beta/models/{model}:streamGenerateContent?alt=sse"
        return Trial("gemini", url, headers, body, model)
