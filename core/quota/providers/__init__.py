"""The quota providers, one module each, in the order the tray and the CLI list them."""

from __future__ import annotations

from typing import Any

from core.quota.providers.antigravity import AntigravityProvider
from core.quota.providers.base import FetchContext, QuotaProvider
from core.quota.providers.claude import ClaudeProvider
from core.quota.providers.copilot import CopilotProvider
from core.quota.providers.gemini import GeminiProvider
from core.quota.providers.openai import OpenAIProvider
from core.quota.providers.zhipu import ZAI, ZHIPU, ZhipuProvider


def default_providers() -> list[QuotaProvider[Any]]:
    return [OpenAIProvider(), ClaudeProvider(), ZhipuProvider(ZHIPU), ZhipuProvider(ZAI), AntigravityProvider(),
            GeminiProvider(), CopilotProvider()]


PROVIDER_IDS: tuple[str, ...] = tuple(p.id for p in default_providers())

__all__ = ["PROVIDER_IDS", "FetchContext", "QuotaProvider", "default_providers"]
