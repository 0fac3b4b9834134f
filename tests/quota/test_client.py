"""The shared outbound client: host map on every request, 10 s default timeout, Quotagate's User-Agent."""

from __future__ import annotations

import pytest

from core import __version__
from core.net import DEFAULT_TIMEOUT, HostMapError, create_client
from tests.quota.fakes import FakeServer, Reply


async def test_requests_for_a_mapped_host_reach_the_mapped_origin_with_path_and_query(
        fake: FakeServer) -> None:
    fake.reply("GET", "/backend-api/wham/usage", json={"ok": True})
    async with create_client() as client:
        response = await client.get("https://chatgpt.com/backend-api/wham/usage?verbose=1")
    assert response.json() == {"ok": True}
    [request] = fake.received("/backend-api/wham/usage")
    assert request.query == {"verbose": ["1"]}


async def test_the_mapped_request_says_which_host_it_was_meant_for(fake: FakeServer) -> None:
    fake.reply("GET", "/x", json={})
    async with create_client() as client:
        await client.get("https://api.z.ai/x")
    [request] = fake.received("/x")
    assert request.host == "api.z.ai"
    assert request.headers["host"] == fake.url.removeprefix("http://")


async def test_every_request_carries_the_quotagate_user_agent(fake: FakeServer) -> None:
    fake.reply("GET", "/ua", json={})
    async with create_client() as client:
        await client.get("https://api.github.com/ua")
    assert fake.received("/ua")[0].headers["user-agent"] == f"Quotagate/{__version__}"


async def test_redirects_to_a_mapped_host_are_mapped_too(fake: FakeServer) -> None:
    fake.reply("GET", "/final", json={"landed": True})
    fake.reply("GET", "/start", Reply(302, json={}, headers={"Location": "https://api.github.com/final"}))
    async with create_client(follow_redirects=True) as client:
        response = await client.get("https://api.github.com/start")
    assert response.json() == {"landed": True}
    assert [(r.path, r.host) for r in fake.requests] == [("/start", "api.github.com"), ("/final", "api.github.com")]


def test_the_default_timeout_is_ten_seconds() -> None:
    client = create_client()
    assert DEFAULT_TIMEOUT == 10.0
    assert client.timeout.read == 10.0 and client.timeout.connect == 10.0


def test_a_malformed_host_map_stops_client_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", "chatgpt.com")
    with pytest.raises(HostMapError):
        create_client()
