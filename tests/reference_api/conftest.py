"""The reference API's management endpoints, against the real services on a free port and fake providers on
loopback (the gateway fixtures of tests/gateway, the fakes of tests/fakes)."""

from __future__ import annotations

import httpx
import pytest

from core.services import CoreServices
from tests.gateway.conftest import client, services  # noqa: F401  (fixtures)
from tests.integration.test_serve_command import served  # noqa: F401  (fixture: `quotagate serve` running)
from tests.gateway.test_management_guard import _non_loopback_address

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def network_gateway(data_dir):
    """The gateway listening on every address, and this machine's network address to reach it from."""
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    running = CoreServices(data_dir, host="0.0.0.0", port=0)
    state = await running.start()
    assert state.running, state.error
    yield running, address
    await running.stop()


async def chat(base_url: str, key: str | None = None, body: dict | None = None, **headers: str) -> httpx.Response:
    if key:
        headers["authorization"] = f"Bearer {key}"
    async with httpx.AsyncClient(base_url=base_url, timeout=10, trust_env=False) as http:
        return await http.post("/v1/chat/completions", json=body or CHAT, headers=headers)


@pytest.fixture
def two_providers(upstream, monkeypatch: pytest.MonkeyPatch):
    """OpenAI and Mistral (both OpenAI-format) played by the one fake upstream; returns a helper that adds an
    account to each and returns their ids."""
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.openai.com={upstream.url},api.mistral.ai={upstream.url}")

    async def add(running: CoreServices, openai_key: str = "sk-ok", mistral_key: str = "sk-ok") -> tuple[int, int]:
        openai = running.accounts.create_account("openai", "OpenAI main", openai_key)
        mistral = running.accounts.create_account("mistral", "Mistral main", mistral_key)
        await running.reload_gateway_config()
        return openai.id, mistral.id

    return add
