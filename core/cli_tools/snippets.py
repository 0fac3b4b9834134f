"""Copy-paste settings for editors that keep their model settings in their own UI or files Quotagate does not
edit: Cursor, Cline, Continue and Zed all speak OpenAI Chat Completions to `<gateway>/v1`."""

from __future__ import annotations

import json
from typing import Any

from core.cli_tools.base import Choice, Gateway
from core.i18n import tr


def snippets(gateway: Gateway, choice: Choice) -> list[dict[str, Any]]:
    v1 = f"{gateway.base_url}/v1"
    model = choice.model or (gateway.models[0] if gateway.models else "openai/gpt-4.1")
    key = choice.key
    continue_yaml = (f"models:\n  - name: Quotagate {model}\n    provider: openai\n    model: {model}\n"
                     f"    apiBase: {v1}\n    apiKey: {key}\n    roles: [chat, edit, apply]\n")
    zed = {"language_models": {"openai_compatible": {"Quotagate": {
        "api_url": v1, "available_models": [{"name": model, "max_tokens": 200000}]}}}}
    return [
        {"tool": "cursor", "name": "Cursor", "format": "text",
         "where": tr("Cursor: Settings › Models › API Keys: turn on “Override OpenAI Base URL”, then add the model "
                     "under Models."),
         "snippet": f"OpenAI API Key: {key}\nOverride OpenAI Base URL: {v1}\nModel: {model}\n"},
        {"tool": "cline", "name": "Cline", "format": "text",
         "where": tr("Cline: Settings › API Provider › OpenAI Compatible."),
         "snippet": f"Base URL: {v1}\nAPI Key: {key}\nModel ID: {model}\n"},
        {"tool": "continue", "name": "Continue", "format": "yaml",
         "where": tr("Continue: add this to ~/.continue/config.yaml."),
         "snippet": continue_yaml},
        {"tool": "zed", "name": "Zed", "format": "json",
         "where": tr("Zed: merge this into settings.json; enter the key when Zed asks for it ({key}).", key=key),
         "snippet": json.dumps(zed, indent=2) + "\n"},
    ]
