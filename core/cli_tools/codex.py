"""Codex CLI: `$CODEX_HOME/config.toml` (default ~/.codex). A `[model_providers.quotagate]` pointing at
`<gateway>/v1` with `wire_api = "responses"` (the only wire API current Codex accepts), selected as
`model_provider`. A client key goes in the provider's `experimental_bearer_token`, which Codex sends as a
Bearer token; without one no key is configured (a loopback gateway needs none)."""

from __future__ import annotations

import os
from pathlib import Path

from core.cli_tools.base import TRIAL_MAX_TOKENS, Choice, Gateway, Tool, Trial, env_path, home, no_model
from core.cli_tools.files import Edit
from core.cli_tools.formats import TomlFormat

FORMAT = TomlFormat()
PROVIDER_ID = "quotagate"


class Codex(Tool):
    id = "codex"
    name = "Codex CLI"
    commands = ("codex",)

    def config_dir(self) -> Path:
        return env_path("CODEX_HOME") or home() / ".codex"

    def config_path(self) -> Path:
        return self.config_dir() / "config.toml"

    def edits(self, gateway: Gateway, choice: Choice) -> list[Edit]:
        provider = {"name": "Quotagate", "base_url": f"{gateway.base_url}/v1", "wire_api": "responses"}
        if choice.api_key:
            provider["experimental_bearer_token"] = choice.api_key
        changes = [(("model_provider",), PROVIDER_ID)]
        if choice.model:
            changes.append((("model",), choice.model))
        changes.append((("model_providers", PROVIDER_ID), provider))
        return [Edit(self.config_path(), FORMAT, changes)]

    def pointing_at(self) -> tuple[str | None, str | None]:
        path = self.config_path()
        selected = self.read_value(path, FORMAT, ("model_provider",))
        if not isinstance(selected, str):
            return None, None
        base_url = self.read_value(path, FORMAT, ("model_providers", selected, "base_url"))
        model = self.read_value(path, FORMAT, ("model",))
        return (base_url if isinstance(base_url, str) else None), (model if isinstance(model, str) else None)

    def trial(self, prompt: str) -> Trial:
        path = self.config_path()
        base_url, model = self.pointing_at()
        if not model:
            raise no_model(self.name, path)
        provider = self.read_value(path, FORMAT, ("model_providers", self.read_value(path, FORMAT,
                                                                                     ("model_provider",))))
        provider = provider if isinstance(provider, dict) else {}
        # Codex sends the provider's bearer token, else the value of the variable its `env_key` names
        token = provider.get("experimental_bearer_token") or os.environ.get(str(provider.get("env_key") or ""))
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body = {"model": model, "instructions": "You are Codex, a coding agent.", "stream": True, "store": False,
                "max_output_tokens": TRIAL_MAX_TOKENS,
                "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}]}
        return Trial("responses", f"{(base_url or '').rstrip('/')}/responses", headers, body, model)
