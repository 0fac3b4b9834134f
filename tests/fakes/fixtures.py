"""Fixtures that play providers on loopback, shared by every test folder (registered in tests/conftest.py)."""

from __future__ import annotations

import pytest

from core.services import CoreServices
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
