"""The wire formats the gateway speaks, one module each, all behind the `common.Dialect` interface.

Names are the format ids used by the catalogue and custom endpoints: `openai` (Chat Completions),
`anthropic` (Messages), `responses` (OpenAI Responses), `gemini` (generateContent), `ollama` (/api/chat).
"""

from __future__ import annotations

import importlib

from core.gateway.dialects.common import Dialect

_MODULES = {"openai": "openai_chat", "anthropic": "anthropic", "responses": "responses", "gemini": "gemini",
            "ollama": "ollama"}
FORMATS = tuple(_MODULES)
_loaded: dict[str, Dialect] = {}


def get(name: str) -> Dialect:
    """The dialect of wire format `name`; KeyError for a format the gateway does not speak."""
    dialect = _loaded.get(name)
    if dialect is None:
        module = importlib.import_module(f"core.gateway.dialects.{_MODULES[name]}")
        dialect = _loaded[name] = module.DIALECT
    return dialect


def for_path(path: str) -> Dialect:
    """The dialect a client speaks on `path`, so that its errors come back in that dialect's shape."""
    if path.startswith("/v1/messages"):
        return get("anthropic")
    if path.startswith("/v1/responses"):
        return get("responses")
    if path.startswith("/v1beta") or (path.startswith("/v1/models/") and ":" in path):
        return get("gemini")
    if path.startswith(("/api/chat", "/v1/api/chat", "/api/tags", "/api/version", "/api/show")):
        return get("ollama")
    return get("openai")
