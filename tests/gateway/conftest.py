"""Gateway fixtures: the real services on a free port and a client for them (the fake provider is in
tests/fakes/fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from core.services import CoreServices


@pytest.fixture
async def services(data_dir: Path):
    running = CoreServices(data_dir, port=0)
    state = await running.start()
    assert state.running, state.error
    yield running
    await running.stop()


@pytest.fixture
async def client(services: CoreServices):
    async with httpx.AsyncClient(base_url=services.gateway_state.url, timeout=10) as http:
        yield http
