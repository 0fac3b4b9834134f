"""OpenCode: a `quotagate` entry in the `provider` list of its global config (`OPENCODE_CONFIG` names the file;
else `opencode.jsonc` or `opencode.json` in `OPENCODE_CONFIG_DIR`, else in $XDG_CONFIG_HOME/opencode), using
the OpenAI-compatible AI SDK provider against `<gateway>/v1` and listing the gateway's models. OpenCode reads
its config as JSON with comments, so comments are kept."""

from __future__ import annotations

from pathlib import Path

from core.cli_tools.base import TRIAL_MAX_TOKENS, Choice, Gateway, Tool, Trial, env_path, no_model, xdg_config_home
from core.cli_tools.files import Edit
from core.cli_tools.formats import JsonFormat

FORMAT = JsonFormat(comments=True)
PROVIDER_ID = "quotagate"
MAX_MODELS = 300  # OpenCode shows every one in its picker


class OpenCode(Tool):
    id = "opencode"
    name = "OpenCode"
    commands = ("opencode",)

    def config_dir(self) -> Path:
        return env_path("OPENCODE_CONFIG_DIR") or xdg_config_home() / "opencode"

    def config_path(self) -> Path:
        explicit = env_path("OPENCODE_CONFIG")
        if explicit is not None:
            return explicit
        folder = self.config_dir()
        for name in ("opencode.jsonc", "opencode.json"):
            if (folder / name).exists():
                return folder / name
        return folder / "opencode.json"

    def edits(self, gateway: Gateway, choice: Choice) -> list[Edit]:
        names = list(gateway.models[:MAX_MODELS])
        for wanted in (choice.model, choice.small_model):
            if wanted and wanted not in names:
                names.append(wanted)
        provider = {"npm": "@ai-sdk/openai-compatible", "name": "Quotagate",
                    "options": {"baseURL": f"{gateway.base_url}/v1", "apiKey": choice.key},
                    "models": {name: {"name": name} for name in names}}
        changes = [(("provider", PROVIDER_ID), provider)]
        if choice.model:
            changes.append((("model",), f"{PROVIDER_ID}/{choice.model}"))
        if choice.small_model:
            changes.append((("small_model",), f"{PROVIDER_ID}/{choice.small_model}"))
        return [Edit(self.config_path(), FORMAT, changes)]

    def pointing_at(self) -> tuple[str | None, str | None]:
        path = self.config_path()
        providers = self.read_value(path, FORMAT, ("provider",))
        model = self.read_value(path, FORMAT, ("model",))
        model = model if isinstance(model, str) else None
        if not isinstance(providers, dict):
            return None, model
        wanted = model.split("/", 1)[0] if model and "/" in model else PROVIDER_ID
        entry = providers.get(wanted) if isinstance(providers.get(wanted), dict) else providers.get(PROVIDER_ID)
        options = entry.get("options") if isinstance(entry, dict) else None
        base_url = options.get("baseURL") if isinstance(options, dict) else None
        if model and model.startswith(f"{PROVIDER_ID}/"):
            model = model.split("/", 1)[1]
        return (base_url if isinstance(base_url, str) else None), model

    def trial(self, prompt: str) -> Trial:
        path = self.config_path()
        chosen = self.read_value(path, FORMAT, ("model",))
        if not isinstance(chosen, str) or "/" not in chosen:
            raise no_model(self.name, path)
        provider_id, model = chosen.split("/", 1)  # OpenCode names models "<provider>/<model id>"
        entry = self.read_value(path, FORMAT, ("provider", provider_id))
        options = entry.get("options") if isinstance(entry, dict) else None
        options = options if isinstance(options, dict) else {}
        headers = {"authorization": f"Bearer {options['apiKey']}"} if options.get("apiKey") else {}
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": TRIAL_MAX_TOKENS,
                "stream": True, "stream_options": {"include_usage": True}}
        return Trial("openai", f"{str(options.get('baseURL', '')).rstrip('/')}/chat/completions", headers, body,
                     model)
