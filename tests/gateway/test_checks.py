"""The 'Test' button: success with latency, or the provider's error in plain words."""

from __future__ import annotations

import pytest

from core.gateway.accounts import Account, CustomEndpoint
from core.gateway.checks import check_connection, check_proxy
from core.gateway.upstream import UpstreamClients


@pytest.fixture
async def clients():
    pool = UpstreamClients()
    yield pool
    await pool.aclose()


def account(key: str) -> Account:
    return Account(1, "openai", "work", key)


async def test_a_working_account_reports_latency_and_models(clients, upstream, openai_via_fake) -> None:
    result = await check_connection(account("sk-ok"), clients)
    assert result.ok and result.latency_ms is not None
    assert result.models == ["fake-model"]
    assert "Connected in" in result.message


async def test_a_rejected_key_is_explained(clients, upstream, openai_via_fake) -> None:
    result = await check_connection(account("sk-status-401"), clients)
    assert not result.ok and result.status == 401
    assert result.message.startswith("The provider rejected the API key (HTTP 401)")


async def test_an_unreachable_endpoint_is_explained(clients) -> None:
    endpoint = CustomEndpoint(1, "down", "Down", "http://127.0.0.1:9/v1", "openai", {}, None)
    result = await check_connection(endpoint, clients)
    assert not result.ok and "Could not reach http://127.0.0.1:9/v1" in result.message


async def test_a_cloud_account_without_a_key_is_explained_without_a_request(clients) -> None:
    result = await check_connection(account(""), clients)
    assert not result.ok and "API key" in result.message


async def test_a_proxy_that_does_not_exist_is_explained(clients) -> None:
    result = await check_proxy("http://127.0.0.1:9", clients)
    assert not result.ok and "proxy" in result.message


async def test_a_malformed_proxy_url_is_explained(clients) -> None:
    result = await check_proxy("ftp://nowhere", clients)
    assert not result.ok and "not usable" in result.message
