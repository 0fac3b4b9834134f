"""Fixtures that play providers on loopback, shared by every test folder (registered in tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

from core.services import CoreServices
from tests.fakes.anthropic_upstream import ANTHROPIC_KEY, AnthropicUpstream
from tests.fakes.gemini_upstream import GEMINI_KEY, GeminiUpstream
from tests.fakes.openai_tools_upstream import OPENAI_KEY, OpenAIToolsUpstream
from tests.fakes.openai_upstream import FakeUpstream
from tests.fakes.server import ThreadedServer


@pytest.fixture
def upstream():
    fake = FakeUpstream()
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def openai_via_fake(upstream, monkeypatch: pytest.MonkeyPatch):
    """Route the catalogue's OpenAI host to the fake upstream; return a helper adding accounts."""
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.openai.com={upstream.url}")

    async def add(services: CoreServices, *keys: str) -> None:
        for priority, key in enumerate(keys):
            services.accounts.create_account("openai", f"account-{priority}", key, priority=priority)
        await services.reload_gateway_config()

    return add


# --- strict fakes of the three upstream wire formats (the conformance matrix, tests/conformance) ----------


@pytest.fixture
def openai_strict_upstream():
    fake = OpenAIToolsUpstream()
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def anthropic_upstream():
    fake = AnthropicUpstream()
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def gemini_upstream():
    fake = GeminiUpstream()
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def upstreams_via_fakes(openai_strict_upstream, anthropic_upstream, gemini_upstream,
                        monkeypatch: pytest.MonkeyPatch):
    """Route the catalogue's OpenAI, Anthropic and Gemini hosts to the strict fakes (every other known
    host stays on the dead loopback port); return a helper adding one account per provider with the key
    its fake expects. The fakes are reachable as `.fakes["openai" | "anthropic" | "gemini"]`."""
    fakes = {"openai": openai_strict_upstream, "anthropic": anthropic_upstream, "gemini": gemini_upstream}
    hosts = {"api.openai.com": openai_strict_upstream.url, "api.anthropic.com": anthropic_upstream.url,
             "generativelanguage.googleapis.com": gemini_upstream.url}
    entries = [entry for entry in os.environ.get("QUOTAGATE_HOST_MAP", "").split(",")
               if entry and entry.split("=", 1)[0] not in hosts]
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(entries + [f"{host}={url}" for host, url in hosts.items()]))
    keys = {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY, "gemini": GEMINI_KEY}

    class Helper:
        def __init__(self) -> None:
            self.fakes = fakes

        async def __call__(self, services: CoreServices) -> None:
            for provider, key in keys.items():
                services.accounts.create_account(provider, f"{provider}-conformance", key)
            await services.reload_gateway_config()

    return Helper()
